"""Who may use the console: log-in, log-out and one's own password (`routes`), the staff
accounts and the audit log (`accounts`), and the guard every request passes first: the
logged-in user, the session's lifetime, the CSRF token and the login-required redirect
(`guard`)."""

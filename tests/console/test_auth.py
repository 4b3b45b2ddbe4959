"""Log-in, log-out and the guard every request passes (`console.auth`) with Flask's test client:
a fresh database per test, accounts hashed with Argon2id; the lock after failed log-ins, the
per-address throttle, CSRF, sessions that end (log-out, a password reset, idle time, absolute
lifetime), the console's secret and its response headers."""

from __future__ import annotations

import os
import re
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from test_escalation_pages import escalate

from clinic import escalations
from clinic.settings import SettingsError
from console import create_app
from console.auth import accounts, guard

PASSWORD = "correct horse battery staple"


def csrf(client, path="/login"):
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def log_in(client, username="sam", password=PASSWORD, environ=None):
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf(client)},
        environ_base=environ or {},
    )


def test_a_wrong_password_is_refused_and_five_lock_the_account(client):
    for _ in range(accounts.MAX_FAILURES):
        assert log_in(client, password="wrong password!!").status_code == 401
    reply = log_in(client)  # the right password, but locked now
    assert reply.status_code == 401 and "locked" in reply.get_data(as_text=True)


def test_a_locked_account_and_a_wrong_password_get_the_same_answer(client, engine):
    wrong = log_in(client, password="wrong password!!").get_data(as_text=True)
    for _ in range(accounts.MAX_FAILURES):
        log_in(client, password="wrong password!!")
    locked = log_in(client).get_data(as_text=True)
    assert accounts.REFUSED in wrong and accounts.REFUSED in locked
    failed = [row for row in accounts.audit_entries(engine) if row["action"] == "login_failed"]
    assert len(failed) == accounts.MAX_FAILURES + 2


def test_a_name_no_account_has_is_not_kept_in_the_audit_log(client, engine):
    """Someone who types their password into the username field leaves no trace of it."""
    typed = "correct horse battery staple"
    assert log_in(client, username=typed, password="").status_code in (400, 401)
    assert log_in(client, username=typed, password="anything at all").status_code == 401
    entries = accounts.audit_entries(engine)
    assert not [row for row in entries if typed in str(row)]
    failed = [row["username"] for row in entries if row["action"] == "login_failed"]
    assert failed and set(failed) == {accounts.UNKNOWN_USERNAME}
    log_in(client, password="wrong password!!")
    assert accounts.audit_entries(engine)[0]["username"] == "sam"


def test_guesses_sent_in_parallel_each_count(app, engine):
    """The counter was read, then Argon2 ran, then failures + 1 written: parallel guesses
    counted once, so a guesser could try far more than five passwords."""
    barrier = threading.Barrier(12)

    def guess(_):
        barrier.wait()
        try:
            accounts.authenticate(engine, "sam", "wrong password!!")
        except accounts.AccountError:
            pass

    with ThreadPoolExecutor(12) as pool:
        list(pool.map(guess, range(12)))
    with pytest.raises(accounts.AccountError):
        accounts.authenticate(engine, "sam", PASSWORD)  # locked by now


def test_log_ins_from_one_address_are_throttled(app):
    client = app.test_client()
    statuses = [
        log_in(
            client, password="wrong password!!", environ={"REMOTE_ADDR": "203.0.113.9"}
        ).status_code
        for _ in range(14)
    ]
    assert statuses[:10] == [401] * 10 and 429 in statuses[10:]
    other = app.test_client()
    assert log_in(other, "alex", environ={"REMOTE_ADDR": "203.0.113.10"}).status_code == 302


def test_passwords_are_stored_as_argon2id(app, engine):
    with engine.connect() as connection:
        hashes = connection.execute(sa.select(accounts.users.c.password_hash)).scalars().all()
    assert hashes and all(h.startswith("$argon2id$") and PASSWORD not in h for h in hashes)


def test_a_form_without_its_csrf_token_is_refused(client, engine):
    escalation_id = escalate(engine, "i want to die")
    assert client.post("/login", data={"username": "sam", "password": PASSWORD}).status_code == 400
    log_in(client)
    reply = client.post(f"/escalations/{escalation_id}/acknowledge", data={})
    assert reply.status_code == 400
    assert escalations.get_escalation(engine, escalation_id)["status"] == escalations.OPEN


def test_login_never_redirects_to_another_site(client):
    reply = client.post(
        "/login?next=//evil.example/x",
        data={"username": "sam", "password": PASSWORD, "csrf_token": csrf(client)},
    )
    assert reply.status_code == 302 and reply.location == "/"


def test_health_pages_are_never_cached_and_cookies_are_http_only(client):
    reply = log_in(client)
    cookie = reply.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/").headers["Cache-Control"] == "no-store"


def test_logout_ends_the_session(client):
    log_in(client)
    client.post("/logout", data={"csrf_token": csrf(client, "/")})
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("secret", [None, "changeme", "x" * 40, "short-but-random-3f9a"])
def test_outside_local_mode_a_missing_or_placeholder_secret_stops_the_console(monkeypatch, secret):
    monkeypatch.setenv("CLINIC_ENV", "production")
    if secret is None:
        monkeypatch.delenv("CLINIC_CONSOLE_SECRET", raising=False)
    else:
        monkeypatch.setenv("CLINIC_CONSOLE_SECRET", secret)
    with pytest.raises(SettingsError, match="CLINIC_CONSOLE_SECRET"):
        create_app()


def test_a_real_secret_is_accepted_outside_local_mode(monkeypatch, database_url, engine):
    monkeypatch.setenv("CLINIC_ENV", "production")
    monkeypatch.setenv("CLINIC_CONSOLE_SECRET", secrets.token_hex(32))
    assert (
        create_app({"DATABASE_URL": database_url}).config["SECRET_KEY"]
        == os.environ["CLINIC_CONSOLE_SECRET"]
    )


def session_cookie(client):
    return client.get_cookie("session").value


def test_log_out_ends_the_session_a_copied_cookie_included(app, client):
    """A signed cookie stayed valid after log-out: whoever had copied it was still in."""
    assert log_in(client).status_code == 302
    stolen = app.test_client()
    stolen.set_cookie("session", session_cookie(client))
    assert stolen.get("/").status_code == 200
    client.post("/logout", data={"csrf_token": csrf(client, "/")})
    assert stolen.get("/").status_code == 302


def test_a_password_reset_ends_the_accounts_sessions(app, client, engine):
    assert log_in(client).status_code == 302
    sam = next(u["id"] for u in accounts.list_users(engine) if u["username"] == "sam")
    accounts.set_password(engine, sam, "another long password")
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("poll", ["/escalations/latest.json", "/conversations/c-1/live.json"])
def test_polling_does_not_keep_an_unattended_screen_logged_in(app, client, monkeypatch, poll):
    assert log_in(client).status_code == 302
    clock = [time.time()]
    monkeypatch.setattr(guard, "_timestamp", lambda: clock[0])
    for _ in range(6):  # half an hour of the queue's or a transcript's page polling
        clock[0] += 5 * 60
        client.get(poll)
    assert client.get("/").status_code == 302


def test_a_person_using_the_console_stays_in_until_the_absolute_lifetime(app, client, monkeypatch):
    assert log_in(client).status_code == 302
    clock = [time.time()]
    monkeypatch.setattr(guard, "_timestamp", lambda: clock[0])
    for _ in range(7 * 6):  # seven hours, a page every ten minutes
        clock[0] += 10 * 60
        assert client.get("/").status_code == 200
    clock[0] += 70 * 60
    assert client.get("/").status_code == 302

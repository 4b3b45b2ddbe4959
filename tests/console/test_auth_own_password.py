"""A staff member changes their own password (`/password`, `console.auth.routes.change_password`):
the current password is checked as a log-in checks it, counted and locking; the other
sessions of the account end; the change is audited, the passwords never."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from console.auth import accounts

PASSWORD = "correct horse battery staple"  # as in conftest.py
NEW_PASSWORD = "a much longer new passphrase"


def log_in_with(client, username="sam", password=PASSWORD):
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )


@pytest.fixture
def change(client, csrf):
    """Send the form of /password, with the page's CSRF token."""

    def send(current=PASSWORD, new=NEW_PASSWORD, again=None):
        return client.post(
            "/password",
            data={
                "current_password": current,
                "password": new,
                "password_again": new if again is None else again,
                "csrf_token": csrf("/password"),
            },
        )

    return send


def account(engine, username="sam"):
    with engine.connect() as connection:
        return (
            connection.execute(
                sa.select(accounts.users).where(accounts.users.c.username == username)
            )
            .mappings()
            .one()
        )


def still_the_old_password(engine):
    return PasswordHasher().verify(account(engine)["password_hash"], PASSWORD)


def audit_actions(engine):
    return [(e["username"], e["action"], e["target"]) for e in accounts.audit_entries(engine)]


def flash(reply):
    return re.findall(r'<p class="flash" role="status">([^<]*)</p>', reply.get_data(as_text=True))


@pytest.mark.parametrize("username", ["sam", "alex"])  # staff and admin alike
def test_the_page_states_the_rule_and_the_header_links_to_it(client, log_in, username):
    assert log_in(username).status_code == 302
    assert 'href="/password"' in client.get("/").get_data(as_text=True)
    page = client.get("/password")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "A password has at least 12 characters." in text
    assert 'name="current_password"' in text and 'name="password_again"' in text
    assert "every other session of your account ends" in text


def test_a_wrong_current_password_is_refused_counted_and_locks_like_a_log_in(
    app, client, log_in, change, engine
):
    assert log_in().status_code == 302
    reply = change(current="not the password")
    assert reply.status_code == 401 and "current password is wrong" in flash(reply)[0]
    assert account(engine)["failed_logins"] == 1
    assert ("sam", "change_password_failed", "127.0.0.1") in audit_actions(engine)
    for _ in range(accounts.MAX_FAILURES - 1):
        assert change(current="not the password").status_code == 401
    assert account(engine)["locked_until"] is not None
    # Locked: even the right current password changes nothing, and log-ins are refused.
    assert change().status_code == 401
    assert log_in_with(app.test_client()).status_code == 401
    assert still_the_old_password(engine)


def test_new_passwords_that_differ_are_refused_and_cost_no_attempt(client, log_in, change, engine):
    assert log_in().status_code == 302
    reply = change(again=NEW_PASSWORD + "!")
    assert reply.status_code == 400
    assert flash(reply) == ["Your password was not changed: The two passwords differ."]
    assert account(engine)["failed_logins"] == 0
    assert still_the_old_password(engine)


def test_a_short_new_password_is_refused_with_the_rule(client, log_in, change, engine):
    assert log_in().status_code == 302
    reply = change(new="too short")
    assert reply.status_code == 400
    assert flash(reply) == ["Your password was not changed: a password has at least 12 characters"]
    assert account(engine)["failed_logins"] == 0
    assert still_the_old_password(engine)


def test_a_change_ends_every_other_session_and_keeps_this_one(app, client, log_in, change, engine):
    assert log_in().status_code == 302
    elsewhere = app.test_client()  # sam logged in on another computer
    assert log_in_with(elsewhere).status_code == 302
    copied = app.test_client()  # and a copy of this session's cookie, as it was
    copied.set_cookie("session", client.get_cookie("session").value)
    assert elsewhere.get("/").status_code == copied.get("/").status_code == 200

    reply = change()
    assert reply.status_code == 302 and reply.location == "/password"
    page = client.get(reply.location)
    assert page.status_code == 200 and "Your password is changed." in flash(page)[0]
    assert client.get("/").status_code == 200  # still logged in here
    for other in (elsewhere, copied):
        reply = other.get("/")
        assert reply.status_code == 302 and reply.location.startswith("/login")

    assert log_in_with(app.test_client(), password=PASSWORD).status_code == 401
    assert log_in_with(app.test_client(), password=NEW_PASSWORD).status_code == 302
    assert ("sam", "change_password", "user sam") in audit_actions(engine)
    for entry in accounts.audit_entries(engine):
        for value in entry.values():
            assert PASSWORD not in str(value) and NEW_PASSWORD not in str(value)

"""The staff console with Flask's test client: a fresh database per test, escalations recorded
by the real crisis code path (`clinic.escalations.record_escalation` with facts from
`crisis.session`), accounts hashed with Argon2id."""

from __future__ import annotations

import os
import re
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from clinic import escalations, sms
from clinic.settings import Secret, SettingsError
import console as console_module
from console import accounts, create_app
from crisis import session

PASSWORD = "correct horse battery staple"


def csrf(client, path="/login"):
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def log_in(client, username="sam", password=PASSWORD, environ=None):
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf(client)}, environ_base=environ or {})


def escalate(engine, text, channel="webchat", conversation="c-1", message="m-1"):
    events = [{"event": "user", "text": text, "input_channel": channel, "message_id": message,
               "parse_data": {}}]
    facts = session.escalation_facts(conversation, session.latest(events))
    escalation_id, _ = escalations.record_escalation(engine, **facts.as_kwargs(), targets=[])
    return escalation_id


def test_every_page_needs_a_login(client, engine):
    escalation_id = escalate(engine, "i want to die")
    for path in ("/", f"/escalations/{escalation_id}", "/escalations/latest.json"):
        reply = client.get(path)
        assert reply.status_code == 302 and reply.location.startswith("/login")


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
    statuses = [log_in(client, password="wrong password!!",
                       environ={"REMOTE_ADDR": "203.0.113.9"}).status_code for _ in range(14)]
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


def test_the_queue_shows_urgent_first_with_evidence_turns_and_the_sms_number(client, engine):
    concern = escalate(engine, "i used to self harm years ago", conversation="c-2", message="m-2")
    phone = "+15550104321"
    conversation = sms.conversation_id_for(phone, Secret("k" * 64))
    sms.remember_number(engine, conversation, phone)
    urgent = escalate(engine, "i took a whole bottle of pills", channel="twilio",
                      conversation=conversation, message="m-3")
    log_in(client)
    page = client.get("/").get_data(as_text=True)
    assert page.index(f"#{urgent}<") < page.index(f"#{concern}<")
    assert "whole bottle of pills" in page and f'href="tel:{phone}"' in page
    assert [e["action"] for e in accounts.audit_entries(engine)][:2] == ["view_queue", "login"]


def test_acknowledge_and_resolve_are_recorded_with_who(client, engine):
    escalation_id = escalate(engine, "i want to kill myself")
    log_in(client)
    token = csrf(client, "/")
    client.post(f"/escalations/{escalation_id}/acknowledge", data={"csrf_token": token})
    client.post(f"/escalations/{escalation_id}/resolve",
                data={"csrf_token": token, "note": "Called back; safe with family."})
    item = escalations.get_escalation(engine, escalation_id)
    assert item["acknowledged_by"] == "sam" and item["resolved_by"] == "sam"
    assert item["note"] == "Called back; safe with family."
    actions = [e["action"] for e in accounts.audit_entries(engine)]
    assert "acknowledge" in actions and "resolve" in actions


def test_user_text_is_escaped(client, engine):
    escalate(engine, "<script>alert(1)</script> i want to die")
    log_in(client)
    page = client.get("/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_login_never_redirects_to_another_site(client):
    reply = client.post("/login?next=//evil.example/x", data={
        "username": "sam", "password": PASSWORD, "csrf_token": csrf(client)})
    assert reply.status_code == 302 and reply.location == "/"


def test_polling_tells_of_a_new_urgent_escalation(client, engine):
    log_in(client)
    assert client.get("/escalations/latest.json").get_json() == {"latest": 0, "urgent_open": 0}
    escalation_id = escalate(engine, "i want to end my life")
    assert client.get("/escalations/latest.json").get_json() == {
        "latest": escalation_id, "urgent_open": 1}


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
def test_outside_local_mode_a_missing_or_placeholder_secret_stops_the_console(
    monkeypatch, secret
):
    monkeypatch.setenv("CLINIC_ENV", "production")
    if secret is None:
        monkeypatch.delenv("CLINIC_CONSOLE_SECRET", raising=False)
    else:
        monkeypatch.setenv("CLINIC_CONSOLE_SECRET", secret)
    with pytest.raises(SettingsError, match="CLINIC_CONSOLE_SECRET"):
        create_app()


def test_a_real_secret_is_accepted_outside_local_mode(monkeypatch):
    monkeypatch.setenv("CLINIC_ENV", "production")
    monkeypatch.setenv("CLINIC_CONSOLE_SECRET", secrets.token_hex(32))
    assert create_app().config["SECRET_KEY"] == os.environ["CLINIC_CONSOLE_SECRET"]


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


def test_polling_does_not_keep_an_unattended_screen_logged_in(app, client, monkeypatch):
    assert log_in(client).status_code == 302
    clock = [time.time()]
    monkeypatch.setattr(console_module, "_timestamp", lambda: clock[0])
    for _ in range(6):  # half an hour of the queue page polling every 5 minutes
        clock[0] += 5 * 60
        client.get("/escalations/latest.json")
    assert client.get("/").status_code == 302


def test_a_person_using_the_console_stays_in_until_the_absolute_lifetime(app, client, monkeypatch):
    assert log_in(client).status_code == 302
    clock = [time.time()]
    monkeypatch.setattr(console_module, "_timestamp", lambda: clock[0])
    for _ in range(7 * 6):  # seven hours, a page every ten minutes
        clock[0] += 10 * 60
        assert client.get("/").status_code == 200
    clock[0] += 70 * 60
    assert client.get("/").status_code == 302

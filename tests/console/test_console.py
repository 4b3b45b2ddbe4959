"""The staff console with Flask's test client: a fresh database per test, escalations recorded
by the real crisis code path (`clinic.escalations.record_escalation` with facts from
`crisis.session`), accounts hashed with Argon2id."""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

import console as console_module
from clinic import escalations, sms
from clinic.profile import current_profile
from clinic.settings import Secret, SettingsError
from console import accounts, create_app, index, labels
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
                data={"csrf_token": token, "outcome": "reached",
                      "note": "Called back; safe with family."})
    item = escalations.get_escalation(engine, escalation_id)
    assert item["acknowledged_by"] == "sam" and item["resolved_by"] == "sam"
    assert item["note"] == "Called back; safe with family."
    assert item["outcome"] == escalations.REACHED
    actions = [e["action"] for e in accounts.audit_entries(engine)]
    assert "acknowledge" in actions and "resolve" in actions


def flashes(client):
    with client.session_transaction() as session:
        return [message for _, message in session.get("_flashes", [])]


def test_resolving_needs_an_outcome_which_the_card_and_the_resolved_list_show(client, engine):
    escalation_id = escalate(engine, "i want to kill myself")
    log_in(client)
    token = csrf(client, "/")
    page = client.get(f"/escalations/{escalation_id}").get_data(as_text=True)
    assert page.count('type="radio" name="outcome"') == 3 and "required" in page
    for outcome in (None, "", "maybe", "reached "):
        form = {"csrf_token": token, "note": "Tried."}
        if outcome is not None:
            form["outcome"] = outcome
        reply = client.post(f"/escalations/{escalation_id}/resolve", data=form)
        assert reply.status_code == 302
        assert "is not resolved: say what happened" in flashes(client)[-1]
        assert escalations.get_escalation(engine, escalation_id)["status"] == escalations.OPEN
    client.post(f"/escalations/{escalation_id}/resolve", data={
        "csrf_token": token, "outcome": "emergency_services", "note": "Called 911 with her."})
    item = escalations.get_escalation(engine, escalation_id)
    assert (item["status"], item["outcome"]) == (escalations.RESOLVED, "emergency_services")
    card = client.get(f"/escalations/{escalation_id}").get_data(as_text=True)
    assert "emergency services called" in card and "Called 911 with her." in card
    listed = client.get("/escalations/resolved").get_data(as_text=True)
    assert f"#{escalation_id}" in listed and "emergency services called" in listed
    assert "Called 911 with her." in listed
    assert f"#{escalation_id}<" not in client.get("/").get_data(as_text=True)  # off the queue


def index_conversation(engine, conversation_id, channel, started, texts, slots=()):
    """The console's index fed a conversation's events, as the event broker gives them: the
    user's `texts`, a bot reply to each, then the contact form's `slots` (name, value)."""
    ts = started.timestamp()
    events = []
    for n, text in enumerate(texts):
        events += [{"event": "user", "timestamp": ts + 10 * n, "text": text,
                    "input_channel": channel, "message_id": f"m-{n}", "parse_data": {}},
                   {"event": "bot", "timestamp": ts + 10 * n + 1, "text": f"reply {n}"}]
    events += [{"event": "slot", "timestamp": ts + 10 * len(texts) + n, "name": name,
                "value": value} for n, (name, value) in enumerate(slots)]
    with engine.begin() as connection:
        index.apply_events(connection, [(conversation_id, event) for event in events])


STARTED = dt.datetime(2026, 12, 6, 20, 2, tzinfo=dt.timezone.utc)  # 2:02 PM in Chicago
CLINIC_TIME = current_profile().hours.timezone


def started_words():
    """How the pages write STARTED (with its year, unless the tests run in 2026)."""
    return labels.short_time(STARTED, CLINIC_TIME)


def test_an_escalation_names_its_conversation_links_to_it_and_says_how_to_answer(client, engine):
    index_conversation(engine, "c-1", "webchat", STARTED, ["i want to die"], slots=[
        ("contact_name", "  Jordan   Lee "), ("contact", "(555) 010-7788"),
        ("contact_name", None), ("contact", None)])  # the form cleared its slots: still known
    escalation_id = escalate(engine, "i want to die")
    log_in(client)
    for path in ("/", f"/escalations/{escalation_id}"):
        page = client.get(path).get_data(as_text=True)
        assert (f'href="/conversations/c-1">Web chat · {started_words()} · Jordan Lee</a>'
                in page)
        assert "open the conversation</a> to answer in the chat" in page
        assert 'href="tel:+15550107788"' in page  # the contact the person gave
        assert "suicidal thoughts" in page and "suicidal_ideation" not in page
        assert '<span class="level">urgent</span>' in page
        assert "no phone number: a web chat" not in page


def test_an_sms_escalation_says_text_back_unless_the_number_opted_out(client, engine):
    phone = "+15550104321"
    conversation = sms.conversation_id_for(phone, Secret("k" * 64))
    sms.remember_number(engine, conversation, phone)
    index_conversation(engine, conversation, "twilio", STARTED, ["i took all my pills"])
    escalation_id = escalate(engine, "i took a whole bottle of pills", channel="twilio",
                             conversation=conversation)
    log_in(client)
    card = client.get(f"/escalations/{escalation_id}").get_data(as_text=True)
    assert f'href="tel:{phone}"' in card and "text back from the <a" in card
    # named for the person: the id only in the link's URL
    assert f'<a href="/conversations/{conversation}">SMS · {started_words()}</a>' in card
    sms.record_consent(engine, conversation, sms.OPT_OUT, keyword="STOP")
    card = client.get(f"/escalations/{escalation_id}").get_data(as_text=True)
    assert "opted out of SMS" in card and "call, do not text" in card
    assert "text back from the <a" not in card


def test_a_conversation_is_named_by_channel_first_message_time_and_name():
    assert labels.short_time(STARTED, CLINIC_TIME, now=STARTED) == "Sun 6 Dec 2:02 PM"
    next_year = STARTED + dt.timedelta(days=60)
    assert labels.short_time(STARTED, CLINIC_TIME, now=next_year) == "Sun 6 Dec 2026 2:02 PM"
    named = {"channel": "webchat", "started_at": STARTED, "person_name": "Jordan"}
    assert labels.conversation_name(named, CLINIC_TIME) == f"Web chat · {started_words()} · Jordan"
    assert labels.conversation_name({"channel": "rest"}, CLINIC_TIME) == "REST API"


def test_levels_and_categories_are_in_plain_words():
    assert labels.level_name("check") == "needs a check"
    assert labels.category_name("harm_to_others") == "harm to others"
    assert labels.category_name("medical_emergency") == "medical emergency"
    assert labels.category_name("self_harm") == "self-harm"
    assert labels.category_name("something_new") == "something new"  # never a raw code
    assert labels.channel_name("twilio") == "SMS" and labels.channel_name(None) == "unknown channel"


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


def test_a_real_secret_is_accepted_outside_local_mode(monkeypatch, database_url, engine):
    monkeypatch.setenv("CLINIC_ENV", "production")
    monkeypatch.setenv("CLINIC_CONSOLE_SECRET", secrets.token_hex(32))
    assert create_app({"DATABASE_URL": database_url}).config["SECRET_KEY"] == os.environ["CLINIC_CONSOLE_SECRET"]


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
    monkeypatch.setattr(console_module, "_timestamp", lambda: clock[0])
    for _ in range(6):  # half an hour of the queue's or a transcript's page polling
        clock[0] += 5 * 60
        client.get(poll)
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

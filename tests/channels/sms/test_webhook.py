"""The SMS webhook (channels/sms/webhook.py) through the real Rasa server, with requests
signed like Twilio signs them (tests/sms_webhooks.py): the signature, each MessageSid once,
keywords, numbered options, the crisis reply.

Twilio's cloud is the stand-in of conftest.py (`twilio_cloud`); everything else is real.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import secrets
import sqlite3
import string
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import List

import aiohttp
import pytest
import requests
import sqlalchemy as sa
from sms_webhooks import (
    PROFILE,
    bodies_of,
    conversation_of,
    first_answer,
    inbound,
    new_phone,
    post,
    signature,
    sms_variant,
    user_texts,
    wait_for_sent,
)

from channels.sms.text import is_gsm7, segments
from clinic import escalations, sms
from support import RunningAssistant, start_assistant, stop


def test_a_signed_question_gets_the_sms_answer_in_twiml(send, domain):
    phone = new_phone()
    bodies = send(phone, "how long is a session?")
    answer = sms_variant(domain, "utter_faq/session_length")
    assert bodies[-len(answer) :] == answer  # after the first message's introduction
    for body in bodies:
        assert is_gsm7(body) and segments(body) <= 2, body


def test_control_characters_in_a_text_are_dropped_not_stored(assistant, send, domain):
    """A NUL in a signed text was stored as it came: PostgreSQL refuses it, and the console's
    CSV export of conversations failed on it."""
    phone = new_phone()
    bodies = send(phone, "how long\x00 is a\x1b session?")
    answer = sms_variant(domain, "utter_faq/session_length")
    assert bodies[-len(answer) :] == answer
    assert user_texts(assistant, phone) == ["how long is a session?"]


def test_a_numbers_first_answer_says_who_is_answering_once(send, domain):
    phone = new_phone()
    intro = sms_variant(domain, "utter_sms_intro")
    first = send(phone, "how long is a session?")
    assert first == first_answer(domain, "utter_faq/session_length")
    assert "not medical advice" in intro[0] and "STOP" in intro[0]
    assert send(phone, "how much does it cost") == sms_variant(domain, "utter_faq/cost")


def test_a_crisis_as_the_first_message_gets_no_introduction(send, domain):
    bodies = send(new_phone(), "i want to kill myself tonight")
    assert bodies and "988" in bodies[0]
    assert not set(sms_variant(domain, "utter_sms_intro")) & set(bodies)


@pytest.mark.parametrize("forgery", ["wrong token", "missing", "other url", "changed body"])
def test_a_forged_webhook_is_refused_and_never_reaches_the_bot(assistant, twilio_cloud, forgery):
    phone = new_phone()
    params = inbound(phone, "what does it cost?")
    sig = {
        "wrong token": signature(secrets.token_hex(16), params),
        "missing": None,
        "other url": signature(
            twilio_cloud.auth_token, params, f"{assistant.url}/webhooks/twilio/webhook"
        ),
        "changed body": signature(twilio_cloud.auth_token, params),
    }[forgery]
    if forgery == "changed body":
        params = {**params, "Body": "I want to kill myself", "From": new_phone()}
    reply = post(assistant, params, sig)
    assert reply.status_code == 403
    assert "signed" in reply.text
    assert user_texts(assistant, phone) == []
    assert user_texts(assistant, params["From"]) == []


def server_pid(assistant: RunningAssistant) -> int:
    """The process id of the assistant's Rasa server (the one listening on its port)."""
    port = assistant.url.rsplit(":", 1)[1].encode()
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:  # the process has ended
            continue
        if b"run" in args and b"--port" in args and args[args.index(b"--port") + 1] == port:
            return int(cmdline.parent.name)
    raise AssertionError(f"no Rasa server listening on port {port.decode()}")


def cpu_seconds(pid: int) -> float:
    """The CPU time a process has used so far, all its threads (/proc/PID/stat utime + stime)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_a_forged_webhook_is_refused_before_its_form_is_parsed(assistant):
    """The signature is checked on what the request is before what it says: a 1 MB form of a
    quarter of a million fields, which no Twilio request is, cost the server over a second of
    its event loop to parse and sign, unsigned or forged, so a few such requests a second
    stalled every channel of the server."""
    names = (
        "".join(chars)
        for chars in itertools.product(string.ascii_letters + string.digits, repeat=3)
    )
    body = "&".join(itertools.islice(names, 230_000)).encode()
    assert 900_000 < len(body) < 1024 * 1024  # under the server's cap on any request's body
    pid = server_pid(assistant)
    well_formed = signature(secrets.token_hex(16), {"From": new_phone()})  # a wrong key's
    before = cpu_seconds(pid)
    for sig in (None, well_formed, None, well_formed):
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        reply = requests.post(
            f"{assistant.url}/webhooks/twilio/webhook",
            data=body,
            headers={**headers, **({"X-Twilio-Signature": sig} if sig else {})},
            timeout=60,
        )
        assert reply.status_code == 403 and "signed" in reply.text
    assert cpu_seconds(pid) - before < 1.0  # reading 4 MB; parsing and signing took over 3 s


def test_forged_webhooks_in_a_numbers_name_cost_it_nothing(assistant, twilio_cloud, engine):
    """Refused before the rate limit and the database: forgeries naming someone's number
    neither use up its rate limit (the real texts after them are answered, not told to wait)
    nor leave anything about it in the database."""
    phone = new_phone()
    forged = [inbound(phone, "how long is a session?") for _ in range(30)]  # burst: 20
    for params in forged:
        reply = post(assistant, params, signature(secrets.token_hex(16), params))
        assert reply.status_code == 403
    sids = [params["MessageSid"] for params in forged]
    with engine.connect() as connection:
        for table in (sms.messages, sms.inbox):
            found = connection.execute(
                sa.select(table.c.message_sid).where(table.c.message_sid.in_(sids))
            ).all()
            assert found == [], table.name
    assert sms.phone_for(engine, conversation_of(phone)) is None
    params = inbound(phone, "how long is a session?")
    assert bodies_of(post(assistant, params, signature(twilio_cloud.auth_token, params)))


def test_the_auth_token_never_reaches_the_log(assistant, twilio_cloud):
    params = inbound(new_phone(), "hello")
    post(assistant, params, "forged")
    post(assistant, params, signature(twilio_cloud.auth_token, params))
    log = (assistant.workdir / "rasa.log").read_text()
    assert "rejected a webhook" in log
    assert twilio_cloud.auth_token not in log


def test_the_same_message_sid_is_handled_once(assistant, send):
    phone, sid = new_phone(), "SM" + secrets.token_hex(16)
    first = send(phone, "what are the side effects?", sid)
    again = send(phone, "what are the side effects?", sid)
    assert first and again == first
    assert user_texts(assistant, phone) == ["what are the side effects?"]


def test_a_request_without_body_is_a_clear_400(assistant, twilio_cloud):
    params = inbound(new_phone(), None)
    reply = post(assistant, params, signature(twilio_cloud.auth_token, params))
    assert reply.status_code == 400 and "Body" in reply.text


def test_an_oversize_body_is_a_clear_400(assistant, twilio_cloud):
    params = inbound(new_phone(), "x" * 1601)
    reply = post(assistant, params, signature(twilio_cloud.auth_token, params))
    assert reply.status_code == 400 and "1600" in reply.text


def test_a_message_without_text_gets_a_text_only_answer(send, domain):
    assert send(new_phone(), "") == sms_variant(domain, "utter_sms_text_only")


def test_buttons_become_numbered_options_and_a_number_chooses_one(assistant, send, domain):
    phone = new_phone()
    bodies = send(phone, "I take lithium, can I get ketamine infusions?")
    assert "Reply 1 for Yes, book a consultation" in bodies[-1]
    assert "Reply 2 for No thanks" in bodies[-1]
    after = send(phone, "1")
    ask_name = domain["responses"]["utter_ask_contact_name"][0]["text"]
    assert any(ask_name in body for body in after), after
    assert user_texts(assistant, phone)[-1] == "/book_consultation"


def test_the_crisis_reply_comes_first_fits_two_segments_and_staff_can_call_back(
    assistant, send, engine
):
    phone = new_phone()
    bodies = send(phone, "I want to kill myself tonight")
    assert "988" in bodies[0] and "911" in bodies[0]
    for body in bodies:
        assert is_gsm7(body) and segments(body) <= 2, body
    conversation = conversation_of(phone)
    assert phone not in conversation and phone[2:] not in conversation
    deadline = time.monotonic() + 20
    while not (
        found := [
            e for e in escalations.list_escalations(engine) if e["conversation_id"] == conversation
        ]
    ):
        assert time.monotonic() < deadline, "no escalation recorded"
        time.sleep(0.2)
    escalation = escalations.get_escalation(engine, found[0]["id"])
    assert escalation["channel"] == "twilio" and escalation["level"] == "urgent"
    assert escalation["reach_back"] == phone


def test_an_opted_out_number_in_crisis_is_not_answered_but_reaches_staff(send, engine):
    phone = new_phone()
    send(phone, "hi")
    send(phone, "unsubscribe")
    assert send(phone, "i took a whole bottle of pills") == []
    conversation = conversation_of(phone)
    deadline = time.monotonic() + 20
    while not any(
        e["conversation_id"] == conversation for e in escalations.list_escalations(engine)
    ):
        assert time.monotonic() < deadline, "no escalation recorded"
        time.sleep(0.2)


def test_help_is_left_to_twilio_by_default(assistant, send):
    phone = new_phone()
    assert send(phone, "HELP") == []
    assert user_texts(assistant, phone) == []


def test_help_is_answered_by_a_clinic_that_turned_twilio_replies_off(
    slow_assistant, twilio_cloud, domain
):
    params = inbound(new_phone(), "help")
    bodies = bodies_of(post(slow_assistant, params, signature(twilio_cloud.auth_token, params)))
    assert bodies == sms_variant(domain, "utter_sms_help")
    assert PROFILE.phone in bodies[0] and "Reply STOP" in bodies[0] and "988" in bodies[0]


def test_200_concurrent_signed_webhooks_all_get_the_right_answer(assistant, twilio_cloud, domain):
    questions = {
        "how long is a session?": "utter_faq/session_length",
        "what are the side effects?": "utter_faq/side_effects",
        "do I need a consultation first?": "utter_faq/consultation",
        "what are your hours?": None,
    }
    expected = {
        q: sms_variant(domain, r)[0] if r else PROFILE.hours.summary.split(",")[0]
        for q, r in questions.items()
    }
    jobs = [(new_phone(), list(questions)[i % len(questions)]) for i in range(200)]

    async def one(session: aiohttp.ClientSession, phone: str, question: str) -> List[str]:
        params = inbound(phone, question)
        headers = {"X-Twilio-Signature": signature(twilio_cloud.auth_token, params)}
        async with session.post(
            f"{assistant.url}/webhooks/twilio/webhook", data=params, headers=headers
        ) as reply:
            assert reply.status == 200, await reply.text()
            root = ET.fromstring(await reply.text())
            return [m.text or "" for m in root.findall("Message")]

    async def all_of_them() -> List[List[str]]:
        timeout = aiohttp.ClientTimeout(total=120)
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
            return await asyncio.gather(*(one(session, p, q) for p, q in jobs))

    replies = asyncio.run(all_of_them())
    for (phone, question), bodies in zip(jobs, replies):
        bodies = bodies or wait_for_sent(twilio_cloud, phone, 2)  # the introduction first
        assert expected[question] in " ".join(bodies), (question, bodies)


def test_the_direct_question_by_sms_and_a_typed_yes(assistant, send, engine):
    phone = new_phone()
    bodies = send(phone, "been feeling really hopeless lately tbh")
    assert "thoughts of ending your life" in bodies[0] and "YES or NO" in bodies[0]
    for body in bodies:
        assert is_gsm7(body) and segments(body) <= 2, body
    after = send(phone, "YES")
    assert "988" in after[0] and "911" in after[0]
    conversation = conversation_of(phone)
    deadline = time.monotonic() + 20
    while "urgent" not in (
        levels := [
            e["level"]
            for e in escalations.list_escalations(engine)
            if e["conversation_id"] == conversation
        ]
    ):
        assert time.monotonic() < deadline, f"no urgent escalation: {levels}"
        time.sleep(0.2)


def test_with_the_database_gone_a_crisis_text_still_gets_the_crisis_reply(
    trained_model, tmp_path, twilio_cloud
):
    """The clinic's database fails under the running server: a signed urgent text is answered
    with the crisis reply (not claiming staff know), anything else gets a 503 for Twilio."""
    running, processes = start_assistant(
        tmp_path, trained_model, with_action_server=False, extra_env=twilio_cloud.env()
    )
    try:
        with sqlite3.connect(tmp_path / "assistant.db") as connection:
            connection.execute("DROP TABLE clinic_sms_messages")
        token = twilio_cloud.env()["TWILIO_AUTH_TOKEN"]
        crisis = inbound(new_phone(), "i want to kill myself tonight")
        other = inbound(new_phone(), "how much is a session")
        crisis_reply = post(running, crisis, signature(token, crisis))
        other_reply = post(running, other, signature(token, other))
    finally:
        stop(processes)
    texts = " ".join(bodies_of(crisis_reply))
    assert "988" in texts and "911" in texts and "may not have seen" in texts
    assert other_reply.status_code == 503

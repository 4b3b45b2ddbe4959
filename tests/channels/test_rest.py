"""The REST channel (channels/rest.py) over HTTP against the running assistant (local mode, so
open without a token; the scale-out tests cover the token): every bad request gets a clear
4xx and leaves nothing in the log, a flood from one sender is slowed without slowing anyone
else, and a crisis is answered even then."""

from __future__ import annotations

import json
import secrets
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

MARKER = "zqx-private-"  # text that must never reach the log


def post(assistant, body: Any = None, raw: bytes | None = None) -> requests.Response:
    data = raw if raw is not None else json.dumps(body).encode()
    return requests.post(
        f"{assistant.url}/webhooks/rest/webhook",
        data=data,
        headers={"Content-Type": "application/json"},
        timeout=60,
    )


def sender() -> str:
    return f"rest-{secrets.token_hex(6)}"


BAD = {
    "0 bytes": (b"", 400),
    "1 MB": (json.dumps({"sender": "a", "message": "x" * 1_000_000}).encode(), 413),
    "invalid JSON": (b'{"sender": "a", "message": ', 400),
    "invalid UTF-8": (b'{"sender": "a", "message": "\xff\xfe caf\xe9"}', 400),
    "a JSON array": (b'["a", "hello"]', 400),
    "sender a number": (b'{"sender": 42, "message": "hello"}', 400),
    "sender with spaces": (b'{"sender": "a b", "message": "hello"}', 400),
    "message a list": (b'{"sender": "a", "message": ["hello"]}', 400),
    "message missing": (b'{"sender": "a"}', 400),
    "message blank": (b'{"sender": "a", "message": "  \\n "}', 400),
    "control characters": (b'{"sender": "a", "message": "hi\\u0000\\u001b[31m"}', 400),
    "a lone surrogate": (b'{"sender": "a", "message": "hi \\ud800"}', 400),
    "10,000 emoji": (json.dumps({"sender": "a", "message": "\U0001f600" * 10_000}).encode(), 413),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_a_bad_request_gets_a_clear_4xx(assistant, case):
    raw, status = BAD[case]
    reply = post(assistant, raw=raw.replace(b'"a"', f'"{sender()}"'.encode()))
    assert reply.status_code == status, reply.text
    assert reply.json()["error"]  # says what is wrong


@pytest.mark.parametrize("path", ["/model/parse", "/webhooks/twilio/webhook"])
def test_the_server_refuses_a_huge_body_on_any_route_before_reading_it(assistant, path):
    """The cap is the server's (channels/body_limit.py), not only the REST channel's: Rasa's
    own routes took 100 MB."""
    reply = requests.post(
        f"{assistant.url}{path}?token={assistant.token}", data=b"x" * (2 * 1024 * 1024), timeout=60
    )
    assert reply.status_code == 413


def test_a_too_long_message_says_the_limit(assistant):
    reply = post(assistant, {"sender": sender(), "message": "\U0001f600" * 1001})
    assert reply.status_code == 400 and "limit is 1000" in reply.json()["error"]


@pytest.mark.parametrize(
    "text",
    [
        "¿Cuánto cuesta una sesión?",
        "治疗需要多长时间？",
        "كم تستغرق الجلسة؟",
        "Сколько длится сеанс?",
    ],
)
def test_other_scripts_are_answered(assistant, text):
    reply = post(assistant, {"sender": sender(), "message": text})
    assert reply.status_code == 200 and reply.json() and reply.json()[0]["text"]


def test_what_a_refused_request_said_never_reaches_the_log(assistant):
    secret = MARKER + secrets.token_hex(4)
    for raw in (
        f'{{"sender": "a b", "message": "{secret}"}}',
        f'{{"sender": "{sender()}", "message": "{secret}\\u0000"}}',
    ):
        assert post(assistant, raw=raw.encode()).status_code == 400
    assert secret not in (assistant.workdir / "rasa.log").read_text(errors="replace")


@pytest.mark.parametrize("other_channel", ["sms", "web"])
def test_a_sender_cannot_name_another_channels_conversation(assistant, other_channel):
    """A REST conversation id is always `rest-…`: a sender shaped like an SMS or web chat id
    neither writes into that conversation nor gets its replies."""
    named = f"{other_channel}-{secrets.token_hex(16)}"
    reply = post(assistant, {"sender": named, "message": "how long is a session?"})
    assert reply.status_code == 200 and reply.json()[0]["recipient_id"] == f"rest-{named}"
    user_events = lambda conversation: [  # noqa: E731
        e for e in assistant.tracker(conversation)["events"] if e["event"] == "user"
    ]
    assert user_events(named) == []
    assert [e["text"] for e in user_events(f"rest-{named}")] == ["how long is a session?"]


def test_a_flood_from_one_sender_is_slowed_and_others_are_not(assistant):
    flooder = sender()
    with ThreadPoolExecutor(40) as pool:
        replies = list(
            pool.map(
                lambda _: post(assistant, {"sender": flooder, "message": "how long is a session?"}),
                range(40),
            )
        )
    statuses = [reply.status_code for reply in replies]
    assert set(statuses) == {200, 429}
    assert 15 <= statuses.count(200) <= 30  # the burst (20), and what refilled meanwhile
    refused = next(reply for reply in replies if reply.status_code == 429)
    assert int(refused.headers["Retry-After"]) >= 1 and "wait" in refused.json()["error"]
    other = post(assistant, {"sender": sender(), "message": "how long is a session?"})
    assert other.status_code == 200 and other.json()
    crisis = post(assistant, {"sender": flooder, "message": "i want to kill myself"})
    assert crisis.status_code == 200 and "988" in crisis.json()[0]["text"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=10,
)
bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.fixed_dictionaries(
        {
            "sender": st.text(min_size=1, max_size=40) | json_values,
            "message": st.text(max_size=300) | json_values,
        }
    ).map(lambda value: json.dumps(value).encode()),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=bodies)
def test_fuzz_never_a_5xx(assistant, raw):
    reply = post(assistant, raw=raw)
    assert reply.status_code in (200, 400, 413, 429), (raw, reply.status_code, reply.text[:200])
    if reply.status_code != 200:
        assert reply.json()["error"]

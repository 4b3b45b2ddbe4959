"""A bounded fuzz of the web chat socket (channels/webchat.py) against the running assistant,
through the socket.io client of the web chat tests: events of any name and shape, text of any
kind and size, raw junk and floods on one socket. Every user message gets its answer or a
clear `error_message`, every other event is ignored, the socket keeps answering, and nothing
a person wrote reaches the server's logs."""

from __future__ import annotations

import secrets
import time
from typing import Any, Dict, List, Tuple

import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from webchat_tabs import TIMEOUT, Tab

from clinic.profile import current_profile

MARKER = f"zqx-{secrets.token_hex(3)}-"  # in every text the fuzz sends: never to be logged
# Not "server": no message, however made, may fail the assistant's turn.
ERROR_CODES = {"malformed", "no_session", "empty", "too_long", "rate_limited", "bad_session"}
HANDLED = ("user_uttered", "session_request", "disconnect")  # the events the channel answers
SESSION = "<the socket's conversation>"  # replaced by it when an event is sent
QUESTION = "how long is a session?"

characters = (
    st.characters(codec=None)  # any code point but lone surrogates, and these:
    | st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
    | st.characters(max_codepoint=0x9F)
)  # the C0 and C1 controls
texts = st.text(characters, max_size=120).map(lambda text: MARKER + text)
around_the_limit = st.text(
    characters, min_size=1000 - len(MARKER) - 3, max_size=1000 - len(MARKER) + 3
).map(lambda text: MARKER + text)
blanks = st.text(st.sampled_from(" \t\n\r\x00\x1b\x7f\x85\u3000"), max_size=6)
values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | texts
    | st.binary(max_size=16),  # bytes go as socket.io binary attachments
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=10,
)
widget_shaped = st.fixed_dictionaries(
    {}, optional={"session_id": st.just(SESSION) | values, "message": texts | values}
)
arguments = st.lists(values | widget_shaped, max_size=3).map(tuple)
in_the_session = st.fixed_dictionaries(
    {"session_id": st.just(SESSION), "message": texts | around_the_limit | blanks}
)
events = st.one_of(
    st.tuples(st.just("user_uttered"), st.tuples(in_the_session)),
    st.tuples(st.just("user_uttered"), st.tuples(widget_shaped)),
    st.tuples(st.sampled_from(HANDLED), arguments),
    st.tuples(
        st.sampled_from(["connect", "message", "*", "bot_uttered", "error_message"])
        | st.text(max_size=30)
        | st.integers(),
        arguments,
    ),
)


def with_session(value: Any, session: str) -> Any:
    if value == SESSION:
        return session
    if isinstance(value, dict):
        return {key: with_session(item, session) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(with_session(item, session) for item in value)
    return value


def received_since(tab: Tab, counts: Dict[str, int]) -> Dict[str, List[Any]]:
    with tab.changed:
        return {
            name: got[counts.get(name, 0) :]
            for name, got in tab.events.items()
            if len(got) > counts.get(name, 0)
        }


def counts(tab: Tab) -> Dict[str, int]:
    with tab.changed:
        return {name: len(got) for name, got in tab.events.items()}


def ask(tab: Tab, session: str, text: str = QUESTION, patient: bool = True) -> List[Dict[str, Any]]:
    """The bot's replies to `text` on this socket; if `patient`, after any wait the rate limit
    asks for."""
    for _ in range(2 if patient else 1):
        before = counts(tab)
        tab.client.call("user_uttered", {"session_id": session, "message": text}, timeout=TIMEOUT)
        new = received_since(tab, before)
        limited = [e for e in new.get("error_message", []) if e["code"] == "rate_limited"]
        if not limited:
            assert "error_message" not in new, new
            return new.get("bot_uttered", [])
        time.sleep(int(limited[0]["text"].split("wait ")[1].split()[0]))
    raise AssertionError("still rate limited after the wait it asked for")


def answers_the_question(replies: List[Dict[str, Any]]) -> bool:
    return any(current_profile().session_minutes in reply.get("text", "") for reply in replies)


def assert_nothing_written_is_logged(assistant) -> None:
    for log in ("rasa.log", "actions.log"):
        assert MARKER not in (assistant.workdir / log).read_text(errors="replace"), log


def test_any_event_gets_its_answer_a_clear_error_or_nothing_and_the_socket_goes_on(assistant):
    tab = Tab()
    session = tab.open(assistant.url)

    @settings(max_examples=80, deadline=None)
    @given(event=events)
    def one(event: Tuple[Any, Tuple[Any, ...]]) -> None:
        nonlocal session
        name, args = event[0], with_session(event[1], session)
        before = counts(tab)
        if name in HANDLED:  # the server acknowledges once its handler has finished
            tab.client.call(name, args, timeout=TIMEOUT)
        else:  # nothing to acknowledge: a blank message after it shows it was passed over
            tab.client.emit(name, args)
            tab.client.call(
                "user_uttered", {"session_id": session, "message": " "}, timeout=TIMEOUT
            )
        new = received_since(tab, before)
        errors = new.get("error_message", [])
        for error in errors:
            assert error["code"] in ERROR_CODES and error["text"], error
        if name == "user_uttered":
            payload = args[0] if args else None
            if not isinstance(payload, dict):
                assert [e["code"] for e in errors] == ["malformed"]
            elif (
                payload.get("session_id") == session
                and isinstance(payload.get("message"), str)
                and len(payload["message"]) > 1000
            ):
                assert [e["code"] for e in errors] == ["too_long"]
            assert len(errors) + len(new.get("bot_done", [])) == 1, new  # an answer or a reason
        elif name == "session_request":
            [session] = new["session_confirm"]
            assert {e["code"] for e in errors} <= {"bad_session"}
        elif name == "disconnect":
            assert new == {}
        else:
            assert new == {"error_message": [{"code": "empty", "text": "The message was empty."}]}

    try:
        one()
        assert tab.client.connected
        assert answers_the_question(ask(tab, session))
    finally:
        tab.close()
    assert_nothing_written_is_logged(assistant)


def test_text_no_person_types_is_cleaned_and_answered(assistant):
    """A lone surrogate (a `\\ud800` escape) failed the turn in spaCy, and then the crisis
    check of the failed turn too: no answer and no error, only the end of typing. A NUL would
    not fit in PostgreSQL."""
    tab = Tab()
    session = tab.open(assistant.url)
    try:
        tab.say(session, QUESTION + "\ud800")
        tab.say(session, "how long\x00 is a\x1b session?\x85")
        tab.wait_for("bot_done", 2)  # each turn's replies come before its bot_done
    finally:
        tab.close()
    assert "error_message" not in tab.events
    assert len([r for r in tab.events["bot_uttered"] if answers_the_question([r])]) == 2
    said = [e["text"] for e in assistant.tracker(session)["events"] if e["event"] == "user"]
    assert sorted(said) == sorted([QUESTION + "\ufffd", QUESTION])


def test_an_event_without_arguments_or_with_extra_ones_is_handled(assistant):
    """Handlers that took exactly one payload raised on none or two: no answer, no reason."""
    tab = Tab()
    session = tab.open(assistant.url)
    try:
        tab.client.emit("user_uttered")
        [error] = tab.wait_for("error_message")
        tab.client.emit("session_request")
        confirmed = tab.wait_for("session_confirm", 2)[-1]
        tab.client.emit("user_uttered", ({"session_id": confirmed, "message": QUESTION}, "more"))
        tab.wait_for("bot_done")
    finally:
        tab.close()
    assert error["code"] == "malformed"
    assert confirmed != session
    assert answers_the_question(tab.events["bot_uttered"])


def test_an_event_a_client_names_disconnect_does_not_close_its_chat(assistant, staff_api_token):
    """A client's own `disconnect` event ran the disconnect handler: staff were told the chat
    was closed and could not reply, while it was open."""

    def chat_open(session: str) -> bool:
        reply = requests.get(
            f"{assistant.url}/webhooks/staff/conversations/{session}",
            headers={"Authorization": f"Bearer {staff_api_token}"},
            timeout=60,
        )
        return reply.json()["chat_open"]

    tab = Tab()
    session = tab.open(assistant.url)
    try:
        tab.say(session, QUESTION)  # a web chat conversation, for the staff API
        tab.wait_for("bot_done")
        assert chat_open(session) is True
        tab.client.call("disconnect", MARKER, timeout=TIMEOUT)  # back once it was handled
        assert chat_open(session) is True
    finally:
        tab.close()
    deadline = time.monotonic() + TIMEOUT
    while chat_open(session) and time.monotonic() < deadline:  # a real disconnect still counts
        time.sleep(0.1)
    assert chat_open(session) is False


def test_oversize_messages_are_refused_and_only_a_multi_megabyte_one_closes_its_socket(assistant):
    tab = Tab()
    session = tab.open(assistant.url)
    try:
        tab.say(session, MARKER + "x" * 900_000)  # far over 1000 characters; one socket.io frame
        [error] = tab.wait_for("error_message")
        assert error["code"] == "too_long" and "1000" in error["text"]
        assert answers_the_question(ask(tab, session))
        # socket.io's limit (a 1 MB frame): the transport closes the socket, reading nothing
        tab.say(session, MARKER + "y" * 3_000_000)
        deadline = time.monotonic() + TIMEOUT
        while tab.client.connected and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not tab.client.connected
    finally:
        tab.close()
    again = Tab()  # the widget reconnects to its conversation, which goes on
    try:
        assert again.open(assistant.url, session) == session
        assert answers_the_question(ask(again, session))
    finally:
        again.close()
    assert_nothing_written_is_logged(assistant)


RAW_PACKETS = [  # what a client other than socket.io's could write on the socket
    "2",
    "2[",
    "2[]",
    f'2["{MARKER}"]',
    f'2[{{"{MARKER}": 1}}]',
    f'2[["{MARKER}"]]',
    f'2/{MARKER},["user_uttered"]',
    f"9{MARKER}",
    f'5-["{MARKER}"]',
    f'2abc["{MARKER}"]',
    f'21234567890123456789012345["user_uttered",{{"message":"{MARKER}"}}]',
    f'2["message","{MARKER}"]',
    '2["session_request",{"session_id":{"$ne":null}}]',
]


def test_raw_junk_on_the_socket_is_passed_over(assistant):
    tab = Tab()
    session = tab.open(assistant.url)
    try:
        for raw in RAW_PACKETS:
            tab.client.eio.send(raw)
        session = tab.wait_for("session_confirm", 2)[-1]  # the last one: a new conversation
        assert tab.client.connected
        assert answers_the_question(ask(tab, session))
    finally:
        tab.close()
    assert_nothing_written_is_logged(assistant)


def test_a_flood_of_bad_events_gets_a_reason_each_and_the_socket_still_answers(assistant):
    """A refused event costs the server next to nothing and the sender none of its rate
    limit: everyone, the flooding socket too, is answered at once."""
    bad: List[Tuple[Any, Any]] = [
        ("user_uttered", (MARKER,)),
        ("user_uttered", ()),
        ("user_uttered", ({"session_id": None, "message": MARKER},)),
        ("user_uttered", ({"session_id": SESSION, "message": [MARKER]},)),
        ("user_uttered", ({"session_id": SESSION, "message": " \x00\x1b\t "},)),
        ("user_uttered", ({"session_id": SESSION, "message": MARKER * 200},)),
        (MARKER, ({"session_id": SESSION, "message": MARKER},)),
    ]
    flood = [bad[i % len(bad)] for i in range(700)]
    reasons = sum(1 for name, _ in flood if name == "user_uttered")
    tab = Tab()
    session = tab.open(assistant.url)
    other = Tab()
    try:
        started = time.monotonic()
        for name, args in flood:
            tab.client.emit(name, with_session(args, session))
        errors = tab.wait_for("error_message", reasons)
        other_session = other.open(assistant.url)
        assert answers_the_question(ask(other, other_session, patient=False))
        assert answers_the_question(ask(tab, session, patient=False))
        assert time.monotonic() - started < 20
    finally:
        tab.close()
        other.close()
    assert {e["code"] for e in errors} == {"malformed", "no_session", "empty", "too_long"}
    assert len(tab.events["error_message"]) == reasons
    assert_nothing_written_is_logged(assistant)

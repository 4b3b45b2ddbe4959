"""The escalation store: idempotent, concurrent-safe recording; staff transitions; the CLI."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading

import pytest

from clinic.escalations import (
    EscalationError,
    acknowledge,
    get_escalation,
    list_deliveries,
    list_escalations,
    record_escalation,
    resolve,
)
from support import ROOT, migrated_engine, postgres_database

USER_TEXT = "honestly I have the pills lined up for tonight"
PHONE = "+15550100123"
T0 = dt.datetime(2025, 1, 15, 15, 0, tzinfo=dt.timezone.utc)


def facts(**changes):
    """The keyword arguments of one escalation, as the crisis action passes them."""
    values = dict(
        conversation_id=PHONE,
        message_id="m-1",
        channel="twilio",
        level="urgent",
        categories=["suicidal_plan", "means"],
        evidence=[{"text": "pills lined up", "rule": "means", "category": "means"}],
        subject="self",
        last_turns=[
            {"role": "bot", "text": "Hi, how can I help?"},
            {"role": "user", "text": USER_TEXT},
        ],
        reach_back=PHONE,
        targets=["webhook", "email"],
    )
    values.update(changes)
    return values


@pytest.fixture()
def database_url(tmp_path):
    return f"sqlite:///{tmp_path / 'clinic.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def any_engine(request, tmp_path):
    if request.param == "sqlite":
        yield migrated_engine(f"sqlite:///{tmp_path / 'clinic.db'}")
        return
    with postgres_database("escalations") as url:
        engine = migrated_engine(url)
        yield engine
        engine.dispose()


@pytest.fixture()
def engine(database_url):
    return migrated_engine(database_url)


def test_an_escalation_is_stored_with_a_pending_delivery_per_target(engine):
    escalation_id, created = record_escalation(engine, now=T0, **facts())
    assert created
    stored = get_escalation(engine, escalation_id)
    assert stored["created_at"] == T0 and stored["created_at"].tzinfo is not None
    assert stored["status"] == "open" and stored["reminders_sent"] == 0
    assert stored["categories"] == ["suicidal_plan", "means"]
    assert stored["evidence"][0]["text"] == "pills lined up"
    assert stored["last_turns"][-1] == {"role": "user", "text": USER_TEXT}
    assert stored["reach_back"] == PHONE
    sent_to = [
        (d["target"], d["purpose"], d["status"], d["attempts"])
        for d in list_deliveries(engine, escalation_id)
    ]
    assert sent_to == [("webhook", "new", "pending", 0), ("email", "new", "pending", 0)]


def test_recording_the_same_message_twice_keeps_one_escalation(engine):
    first = record_escalation(engine, **facts())
    again = record_escalation(engine, **facts(level="concern", targets=["webhook"]))
    assert first == (first[0], True)
    assert again == (first[0], False)
    assert len(list_escalations(engine)) == 1
    assert len(list_deliveries(engine, first[0])) == 2
    assert get_escalation(engine, first[0])["level"] == "urgent"


def test_no_targets_still_stores_the_escalation(engine):
    escalation_id, created = record_escalation(engine, **facts(targets=[]))
    assert created and list_deliveries(engine, escalation_id) == []


def test_concurrent_recording_creates_each_message_once(engine):
    threads_per_message, messages = 6, 3
    barrier = threading.Barrier(threads_per_message * messages)
    results, errors = [], []

    def record(message_id):
        try:
            barrier.wait()
            results.append(
                (
                    message_id,
                    record_escalation(
                        engine, **facts(message_id=message_id, conversation_id=f"c-{message_id}")
                    ),
                )
            )
        except Exception as error:  # surfaced by the assertion below
            errors.append(error)

    threads = [
        threading.Thread(target=record, args=(f"m-{n}",))
        for n in range(messages)
        for _ in range(threads_per_message)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(results) == threads_per_message * messages
    for n in range(messages):
        outcomes = [outcome for message_id, outcome in results if message_id == f"m-{n}"]
        assert len({escalation_id for escalation_id, _ in outcomes}) == 1
        assert sum(created for _, created in outcomes) == 1
    stored = list_escalations(engine)
    assert len(stored) == messages
    assert all(len(list_deliveries(engine, row["id"])) == 2 for row in stored)


def test_bad_values_are_refused(engine):
    with pytest.raises(ValueError, match="level"):
        record_escalation(engine, **facts(level="high"))
    with pytest.raises(ValueError, match="target"):
        record_escalation(engine, **facts(targets=["pager"]))
    with pytest.raises(ValueError, match="role"):
        record_escalation(engine, **facts(last_turns=[{"role": "system", "text": "x"}]))
    assert list_escalations(engine) == []


def test_acknowledge_then_resolve(engine):
    escalation_id, _ = record_escalation(engine, **facts())
    later = T0 + dt.timedelta(minutes=3)
    acknowledged = acknowledge(engine, escalation_id, by="  Dana  R. ", now=later)
    assert acknowledged["status"] == "acknowledged"
    assert acknowledged["acknowledged_by"] == "Dana R." and acknowledged["acknowledged_at"] == later
    resolved = resolve(
        engine, escalation_id, by="Sam", outcome="reached", note="called back, safe with family"
    )
    assert resolved["status"] == "resolved" and resolved["resolved_by"] == "Sam"
    assert resolved["outcome"] == "reached"
    assert resolved["note"] == "called back, safe with family"
    assert resolved["acknowledged_by"] == "Dana R."


@pytest.mark.parametrize("outcome", [None, "", "maybe", "REACHED"])
def test_resolving_needs_one_of_the_three_outcomes(engine, outcome):
    escalation_id, _ = record_escalation(engine, **facts())
    with pytest.raises(EscalationError, match="say what happened"):
        resolve(engine, escalation_id, by="Sam", outcome=outcome)
    assert get_escalation(engine, escalation_id)["status"] == "open"
    for done in ("not_reached", "emergency_services"):
        other, _ = record_escalation(engine, **facts(message_id=f"m-{done}", conversation_id=done))
        assert resolve(engine, other, by="Sam", outcome=done)["outcome"] == done


def test_an_open_escalation_can_be_resolved_directly(engine):
    escalation_id, _ = record_escalation(engine, **facts())
    assert resolve(engine, escalation_id, by="Sam", outcome="not_reached")["status"] == "resolved"


def test_invalid_transitions_and_unknown_ids_name_the_escalation(engine):
    escalation_id, _ = record_escalation(engine, **facts())
    acknowledge(engine, escalation_id, by="Dana")
    with pytest.raises(EscalationError, match=f"#{escalation_id} is already acknowledged by Dana"):
        acknowledge(engine, escalation_id, by="Sam")
    resolve(engine, escalation_id, by="Sam", outcome="reached")
    with pytest.raises(EscalationError, match=f"#{escalation_id} is already resolved by Sam"):
        acknowledge(engine, escalation_id, by="Dana")
    with pytest.raises(EscalationError, match=f"#{escalation_id} .*cannot be resolved"):
        resolve(engine, escalation_id, by="Dana", outcome="reached")
    for change in (
        get_escalation,
        lambda e, i: acknowledge(e, i, by="Dana"),
        lambda e, i: resolve(e, i, by="Dana", outcome="reached"),
    ):
        with pytest.raises(EscalationError, match="#999 does not exist"):
            change(engine, 999)
    with pytest.raises(EscalationError, match="staff name"):
        resolve(engine, escalation_id, by="  ", outcome="reached")


def test_listing_shows_urgent_first_then_newest(engine):
    def at(minutes, **changes):
        return record_escalation(
            engine,
            now=T0 + dt.timedelta(minutes=minutes),
            **facts(message_id=f"m-{minutes}", conversation_id=f"c-{minutes}", **changes),
        )[0]

    # Each in a conversation of its own (one conversation's later messages are collected).
    old_urgent = at(0)
    concern = at(5, level="concern")
    new_urgent = at(10)
    newest_concern = at(15, level="concern")
    assert [row["id"] for row in list_escalations(engine)] == [
        new_urgent,
        old_urgent,
        newest_concern,
        concern,
    ]
    acknowledge(engine, new_urgent, by="Dana")
    assert [row["id"] for row in list_escalations(engine, status="open")] == [
        old_urgent,
        newest_concern,
        concern,
    ]
    assert [row["id"] for row in list_escalations(engine, status="acknowledged")] == [new_urgent]
    assert [row["id"] for row in list_escalations(engine, limit=2)] == [new_urgent, old_urgent]
    with pytest.raises(ValueError, match="status"):
        list_escalations(engine, status="closed")


def cli(database_url, *args):
    return subprocess.run(
        [sys.executable, "-m", "clinic.escalations", *args],
        cwd=ROOT,
        env={**os.environ, "CLINIC_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_command_line_lists_shows_acknowledges_and_resolves(engine, database_url):
    urgent_id, _ = record_escalation(engine, now=T0, **facts())
    concern_id, _ = record_escalation(
        engine,
        now=T0 + dt.timedelta(minutes=1),
        **facts(
            message_id="m-2",
            conversation_id="rest-2",
            level="concern",
            channel="rest",
            reach_back=None,
            categories=["past_ideation"],
        ),
    )

    listing = cli(database_url, "list")
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"#{urgent_id} ") and "URGENT" in lines[0]
    assert "twilio" in lines[0] and "suicidal_plan,means" in lines[0] and "open" in lines[0]
    assert "9:00 AM CST" in lines[0]  # the clinic's time zone
    assert lines[1].startswith(f"#{concern_id} ") and "CONCERN" in lines[1]
    for private in (USER_TEXT, "pills", "lined up", PHONE, "Hi, how can I help"):
        assert private not in listing.stdout

    shown = cli(database_url, "show", str(urgent_id))
    assert shown.returncode == 0, shown.stderr
    for detail in (
        USER_TEXT,
        "pills lined up",
        PHONE,
        "Hi, how can I help?",
        "suicidal_plan",
        "webhook (new): pending",
        "email (new): pending",
    ):
        assert detail in shown.stdout

    acked = cli(database_url, "ack", str(urgent_id), "--by", "Dana")
    assert acked.returncode == 0 and "acknowledged by Dana" in acked.stdout
    still_open = cli(database_url, "list", "--status", "open").stdout
    assert still_open.startswith(f"#{concern_id} ") and f"#{urgent_id} " not in still_open
    assert "acknowledged" in cli(database_url, "list", "--status", "acknowledged").stdout

    unsaid = cli(database_url, "resolve", f"#{urgent_id}", "--by", "Sam")
    assert unsaid.returncode != 0 and "--outcome" in unsaid.stderr
    resolved = cli(
        database_url,
        "resolve",
        f"#{urgent_id}",
        "--by",
        "Sam",
        "--outcome",
        "emergency_services",
        "--note",
        "called back",
    )
    assert resolved.returncode == 0 and "resolved by Sam" in resolved.stdout
    assert "emergency_services" in resolved.stdout
    assert get_escalation(engine, urgent_id)["note"] == "called back"
    assert get_escalation(engine, urgent_id)["outcome"] == "emergency_services"
    listed = cli(database_url, "list", "--status", "resolved").stdout
    assert listed.startswith(f"#{urgent_id} ") and "resolved (emergency_services)" in listed
    assert "Outcome:         emergency_services" in cli(database_url, "show", str(urgent_id)).stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["show", "999"], "escalation #999 does not exist"),
        (["show", "abc"], "'abc' is not an escalation number"),
        (["ack", "999", "--by", "Dana"], "escalation #999 does not exist"),
        (
            ["resolve", "0", "--by", "Dana", "--outcome", "reached"],
            "'0' is not an escalation number",
        ),
    ],
)
def test_the_command_line_refuses_bad_ids_in_one_line(engine, database_url, args, message):
    result = cli(database_url, *args)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [f"error: {message}"]
    assert result.stdout == ""


def test_the_command_line_refuses_an_invalid_transition(engine, database_url):
    escalation_id, _ = record_escalation(engine, **facts())
    resolve(engine, escalation_id, by="Sam", outcome="reached")
    result = cli(database_url, "ack", str(escalation_id), "--by", "Dana")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: escalation #{escalation_id} is already resolved by Sam; it cannot be acknowledged"
    )


def test_an_empty_store_says_so(engine, database_url):
    result = cli(database_url, "list")
    assert result.returncode == 0 and result.stdout.strip() == "No escalations."


def turns(*texts):
    return [{"role": "user", "text": text} for text in texts]


def test_a_flood_in_one_conversation_pages_staff_once_and_keeps_every_message(engine):
    """A script repeating a crisis message made an escalation, and alerts, per message."""
    first, created = record_escalation(engine, **facts(message_id="m-1", last_turns=turns("a")))
    for n in range(2, 40):
        again, created = record_escalation(
            engine, **facts(message_id=f"m-{n}", last_turns=turns(*"abcdefgh"[: n % 8 + 1]))
        )
        assert (again, created) == (first, False)
    assert len(list_escalations(engine)) == 1
    assert len(list_deliveries(engine, first)) == 2  # one alert per target, not 39
    stored = get_escalation(engine, first)
    assert stored["collected"] == [f"m-{n}" for n in range(2, 40)]
    assert len(stored["evidence"]) <= 50 and len(stored["last_turns"]) <= 30
    # The sweep recording the same messages again changes nothing.
    assert record_escalation(engine, **facts(message_id="m-7")) == (first, False)
    assert get_escalation(engine, first)["collected"] == [f"m-{n}" for n in range(2, 40)]


def test_a_concern_does_not_collect_an_urgent_message_and_resolved_collects_nothing(engine):
    concern, _ = record_escalation(engine, **facts(message_id="m-1", level="concern"))
    urgent, created = record_escalation(engine, **facts(message_id="m-2"))
    assert created and urgent != concern
    assert record_escalation(engine, **facts(message_id="m-3", level="concern")) == (urgent, False)
    resolve(engine, urgent, by="Sam", outcome="reached")
    resolve(engine, concern, by="Sam", outcome="reached")
    later, created = record_escalation(engine, **facts(message_id="m-4"))
    assert created and later not in (concern, urgent)


def test_messages_of_one_conversation_recorded_at_once_make_one_escalation(any_engine):
    engine = any_engine
    barrier = threading.Barrier(8)
    results, errors = [], []

    def record(n):
        try:
            barrier.wait()
            results.append(record_escalation(engine, **facts(message_id=f"m-{n}")))
        except Exception as error:  # surfaced by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=record, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len({escalation_id for escalation_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert len(get_escalation(engine, results[0][0])["collected"]) == 7

"""Retention (`console.admin.retention`, `python -m console retention`): conversations are
written the way Rasa writes them (its `SQLTrackerStore`, with its `SQLEventBroker` attached,
saving trackers of real events with old timestamps), the index is built by `projector.index`,
and every clinic record is made by the module that owns it. The main test runs on SQLite and on
PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from pathlib import Path
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
from rasa.core.brokers.sql import SQLEventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from clinic import escalations, settings, sms
from clinic.db import contact_requests as requests_table
from clinic.db import save_contact_request
from clinic.settings import Secret
from console import create_app
from console.__main__ import main
from console.admin import retention
from console.auth import accounts
from console.contact_requests import queries as contact_requests
from console.conversations import queries as conversations
from projector import index
from support import migrated_engine

NOW = dt.datetime.now(dt.timezone.utc)
OLD, RECENT = NOW - dt.timedelta(days=60), NOW - dt.timedelta(days=2)
DAYS = 30
SMS_ID = sms.conversation_id_for("+15550100001", Secret("k" * 64))
WORDS = "my private worry about my dose"  # message text: never in the command's output
PG_ADMIN_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


class Stores:
    """The clinic database (tracker store, index, clinic records) and the broker's."""

    def __init__(self, clinic_url: str, broker_url: str, tracker_store: SQLTrackerStore):
        self.clinic_url, self.broker_url = clinic_url, broker_url
        self.clinic = migrated_engine(clinic_url)
        self.broker = index.broker_engine(broker_url)
        self.tracker_store = tracker_store

    def save(self, conversation_id: str, events: list) -> None:
        tracker = DialogueStateTracker.from_events(conversation_id, events)
        asyncio.run(self.tracker_store.save(tracker))  # also publishes to the broker

    def rebuild_index(self) -> None:
        index.rebuild(self.clinic, self.clinic, self.broker)
        index.catch_up(self.clinic, self.broker, index.BROKER)


def _sqlite_stores(tmp_path: Path) -> Stores:
    clinic_path, broker_path = tmp_path / "assistant.db", tmp_path / "events.db"
    broker = SQLEventBroker(dialect="sqlite", db=str(broker_path))
    store = SQLTrackerStore(dialect="sqlite", db=str(clinic_path), event_broker=broker)
    return Stores(f"sqlite:///{clinic_path}", f"sqlite:///{broker_path}", store)


@pytest.fixture
def postgres_databases():
    """Two throwaway PostgreSQL databases (clinic, broker), dropped afterwards."""
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", future=True)
    try:
        admin.connect().close()
    except sa.exc.OperationalError as error:
        admin.dispose()
        pytest.skip(
            f"PostgreSQL is not reachable on 127.0.0.1:5432 as postgres "
            f"({type(error.orig).__name__})"
        )
    names = [f"retention_test_{secrets.token_hex(6)}", f"retention_test_{secrets.token_hex(6)}"]
    quote = admin.dialect.identifier_preparer.quote
    with admin.connect() as connection:
        for name in names:
            connection.execute(sa.text(f"CREATE DATABASE {quote(name)}"))
    yield names
    with admin.connect() as connection:
        for name in names:
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS {quote(name)} WITH (FORCE)"))
    admin.dispose()


def _postgres_stores(names: list[str]) -> Stores:
    clinic_db, broker_db = names
    where = dict(dialect="postgresql", host="127.0.0.1", port=5432, username="postgres")
    broker = SQLEventBroker(db=broker_db, **where)
    store = SQLTrackerStore(db=clinic_db, event_broker=broker, **where)
    base = "postgresql+psycopg2://postgres@127.0.0.1:5432/"
    return Stores(base + clinic_db, base + broker_db, store)


@pytest.fixture
def stores(tmp_path):
    return _sqlite_stores(tmp_path)


def conversation(
    conversation_id: str,
    start: dt.datetime,
    text: str = WORDS,
    channel: str = "webchat",
    crisis: str = "none",
) -> list:
    """The events Rasa stores for a session with one question and its answer."""
    ts = start.timestamp()
    parse = {
        "text": text,
        "intent": {"name": "faq", "confidence": 0.97},
        "entities": [],
        "response_selector": {
            "faq": {"response": {"intent_response_key": "faq/session_length", "confidence": 0.95}}
        },
        "crisis": {"level": crisis},
    }
    return [
        ActionExecuted("action_session_start", timestamp=ts),
        SessionStarted(timestamp=ts + 0.01),
        ActionExecuted("action_listen", timestamp=ts + 0.02),
        UserUttered(
            text,
            parse_data=parse,
            timestamp=ts + 1,
            input_channel=channel,
            message_id=f"{conversation_id}-{ts}",
        ),
        ActionExecuted("utter_faq", timestamp=ts + 1.5),
        BotUttered("An infusion session takes about an hour.", timestamp=ts + 2),
        ActionExecuted("action_listen", timestamp=ts + 2.1),
    ]


def escalate(stores: Stores, conversation_id: str, at: dt.datetime, status: str) -> int:
    escalation_id, _ = escalations.record_escalation(
        stores.clinic,
        conversation_id=conversation_id,
        message_id=f"m-{conversation_id}",
        channel="webchat",
        level=escalations.URGENT,
        categories=["self_harm"],
        evidence=[],
        subject="self",
        last_turns=[{"role": "user", "text": WORDS}],
        targets=[settings.WEBHOOK, settings.EMAIL],
        now=at,
    )
    if status in (escalations.ACKNOWLEDGED, escalations.RESOLVED):
        escalations.acknowledge(stores.clinic, escalation_id, by="sam", now=at)
    if status == escalations.RESOLVED:
        escalations.resolve(
            stores.clinic,
            escalation_id,
            by="sam",
            outcome=escalations.REACHED,
            note="called back",
            now=at,
        )
    return escalation_id


def annotate(stores: Stores, conversation_id: str, at: dt.datetime) -> None:
    conversations.add_tag(stores.clinic, conversation_id, "follow up", by="sam")
    conversations.set_reviewed(stores.clinic, conversation_id, True, by="sam")
    conversations.set_note(stores.clinic, conversation_id, "asked about dosing", by="sam")
    request_id = save_contact_request(
        stores.clinic,
        conversation_id=conversation_id,
        channel="webchat",
        kind="consultation",
        name="Pat",
        contact_kind="phone",
        contact="+15550100002",
        preferred_time="mornings",
        now=at,
    )
    contact_requests.set_status(stores.clinic, request_id, "contacted", by="sam")


def fill(stores: Stores) -> dict[str, int]:
    """Five conversations; the escalation ids by conversation."""
    stores.save("old-web", conversation("old-web", OLD))
    annotate(stores, "old-web", OLD)
    made = {"old-web": escalate(stores, "old-web", OLD, escalations.RESOLVED)}
    stores.save(SMS_ID, conversation(SMS_ID, OLD - dt.timedelta(days=5), channel=sms.CHANNEL))
    sms.remember_number(stores.clinic, SMS_ID, "+15550100001", now=OLD)
    sms.claim_message(
        stores.clinic, "SM" + "1" * 32, SMS_ID, now=OLD, lease=dt.timedelta(seconds=30)
    )
    sms.record_consent(stores.clinic, SMS_ID, sms.OPT_OUT, keyword="STOP", now=OLD)
    sms.offer_menu(stores.clinic, SMS_ID, {"1": "/faq"}, now=OLD)
    for name, status in (
        ("old-open", escalations.OPEN),
        ("old-acknowledged", escalations.ACKNOWLEDGED),
    ):
        stores.save(name, conversation(name, OLD, crisis="urgent"))
        annotate(stores, name, OLD)
        made[name] = escalate(stores, name, OLD, status)
    # Started long ago, but its last message is recent: not old.
    stores.save("returning", conversation("returning", OLD) + conversation("returning", RECENT))
    annotate(stores, "returning", RECENT)
    stores.rebuild_index()
    return made


def _where(table, conversation_id):
    if table is contact_requests.request_events:
        return table.c.request_id.in_(
            sa.select(requests_table.c.id).where(
                requests_table.c.conversation_id == conversation_id
            )
        )
    if table is escalations.deliveries:
        return table.c.escalation_id.in_(
            sa.select(escalations.escalations.c.id).where(
                escalations.escalations.c.conversation_id == conversation_id
            )
        )
    return table.c.conversation_id == conversation_id


CLINIC_TABLES = [
    contact_requests.request_events,
    escalations.deliveries,
    escalations.escalations,
    sms.messages,
    sms.consent_events,
    sms.menus,
    sms.numbers,
    conversations.tags,
    conversations.reviews,
    index.turns,
    index.conversations,
]


def records(stores: Stores, conversation_id: str) -> dict[str, int]:
    """How many rows each table holds of a conversation, in both databases."""
    counts = {}
    with stores.clinic.connect() as connection:
        for table in [*CLINIC_TABLES, requests_table]:
            counts[table.name] = connection.execute(
                sa.select(sa.func.count()).select_from(table).where(_where(table, conversation_id))
            ).scalar()
        counts["tracker events"] = connection.execute(
            sa.text("SELECT count(*) FROM events WHERE sender_id = :id"), {"id": conversation_id}
        ).scalar()
    with stores.broker.connect() as connection:
        counts["broker events"] = connection.execute(
            sa.text("SELECT count(*) FROM events WHERE sender_id = :id"), {"id": conversation_id}
        ).scalar()
    return counts


OLD_ONES, KEPT_ONES = ("old-web", SMS_ID), ("old-open", "old-acknowledged", "returning")


def check_retention(stores: Stores) -> None:
    made = fill(stores)
    before = {name: records(stores, name) for name in (*OLD_ONES, *KEPT_ONES)}
    sms_tables = {t.name for t in (sms.messages, sms.consent_events, sms.menus, sms.numbers)}
    assert all(count for table, count in before["old-web"].items() if table not in sms_tables)
    assert all(before[SMS_ID][table] == 1 for table in sms_tables)
    assert before[SMS_ID]["broker events"] == before[SMS_ID]["tracker events"] == 7

    report = retention.purge(stores.clinic, stores.broker, DAYS)

    assert report.deleted == 2 and report.active_again == 0
    assert report.kept == {
        "old-open": [made["old-open"]],
        "old-acknowledged": [made["old-acknowledged"]],
    }
    for name in OLD_ONES:
        assert set(records(stores, name).values()) == {0}, name
    for name in KEPT_ONES:
        assert records(stores, name) == before[name], name
    assert report.rows["tracker store events"] == 14 and report.rows["event broker events"] == 14
    assert report.rows["escalations"] == 1 and report.rows["escalation deliveries"] == 2
    assert report.rows["SMS numbers"] == 1 and report.rows["contact requests"] == 1
    assert report.rows["contact request history"] == 1
    entry = accounts.audit_entries(stores.clinic, limit=1)[0]
    assert (entry["username"], entry["action"]) == ("retention", "retention")
    assert entry["target"].startswith("2 conversations older than 30 days deleted, 2 kept")

    again = retention.purge(stores.clinic, stores.broker, DAYS)
    assert again.deleted == 0 and sum(again.rows.values()) == 0 and len(again.kept) == 2

    stores.rebuild_index()  # nothing left anywhere that would bring them back
    with stores.clinic.connect() as connection:
        indexed = set(
            connection.execute(sa.select(index.conversations.c.conversation_id)).scalars()
        )
    assert indexed == set(KEPT_ONES)
    for name in OLD_ONES:
        assert set(records(stores, name).values()) == {0}, name


def test_old_conversations_go_from_every_table_unresolved_escalations_keep_theirs(stores):
    check_retention(stores)


def test_the_same_against_postgresql(postgres_databases):
    check_retention(_postgres_stores(postgres_databases))


SEARCH = {"crisis": "none", "tag": "follow up", "q": "private worry"}


def search_in_the_console(stores: Stores) -> None:
    """Staff search the conversations and an admin exports them, in the console (which writes
    the audit entries); then all that the audit log holds is made as old as OLD."""
    accounts.create_user(stores.clinic, "sam", "correct horse battery staple")
    accounts.create_user(stores.clinic, "ada", "correct horse battery staple", accounts.ADMIN)
    app = create_app(
        {"DATABASE_URL": stores.clinic_url, "TESTING": True, "SECRET_KEY": secrets.token_hex(32)}
    )
    for username, path, reveal in (
        ("sam", "/conversations", {}),
        ("ada", "/conversations.csv", {"reveal": "yes"}),
    ):
        client = app.test_client()
        with client.session_transaction() as session:
            session["csrf"] = "token"
        assert (
            client.post(
                "/login",
                data={
                    "username": username,
                    "csrf_token": "token",
                    "password": "correct horse battery staple",
                },
            ).status_code
            == 302
        )
        assert client.get(f"{path}?{urlencode({**SEARCH, **reveal})}").status_code == 200
    accounts.audit(stores.clinic, "sam", "view_escalation", "escalation 7")
    with stores.clinic.begin() as connection:
        connection.execute(sa.update(accounts.audit_log).values(at=OLD))


def check_audit_pruning(stores: Stores) -> None:
    stores.save("old-web", conversation("old-web", OLD))
    annotate(stores, "old-web", OLD)
    stores.rebuild_index()
    search_in_the_console(stores)
    accounts.audit(
        stores.clinic, "sam", "view_conversations", '1 conversations {"q": "dose"}'
    )  # recent: within the period
    before = {entry["id"]: entry for entry in accounts.audit_entries(stores.clinic)}
    searches = [entry for entry in before.values() if "private worry" in str(entry["target"])]
    assert [(e["username"], e["action"]) for e in searches] == [
        ("ada", "export_csv_revealed"),
        ("sam", "view_conversations"),
    ]
    assert all('"tag": "follow up"' in e["target"] for e in searches)

    dry = retention.purge(stores.clinic, stores.broker, DAYS, dry_run=True)
    assert dry.audit_pruned == 2
    assert (
        "would remove the search text of 2 audit log entries older than 30 days" in (dry.lines()[2])
    )
    assert {e["id"]: e for e in accounts.audit_entries(stores.clinic)} == before

    report = retention.purge(stores.clinic, stores.broker, DAYS)
    assert report.deleted == 1 and report.audit_pruned == 2
    assert (
        "removed the search text of 2 audit log entries older than 30 days" in (report.lines()[2])
    )
    after = {entry["id"]: entry for entry in accounts.audit_entries(stores.clinic)}
    for entry_id, entry in before.items():
        pruned = after[entry_id]
        assert {k: pruned[k] for k in ("username", "action", "at")} == {
            k: entry[k] for k in ("username", "action", "at")
        }
        if entry in searches:
            assert pruned["target"] == '1 conversations {"crisis": "none", "removed": "q, tag"}'
        else:
            assert pruned["target"] == entry["target"]
    assert not [
        e
        for e in after.values()
        if "private worry" in str(e["target"]) or "follow up" in str(e["target"])
    ]
    assert after[max(after)]["target"].endswith("search text removed from 2 audit entries")

    again = retention.purge(stores.clinic, stores.broker, DAYS)
    assert again.audit_pruned == 0
    assert [e["target"] for e in accounts.audit_entries(stores.clinic)][1:] == [
        e["target"] for e in after.values()
    ]


def test_audit_entries_past_the_period_keep_who_when_what_but_not_the_search_text(stores):
    check_audit_pruning(stores)


def test_audit_entries_are_pruned_the_same_against_postgresql(postgres_databases):
    check_audit_pruning(_postgres_stores(postgres_databases))


def test_a_dry_run_counts_the_same_and_deletes_nothing(stores):
    fill(stores)
    before = {name: records(stores, name) for name in (*OLD_ONES, *KEPT_ONES)}
    dry = retention.purge(stores.clinic, stores.broker, DAYS, dry_run=True)
    assert {name: records(stores, name) for name in before} == before
    assert not [e for e in accounts.audit_entries(stores.clinic) if e["username"] == "retention"]
    real = retention.purge(stores.clinic, stores.broker, DAYS)
    assert (dry.deleted, dry.rows, dry.kept) == (real.deleted, real.rows, real.kept)


def test_a_crash_part_way_leaves_the_conversation_whole_and_listed(stores, monkeypatch):
    fill(stores)
    real_remove = retention._remove

    def crash_at_the_index(connection, table, where, dry_run):
        if table is index.conversations:
            raise RuntimeError("power cut")
        return real_remove(connection, table, where, dry_run)

    monkeypatch.setattr(retention, "_remove", crash_at_the_index)
    with pytest.raises(RuntimeError):
        retention.purge(stores.clinic, stores.broker, DAYS)
    first = records(stores, SMS_ID)  # the oldest, chosen first: its broker events are gone,
    assert first["broker events"] == 0  # its clinic transaction rolled back
    assert first["console_conversations"] == 1 and first["tracker events"] == 7
    assert first["clinic_sms_numbers"] == 1
    stores.rebuild_index()  # what a rebuild makes of it: the same conversation, still old
    monkeypatch.setattr(retention, "_remove", real_remove)
    report = retention.purge(stores.clinic, stores.broker, DAYS)
    assert report.deleted == 2
    for name in OLD_ONES:
        assert set(records(stores, name).values()) == {0}, name


def test_a_conversation_with_a_message_the_index_has_not_seen_is_left(tmp_path):
    stores = _sqlite_stores(tmp_path)
    stores.save("old-web", conversation("old-web", OLD))
    stores.rebuild_index()
    # The user comes back; the tracker store has it, the index not yet.
    unbrokered = SQLTrackerStore(dialect="sqlite", db=str(tmp_path / "assistant.db"))
    tracker = asyncio.run(unbrokered.retrieve("old-web"))
    for event in conversation("old-web", NOW):
        tracker.update(event)
    asyncio.run(unbrokered.save(tracker))
    report = retention.purge(stores.clinic, stores.broker, DAYS)
    assert report.deleted == 0 and report.active_again == 1
    assert records(stores, "old-web")["tracker events"] == 14


def test_it_refuses_when_the_tracker_store_is_not_in_the_clinic_database(tmp_path):
    clinic = migrated_engine(f"sqlite:///{tmp_path / 'clinic.db'}")
    with clinic.begin() as connection:
        index.apply_events(
            connection, [("c-1", {"event": "user", "text": "hi", "timestamp": OLD.timestamp()})]
        )
    with pytest.raises(retention.RetentionError, match="tracker store"):
        retention.purge(clinic, None, DAYS)


def test_the_period_is_stored_and_checked(stores):
    assert retention.retention_days(stores.clinic) is None
    retention.set_retention_days(stores.clinic, 90, by="ada")
    assert retention.retention_days(stores.clinic) == 90
    retention.set_retention_days(stores.clinic, None, by="ada")
    assert retention.retention_days(stores.clinic) is None
    for wrong in ("0", "-3", "ten", "36501", "1.5"):
        with pytest.raises(retention.RetentionError):
            retention.parse_days(wrong)


def test_the_command_uses_the_stored_period_and_prints_counts_only(stores, monkeypatch, capsys):
    fill(stores)
    monkeypatch.setenv("CLINIC_DATABASE_URL", stores.clinic_url)
    monkeypatch.setenv("CLINIC_EVENTS_DATABASE_URL", stores.broker_url)

    assert main(["retention"]) == 1
    assert "no retention period" in capsys.readouterr().err

    retention.set_retention_days(stores.clinic, 90, by="ada")
    assert main(["retention", "--dry-run"]) == 0  # 60 days old is within 90
    assert "would delete 0 conversations" in capsys.readouterr().out

    assert main(["retention", "--days", "0"]) == 1
    assert "1 to 36500 days" in capsys.readouterr().err

    assert main(["retention", "--days", str(DAYS), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would delete 2 conversations" in out and "nothing is deleted" in out
    assert records(stores, "old-web")["console_conversations"] == 1

    assert main(["retention", "--days", str(DAYS)]) == 0
    out = capsys.readouterr().out
    assert "deleted 2 conversations" in out and "tracker store events 14" in out
    assert "kept 2 conversations with an escalation that is not resolved" in out
    assert WORDS not in out and "infusion" not in out and "old-web" not in out

    assert main(["retention", "--days", str(DAYS)]) == 0
    assert "deleted 0 conversations" in capsys.readouterr().out

"""The delivery worker against a real webhook receiver and a real SMTP server on loopback."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import itertools
import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from clinic import settings
from clinic.db import utc_now
from clinic.delivery import NO_TARGET_MESSAGE, run_once
from clinic.escalations import acknowledge, list_deliveries, record_escalation
from clinic.migrate import upgrade
from clinic.profile import load_profile
from support import ROOT, free_port, migrated_engine, postgres_database

WEBHOOK_ENV = "TEST_CLINIC_ALERT_WEBHOOK_URL"
WEBHOOK_SECRET = "T000/B000/xoxb-not-a-real-secret"
SMTP_USER, SMTP_PASSWORD = "alerts-bot", "pa55-not-a-real-one"
USER_TEXT = "my plan is the bridge on elm street after work"
EVIDENCE_WORDS = "bridge on elm street"
PHONE = "+15550100123"
T0 = dt.datetime(2025, 1, 15, 15, 0, tzinfo=dt.timezone.utc)  # 9:00 AM in Chicago

# The test SMTP server takes a password over plain text on loopback; real ones use STARTTLS.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


class WebhookReceiver:
    """A Slack-like incoming webhook: records each POST, answers with the queued statuses."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}/services/{WEBHOOK_SECRET}"
        self.received: list[dict] = []
        self.answers: list[int] = []
        self.server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = receiver.answers.pop(0) if receiver.answers else 200
                receiver.received.append(
                    {
                        "key": self.headers["Idempotency-Key"],
                        "status": status,
                        "path": self.path,
                        "body": json.loads(body),
                    }
                )
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def delivered(self) -> Counter:
        return Counter(r["key"] for r in self.received if 200 <= r["status"] < 300)


class MailReceiver:
    """A real SMTP server (aiosmtpd) that requires the worker's login."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.messages: list[email.message.EmailMessage] = []
        self.controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(message)
        return "250 OK"

    @staticmethod
    def authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = auth_data.login == SMTP_USER.encode() and auth_data.password == SMTP_PASSWORD.encode()
        return AuthResult(success=ok)

    def start(self) -> None:
        self.controller = Controller(
            self,
            hostname="127.0.0.1",
            port=self.port,
            authenticator=self.authenticate,
            auth_required=True,
            auth_require_tls=False,
        )
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def delivered(self) -> Counter:
        return Counter(message["X-Escalation-Delivery"] for message in self.messages)


@pytest.fixture()
def profile_path(tmp_path) -> Path:
    """The shipped profile with this test's notification settings."""
    raw = yaml.safe_load((ROOT / "clinic_profile.yml").read_text(encoding="utf-8"))
    raw["notifications"] = {
        "webhook_url_env": WEBHOOK_ENV,
        "email_to": "alerts@harborlight.example",
        "urgent_ack_minutes": 15,
    }
    path = tmp_path / "clinic_profile.yml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


@pytest.fixture()
def profile(profile_path):
    return load_profile(profile_path)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> Iterator[str]:
    """The embedded default, and the PostgreSQL a scaled-out clinic shares."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'clinic.db'}"
    else:
        with postgres_database("clinic_test_delivery") as url:
            yield url


@pytest.fixture()
def engine(database_url):
    return migrated_engine(database_url)


@pytest.fixture()
def webhook(monkeypatch):
    receiver = WebhookReceiver(free_port())
    monkeypatch.setenv(WEBHOOK_ENV, receiver.url)
    yield receiver
    receiver.stop()


@pytest.fixture()
def mail(monkeypatch):
    receiver = MailReceiver(free_port())
    monkeypatch.setenv("CLINIC_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CLINIC_SMTP_PORT", str(receiver.port))
    monkeypatch.setenv("CLINIC_SMTP_USER", SMTP_USER)
    monkeypatch.setenv("CLINIC_SMTP_PASSWORD", SMTP_PASSWORD)
    yield receiver
    receiver.stop()


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    for name in ("CLINIC_SMTP_HOST", "CLINIC_SMTP_FROM", "CLINIC_SMTP_STARTTLS", WEBHOOK_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CLINIC_DELIVERY_BACKOFF_SECONDS", "0.05")
    monkeypatch.setenv("CLINIC_CONSOLE_URL", "https://staff.harborlight.example/")


def record(engine, profile, number: int, level: str = "urgent", now=None) -> int:
    escalation_id, created = record_escalation(
        engine,
        conversation_id=f"sms-{number}",  # one conversation each: a conversation's later
        message_id=f"m-{number}",  # messages are collected into its open escalation
        channel="twilio",
        level=level,
        categories=["suicidal_plan"],
        evidence=[{"text": EVIDENCE_WORDS, "rule": "plan", "category": "suicidal_plan"}],
        subject="self",
        last_turns=[{"role": "user", "text": USER_TEXT}],
        reach_back=PHONE,
        targets=settings.reload().alert_targets(profile),
        now=now,
    )
    assert created
    return escalation_id


def delivery_ids(engine, escalation_ids, target: str) -> set[str]:
    return {
        str(d["id"])
        for e in escalation_ids
        for d in list_deliveries(engine, e)
        if d["target"] == target
    }


def keys(engine, escalation_ids) -> set[str]:
    return {
        f"escalation-{e}-delivery-{d['id']}"
        for e in escalation_ids
        for d in list_deliveries(engine, e)
        if d["target"] == "webhook"
    }


def wait_for(condition, timeout: float = 10, step=None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout} s")
        if step is not None:
            step()
        time.sleep(0.05)


def test_nothing_is_lost_while_targets_are_down_and_nothing_is_doubled_after(
    engine, profile, webhook, mail
):
    assert settings.reload().alert_targets(profile) == ["webhook", "email"]
    levels = ["urgent", "concern", "urgent"]
    ids = [record(engine, profile, n, level) for n, level in enumerate(levels)]

    first = run_once(engine, profile=profile)
    assert first == {"sent": 0, "failed": 6, "reminders": 0, "held": 0, "summaries": 0}
    time.sleep(0.15)
    run_once(engine, profile=profile)
    pending = [d for e in ids for d in list_deliveries(engine, e)]
    assert all(d["status"] == "pending" and d["attempts"] >= 1 for d in pending)
    assert {d["last_error"] for d in pending} == {
        "webhook unreachable (ConnectionRefusedError)",
        "SMTP server unreachable (ConnectionRefusedError)",
    }

    webhook.start()
    mail.start()
    wait_for(
        lambda: all(d["status"] == "sent" for e in ids for d in list_deliveries(engine, e)),
        step=lambda: run_once(engine, profile=profile),
    )
    for _ in range(3):
        assert run_once(engine, profile=profile) == {
            "sent": 0,
            "failed": 0,
            "reminders": 0,
            "held": 0,
            "summaries": 0,
        }
        time.sleep(0.05)
    assert webhook.delivered() == Counter({key: 1 for key in keys(engine, ids)})
    assert mail.delivered() == Counter({d: 1 for d in delivery_ids(engine, ids, "email")})
    assert len(webhook.received) == 3 and len(mail.messages) == 3


def start_worker(tmp_path, database_url, profile_path, name):
    log = (tmp_path / f"{name}.log").open("w")
    env = {
        **os.environ,
        "CLINIC_DATABASE_URL": database_url,
        "CLINIC_PROFILE": str(profile_path),
        "CLINIC_DELIVERY_LEASE_SECONDS": "2",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "clinic.delivery", "--poll", "0.1"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def test_a_killed_worker_loses_nothing_and_its_successor_doubles_nothing(
    tmp_path, engine, database_url, profile, profile_path, webhook, mail
):
    first = start_worker(tmp_path, database_url, profile_path, "first")
    try:
        ids = [record(engine, profile, n) for n in range(3)]
        wait_for(lambda: all(d["attempts"] >= 1 for e in ids for d in list_deliveries(engine, e)))
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    assert not webhook.received and not mail.messages

    webhook.start()
    mail.start()
    second = start_worker(tmp_path, database_url, profile_path, "second")
    try:
        expected_hooks = Counter({key: 1 for key in keys(engine, ids)})
        expected_mail = Counter({d: 1 for d in delivery_ids(engine, ids, "email")})

        def all_delivered_once():
            return webhook.delivered() == expected_hooks and mail.delivered() == expected_mail

        wait_for(all_delivered_once, timeout=15)
        time.sleep(0.5)
        assert all_delivered_once()
        assert all(d["status"] == "sent" for e in ids for d in list_deliveries(engine, e))
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=10) == 0
    logs = (tmp_path / "first.log").read_text() + (tmp_path / "second.log").read_text()
    assert "failed (attempt 1)" in logs and "delivery worker stopped" in logs
    for secret in (webhook.url, WEBHOOK_SECRET, SMTP_PASSWORD, USER_TEXT, PHONE):
        assert secret not in logs


def test_a_failing_webhook_is_retried_with_doubling_backoff(
    monkeypatch, engine, profile, webhook, caplog
):
    monkeypatch.setenv("CLINIC_DELIVERY_BACKOFF_SECONDS", "0.2")
    assert settings.reload().alert_targets(profile) == ["webhook"]
    webhook.start()
    webhook.answers = [500, 500]
    escalation_id = record(engine, profile, 1, now=T0)

    def delivery():
        return list_deliveries(engine, escalation_id)[0]

    def at(seconds):
        return run_once(engine, now=T0 + dt.timedelta(seconds=seconds), profile=profile)

    assert at(0) == {"sent": 0, "failed": 1, "reminders": 0, "held": 0, "summaries": 0}
    assert delivery()["attempts"] == 1 and delivery()["last_error"] == "webhook answered HTTP 500"
    first_wait = (delivery()["next_attempt_at"] - T0).total_seconds()
    assert 0.18 <= first_wait <= 0.2
    assert at(0.1) == {"sent": 0, "failed": 0, "reminders": 0, "held": 0, "summaries": 0}
    assert at(0.25)["failed"] == 1
    second_wait = (delivery()["next_attempt_at"] - T0).total_seconds() - 0.25
    assert 0.36 <= second_wait <= 0.4
    assert at(0.5) == {"sent": 0, "failed": 0, "reminders": 0, "held": 0, "summaries": 0}
    assert at(0.7) == {"sent": 1, "failed": 0, "reminders": 0, "held": 0, "summaries": 0}
    assert delivery()["status"] == "sent" and delivery()["attempts"] == 2
    assert [r["status"] for r in webhook.received] == [500, 500, 200]
    assert len({r["key"] for r in webhook.received}) == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert "(attempt 1)" in warnings[0] and "(attempt 2)" in warnings[1]


def test_unacknowledged_urgent_escalations_are_sent_again(engine, profile, webhook):
    webhook.start()
    urgent = record(engine, profile, 1, now=T0)
    acknowledged = record(engine, profile, 2, now=T0)
    concern = record(engine, profile, 3, level="concern", now=T0)

    def at(minutes):
        return run_once(engine, now=T0 + dt.timedelta(minutes=minutes), profile=profile)

    def reminders(escalation_id):
        return [d for d in list_deliveries(engine, escalation_id) if d["purpose"] == "reminder"]

    assert at(0) == {"sent": 3, "failed": 0, "reminders": 0, "held": 0, "summaries": 0}
    assert at(14) == {"sent": 0, "failed": 0, "reminders": 0, "held": 0, "summaries": 0}
    acknowledge(engine, acknowledged, by="Dana", now=T0 + dt.timedelta(minutes=5))
    assert at(16) == {"sent": 1, "failed": 0, "reminders": 1, "held": 0, "summaries": 0}
    text = webhook.received[-1]["body"]["text"]
    assert f"#{urgent}" in text and "not acknowledged after 16 minutes" in text
    assert at(30) == {
        "sent": 0,
        "failed": 0,
        "reminders": 0,
        "held": 0,
        "summaries": 0,
    }  # 15 minutes after the reminder
    assert at(31)["reminders"] == 1
    assert len(reminders(urgent)) == 2 and not reminders(acknowledged) and not reminders(concern)

    webhook.answers = [503] * 10
    assert at(47) == {"sent": 0, "failed": 1, "reminders": 1, "held": 0, "summaries": 0}
    assert at(63)["reminders"] == 0  # one reminder is still pending for the webhook
    assert len(reminders(urgent)) == 3
    acknowledge(engine, urgent, by="Sam", now=T0 + dt.timedelta(minutes=64))
    webhook.answers = []
    assert at(70) == {"sent": 0, "failed": 0, "reminders": 0, "held": 0, "summaries": 0}
    assert reminders(urgent)[-1]["status"] == "cancelled"
    assert len(webhook.received) == 3 + 2 + 2  # new, reminders sent, reminder refused twice


def test_a_fractional_acknowledgement_time_is_accepted(engine, profile, webhook):
    webhook.start()
    urgent = record(engine, profile, 1, now=T0)
    run_once(engine, now=T0, profile=profile, ack_minutes=0.01)
    counts = run_once(engine, now=T0 + dt.timedelta(seconds=1), profile=profile, ack_minutes=0.01)
    assert counts == {"sent": 1, "failed": 0, "reminders": 1, "held": 0, "summaries": 0}
    assert "not acknowledged after 1 second." in webhook.received[-1]["body"]["text"]
    assert [d["purpose"] for d in list_deliveries(engine, urgent)] == ["new", "reminder"]
    with pytest.raises(ValueError, match="ack_minutes"):
        run_once(engine, profile=profile, ack_minutes=0)


def test_notifications_say_where_to_look_and_nothing_private(
    engine, profile, webhook, mail, caplog
):
    caplog.set_level(logging.DEBUG)
    urgent = record(engine, profile, 1, now=T0)
    concern = record(engine, profile, 2, level="concern", now=T0)
    run_once(engine, now=T0, profile=profile)  # both down: failures are logged
    webhook.start()
    mail.start()
    webhook.answers = [500]
    seconds = itertools.count(1)
    wait_for(
        lambda: len(mail.messages) == 2 and len(webhook.delivered()) == 2,
        step=lambda: run_once(
            engine, now=T0 + dt.timedelta(seconds=next(seconds)), profile=profile
        ),
    )

    hooks = {r["key"].split("-")[1]: r["body"]["text"] for r in webhook.received}
    mails = {m["Subject"].split("#")[1].split(" ")[0]: m for m in mail.messages}
    for escalation_id, level in ((urgent, "URGENT"), (concern, "Concern")):
        message = mails[str(escalation_id)]
        body = message.get_content()
        assert message["Subject"].startswith(f"[{level}] ")
        assert message["Subject"].endswith(f"#{escalation_id} — {profile.name}")
        assert message["From"] == "assistant@harborlight.example"
        assert message["To"] == "alerts@harborlight.example"
        assert "X-Escalation-Delivery" in message
        for text in (hooks[str(escalation_id)], body):
            assert f"#{escalation_id}" in text
            assert "Channel: twilio" in text and "Categories: suicidal_plan" in text
            assert "Time: Wed 15 Jan 2025 9:00 AM CST" in text
            assert f"https://staff.harborlight.example/escalations/{escalation_id}" in text
            assert f"python -m clinic.escalations show {escalation_id}" in text
        for text in (hooks[str(escalation_id)], body, message["Subject"]):
            for private in (USER_TEXT, EVIDENCE_WORDS, "bridge", "elm", PHONE, "5550100123"):
                assert private not in text
    assert mails[str(urgent)]["Subject"] == (
        f"[URGENT] Crisis escalation #{urgent} — {profile.name}"
    )
    assert hooks[str(urgent)].startswith(f"URGENT crisis escalation #{urgent}")

    assert any("failed" in r.getMessage() for r in caplog.records)
    for secret in (webhook.url, WEBHOOK_SECRET, SMTP_PASSWORD):
        assert secret not in caplog.text
        assert secret not in repr(settings.current().delivery.smtp) + repr(
            settings.current().alert_webhook_url(profile)
        )


def test_without_targets_the_worker_says_where_escalations_are(
    tmp_path, engine, database_url, profile, profile_path
):
    assert settings.reload().alert_targets(profile) == []
    record(engine, profile, 1)
    result = subprocess.run(
        [sys.executable, "-m", "clinic.delivery", "--once"],
        cwd=ROOT,
        timeout=60,
        env={
            **os.environ,
            "CLINIC_DATABASE_URL": database_url,
            "CLINIC_PROFILE": str(profile_path),
        },
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.count(NO_TARGET_MESSAGE) == 1


def test_an_unreachable_database_is_retried_not_fatal(tmp_path, profile_path):
    missing = tmp_path / "no-such-directory" / "clinic.db"
    log = tmp_path / "worker.log"
    worker = subprocess.Popen(
        [sys.executable, "-m", "clinic.delivery", "--poll", "0.1"],
        cwd=ROOT,
        env={
            **os.environ,
            "CLINIC_DATABASE_URL": f"sqlite:///{missing}",
            "CLINIC_PROFILE": str(profile_path),
        },
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(lambda: "cannot reach the database" in log.read_text())
        time.sleep(0.5)
        assert worker.poll() is None
        missing.parent.mkdir()
        wait_for(lambda: "has no clinic schema yet" in log.read_text())
        assert worker.poll() is None
        upgrade(f"sqlite:///{missing}")  # the deployment's migration
        wait_for(lambda: "reachable again" in log.read_text())
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=10) == 0
    output = log.read_text()
    assert output.count("cannot reach the database (OperationalError); retrying every 0.1 s") == 1
    assert "Traceback" not in output


def test_a_flood_of_escalations_pages_a_target_a_few_times_then_summarises(
    engine, profile, webhook, monkeypatch
):
    """A script sending crisis messages from many conversations paged staff without end."""
    monkeypatch.setenv("CLINIC_ALERTS_PER_WINDOW", "3")
    monkeypatch.setenv("CLINIC_ALERT_WINDOW_MINUTES", "15")
    monkeypatch.delenv("CLINIC_SMTP_HOST", raising=False)
    webhook.start()
    t0 = utc_now()
    ids = [record(engine, profile, n, now=t0) for n in range(40)]
    counts = run_once(engine, profile=profile, now=t0)
    assert counts["sent"] == 3 and counts["held"] == 37 and counts["summaries"] == 1
    assert len(webhook.received) == 4  # three alerts, then one summary
    summary = webhook.received[-1]
    assert "37 more escalations" in json.dumps(summary) and "(37 urgent)" in json.dumps(summary)
    # Still flooding: held, and no second summary within the window.
    more = [record(engine, profile, n, now=t0) for n in range(40, 50)]
    counts = run_once(engine, profile=profile, now=t0 + dt.timedelta(minutes=5))
    assert counts["held"] == 10 and counts["summaries"] == 0 and len(webhook.received) == 4
    # After the window: one summary of what came in since (the ten new ones, and reminders of
    # those nobody acknowledged); nothing dropped.
    counts = run_once(engine, profile=profile, now=t0 + dt.timedelta(minutes=16))
    assert counts["sent"] == 3 and counts["summaries"] == 1  # a new window: three, then one
    assert len(webhook.received) == 4 + 3 + 1
    counted = int(re.search(r"(\d+) more escalations", json.dumps(webhook.received[-1])).group(1))
    assert counted >= 10
    statuses = {d["status"] for e in ids + more for d in list_deliveries(engine, e)}
    assert statuses == {"sent"}

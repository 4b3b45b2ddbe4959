"""Faults in the scaled-out assistant, each under load through the load balancer: nothing the
users sent is lost or doubled. Each test prints its figures (pytest -s, or reports/faults.txt)."""

from __future__ import annotations

import asyncio
import secrets
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
from test_cluster import send

from bench.scale_load import check_stored, plan, run_load
from clinic import settings
from clinic.settings import Secret
from support import PHONE_HASH_KEY, REPORTS, REST_TOKEN

NOTHING = {"lost": 0, "doubled": 0, "out_of_order": 0}


def report(line: str) -> None:
    print(line)
    REPORTS.mkdir(exist_ok=True)
    with (REPORTS / "faults.txt").open("a") as file:
        file.write(line + "\n")


def load(cluster, twilio_cloud, conversations: int, messages: int, fault_after: int, fault):
    """The load with `fault` done (in a thread) once `fault_after` messages are answered."""
    planned = plan(conversations, messages, Secret(PHONE_HASH_KEY))

    async def on_progress(done: int) -> None:
        if done == fault_after:
            await asyncio.to_thread(fault)

    result = asyncio.run(
        run_load(
            cluster.url,
            planned,
            twilio_cloud.auth_token,
            lambda phone: len(twilio_cloud.sent_to(phone)),
            on_progress,
            rest_token=REST_TOKEN,
        )
    )
    return result, check_stored(cluster.env[settings.DATABASE_URL_ENV], planned)


def test_a_replica_killed_in_the_middle_of_the_load_loses_nothing(cluster, twilio_cloud):
    victim = cluster.replicas[1]
    try:
        result, stored = load(cluster, twilio_cloud, 24, 8, 60, lambda: victim.stop(signal.SIGKILL))
        assert not victim.running()
        report(f"replica killed (SIGKILL) after 60 answers: {result.summary()}; stored: {stored}")
        assert result.failures == []
        assert stored == NOTHING
    finally:
        cluster.restart(victim)


def test_with_the_action_servers_stopped_faq_and_crisis_answer_and_actions_say_so(cluster):
    for server in cluster.action_servers:
        server.stop()
    try:
        faq = send(cluster.url, f"down-{secrets.token_hex(4)}", "how long is a session?")
        assert "40 to 60 minutes" in faq[0]["text"]
        crisis = send(cluster.url, f"down-{secrets.token_hex(4)}", "i want to kill myself")
        assert "988" in crisis[0]["text"]
        handoff = send(cluster.url, f"down-{secrets.token_hex(4)}", "i want to talk to a person")
        texts = " ".join(message.get("text", "") for message in handoff)
        assert "can't do that part just now" in texts
    finally:
        for server in cluster.action_servers:
            cluster.restart(server)
    handoff = send(cluster.url, f"back-{secrets.token_hex(4)}", "i want to talk to a person")
    texts = " ".join(message.get("text", "") for message in handoff)
    assert handoff and "can't do that part just now" not in texts
    report(
        "action servers stopped: FAQ and crisis answered, a custom action said it could not "
        "run; answered normally once they were back"
    )


def restart_postgresql() -> None:
    if not shutil.which("pg_ctlcluster"):
        pytest.fail("pg_ctlcluster is missing: this test restarts this machine's PostgreSQL")
    version = sorted(Path("/etc/postgresql").iterdir())[0].name
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
        check=True,
        capture_output=True,
        timeout=120,
    )


def test_postgresql_restarted_in_the_middle_of_the_load(cluster, twilio_cloud):
    result, stored = load(cluster, twilio_cloud, 16, 8, 40, restart_postgresql)
    report(f"PostgreSQL restarted after 40 answers: {result.summary()}; stored: {stored}")
    assert result.failures == []
    assert stored == NOTHING
    for replica in cluster.replicas:  # every replica recovered without a restart
        assert replica.running()
        assert send(replica.url, f"after-{secrets.token_hex(4)}", "what are your hours?")

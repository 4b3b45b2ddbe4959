"""clinic/action_server.py: the action server answers only its Rasa server, on loopback."""

import json
import os
import secrets
import subprocess

import pytest
import requests

from deploy import launcher
from support import ROOT, VENV_BIN, free_port

TRACKER = {
    "sender_id": "forged",
    "slots": {},
    "latest_message": {"text": "x"},
    "events": [],
    "paused": False,
    "followup_action": None,
    "active_loop": {},
    "latest_action_name": None,
}
CALL = {
    "next_action": "action_record_escalation",
    "sender_id": "forged",
    "tracker": TRACKER,
    "domain": {},
    "version": "3.6.21",
}


@pytest.fixture(scope="module")
def action_server(tmp_path_factory):
    token = secrets.token_hex(32)
    server = launcher.action_server(
        "actions", free_port(), tmp_path_factory.mktemp("actions") / "actions.log"
    )
    server.start({**os.environ, "CLINIC_ACTION_TOKEN": token})
    try:
        launcher.wait_ready([server], server.log.parent)
    except BaseException:
        server.stop()
        raise
    yield server.url, token, server.port
    server.stop()


def test_a_forged_call_without_the_token_is_refused(action_server):
    """It listened on 0.0.0.0 without authentication: anyone who reached it could make it
    record escalations or contact requests for a made-up conversation."""
    url, token, _ = action_server
    for headers in ({}, {"Authorization": "Bearer " + "0" * 64}, {"Authorization": token}):
        reply = requests.post(f"{url}/webhook", json=CALL, headers=headers, timeout=10)
        assert reply.status_code == 401
    assert requests.get(f"{url}/actions", timeout=10).status_code == 401


def test_the_rasa_servers_call_with_the_token_is_answered(action_server):
    url, token, _ = action_server
    reply = requests.post(
        f"{url}/webhook", json=CALL, timeout=10, headers={"Authorization": f"Bearer {token}"}
    )
    assert reply.status_code == 200 and json.loads(reply.text)["events"] == []
    assert requests.get(f"{url}/health", timeout=10).status_code == 200


def listening_addresses(port):
    """The local addresses of the sockets listening on `port` (from /proc/net/tcp*)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            for row in list(rows)[1:]:
                local, state = row.split()[1], row.split()[3]
                address, hex_port = local.split(":")
                if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                    found.append(address)
    return found


def test_it_listens_on_loopback_only(action_server):
    _, _, port = action_server
    assert listening_addresses(port) == ["0100007F"]  # 127.0.0.1, and nothing else


def test_without_a_strong_token_it_does_not_start():
    env = {**os.environ, "CLINIC_ACTION_TOKEN": "changeme"}
    done = subprocess.run(
        [VENV_BIN / "python", "-m", "clinic.action_server", "--port", str(free_port())],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "CLINIC_ACTION_TOKEN" in done.stderr

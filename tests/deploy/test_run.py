"""`make run` (python -m deploy.run): every server answers, the ready message says where, and
Ctrl-C stops them all."""

from __future__ import annotations

import re
import signal
import subprocess
import time

import pytest
import requests

from clinic.settings import SettingsError
from deploy import run
from support import ROOT, VENV_BIN, free_port


def test_make_run_starts_every_server_and_ctrl_c_stops_them(tmp_path, trained_model):
    ports = {
        name: free_port() for name in ("RASA_PORT", "ACTION_PORT", "CONSOLE_PORT", "DEMO_PORT")
    }
    env = {
        "PATH": str(VENV_BIN) + ":/usr/bin:/bin",
        "HOME": str(tmp_path),
        "CLINIC_ENV": "local",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_HUB_OFFLINE": "1",
        "CLINIC_DATABASE_URL": f"sqlite:///{tmp_path / 'assistant.db'}",
        "CLINIC_EVENTS_DATABASE_URL": f"sqlite:///{tmp_path / 'events.db'}",
        **{name: str(port) for name, port in ports.items()},
    }
    run = subprocess.Popen(
        [VENV_BIN / "python", "-m", "deploy.run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            line = run.stdout.readline()
            assert line, "deploy.run exited before it was ready:\n" + "".join(lines)
            lines.append(line)
            if "the assistant is ready" in line:
                break
        ready = "".join(lines) + "".join(run.stdout.readline() for _ in range(8))
        assert f"http://127.0.0.1:{ports['DEMO_PORT']}/" in ready
        assert f"http://127.0.0.1:{ports['CONSOLE_PORT']}/" in ready
        assert "SMS webhook:   off" in ready

        replies = requests.post(
            f"http://127.0.0.1:{ports['RASA_PORT']}/webhooks/rest/webhook",
            json={"sender": "run-test", "message": "what are your hours?"},
            timeout=60,
        ).json()
        assert replies and replies[0]["text"]
        assert requests.get(f"http://127.0.0.1:{ports['CONSOLE_PORT']}/login", timeout=10).ok
        assert requests.get(f"http://127.0.0.1:{ports['DEMO_PORT']}/", timeout=10).ok
        assert requests.get(f"http://127.0.0.1:{ports['ACTION_PORT']}/health", timeout=10).ok

        run.send_signal(signal.SIGINT)
        assert run.wait(timeout=60) == 0
    finally:
        if run.poll() is None:
            run.kill()
    for port in ports.values():
        try:
            requests.get(f"http://127.0.0.1:{port}/", timeout=2)
        except requests.ConnectionError:
            continue
        raise AssertionError(f"port {port} still answers after Ctrl-C")


@pytest.mark.parametrize("value", ["abc", "0", "65536", "-1", "80.5"])
def test_a_port_that_is_not_one_stops_the_start_in_one_line(monkeypatch, value):
    monkeypatch.setenv("DEMO_PORT", value)
    with pytest.raises(SettingsError, match=f"DEMO_PORT: '{re.escape(value)}' is not a port"):
        run._port("DEMO_PORT", 8080)
    monkeypatch.setenv("DEMO_PORT", "8081")
    assert run._port("DEMO_PORT", 8080) == 8081

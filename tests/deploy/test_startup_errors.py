"""A store that cannot be reached stops the start in one line naming it (no Rasa retry loop,
no traceback to read)."""

from __future__ import annotations

import subprocess

import pytest

from clinic import settings
from clinic.migrate import upgrade
from deploy.cluster import ClusterError, prepare_stores
from support import MODEL, ROOT, VENV_BIN, free_port

DEAD_POSTGRES = "postgresql://postgres@127.0.0.1:1/clinic"  # port 1: nothing listens
DEAD_REDIS = "redis://127.0.0.1:1/0"


def test_the_cluster_names_each_store_it_cannot_reach():
    with pytest.raises(ClusterError) as raised:
        prepare_stores(
            {
                settings.DATABASE_URL_ENV: DEAD_POSTGRES,
                settings.EVENTS_DATABASE_URL_ENV: DEAD_POSTGRES + "_events",
                settings.REDIS_URL_ENV: DEAD_REDIS,
            }
        )
    lines = str(raised.value).splitlines()
    assert [line.split(":")[0] for line in lines] == [
        settings.DATABASE_URL_ENV,
        settings.EVENTS_DATABASE_URL_ENV,
        settings.REDIS_URL_ENV,
    ]
    assert all("cannot reach" in line and "127.0.0.1:1" in line for line in lines)


@pytest.mark.parametrize(
    "variable, url",
    [(settings.DATABASE_URL_ENV, DEAD_POSTGRES), (settings.REDIS_URL_ENV, DEAD_REDIS)],
)
def test_a_rasa_server_stops_at_once_and_says_which(tmp_path, trained_model, variable, url):
    env = {
        "PATH": str(VENV_BIN),
        "HOME": str(tmp_path),
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_HUB_OFFLINE": "1",
        settings.EVENTS_DATABASE_URL_ENV: f"sqlite:///{tmp_path / 'events.db'}",
        variable: url,
    }
    if variable != settings.DATABASE_URL_ENV:
        env[settings.DATABASE_URL_ENV] = f"sqlite:///{tmp_path / 'assistant.db'}"
        upgrade(env[settings.DATABASE_URL_ENV])
    run = subprocess.run(
        [
            VENV_BIN / "rasa",
            "run",
            "--model",
            str(MODEL),
            "--endpoints",
            str(ROOT / "endpoints.yml"),
            "--credentials",
            str(ROOT / "credentials.yml"),
            "--port",
            str(free_port()),
            "--interface",
            "127.0.0.1",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert f"{variable}: cannot reach" in output, output[-3000:]

"""`make run` and `make scale`: the whole assistant on this machine, until Ctrl-C.

    .venv/bin/python -m deploy.run              # make run
    .venv/bin/python -m deploy.run --scale 2    # make scale: 2 Rasa replicas behind nginx

The Rasa server (REST, web chat and SMS channels) and its action server (deploy/launcher.py) on
the embedded SQLite database under var/, or, scaled out, deploy/cluster.py's replicas and action
servers on this machine's PostgreSQL and Redis (unless CLINIC_DATABASE_URL,
CLINIC_EVENTS_DATABASE_URL and CLINIC_REDIS_URL say otherwise); beside them the escalation
delivery worker, the staff console and the demo clinic page with the chat widget. Logs in logs/
(the cluster's in var/cluster/). Ports: RASA_PORT 5005, ACTION_PORT 5055, CONSOLE_PORT 8000,
DEMO_PORT 8080, STAFF_PORT 5008 (scaled out: nginx's staff API port, the console's only).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Dict, List, Optional

from clinic import settings
from clinic.profile import PROJECT_ROOT
from deploy import cluster, launcher
from deploy.launcher import VENV_BIN, Server

MODEL = PROJECT_ROOT / "models" / "assistant.tar.gz"
LOGS = PROJECT_ROOT / "logs"
ACTION_TOKEN_PATH = PROJECT_ROOT / "var" / "action-server.key"


def _port(variable: str, default: int) -> int:
    raw = os.environ.get(variable) or str(default)
    if not raw.isdecimal() or not 0 < int(raw) < 65536:
        raise settings.SettingsError(f"{variable}: {raw!r} is not a port number")
    return int(raw)


def _environment(scaled: bool) -> Dict[str, str]:
    # A developer's machine: generated keys under var/, the REST channel open on loopback. A
    # clinic's deployment leaves CLINIC_ENV unset (or production) and sets the secrets.
    env = {**os.environ, settings.ENV_ENV: os.environ.get(settings.ENV_ENV) or "local"}
    # The secret the Rasa server sends to the action server (endpoints.yml), kept in var/.
    env.setdefault(settings.ACTION_TOKEN_ENV, settings.key_file(ACTION_TOKEN_PATH).reveal())
    # Rasa's own HTTP API, behind its token: the console swaps models through it.
    env.setdefault(
        settings.RASA_API_TOKEN_ENV,
        settings.key_file(settings.DEFAULT_RASA_API_TOKEN_PATH).reveal(),
    )
    return cluster.cluster_env(env) if scaled else env


def _model(database_url: str) -> Path:
    """The model deployed from the console (retraining/runs.py) into the database at
    `database_url`, else the shipped one."""
    from clinic.db import engine_for
    from retraining import runs

    try:
        model = runs.serving_model_path(engine_for(database_url))
    except settings.SettingsError:
        return MODEL  # not migrated yet: nothing was deployed from it
    if model != MODEL:
        print(f"run: serving {model.name}, deployed from the console", flush=True)
    return model


def _start_assistant(
    replicas: int, env: Dict[str, str]
) -> tuple[List[Server], str, str, Dict[str, str]]:
    """The Rasa side: (its servers, the public URL, the staff API's URL, what the console needs
    to swap their model: Rasa's API token and each server's address)."""
    port = _port("RASA_PORT", 5005)
    token = env[settings.RASA_API_TOKEN_ENV]
    if replicas:
        print(
            f"run: starting {replicas} Rasa replicas behind nginx (logs in var/cluster/) ...",
            flush=True,
        )
        # Migrated first: the replicas start with the model deployed into the shared database.
        cluster.prepare_stores(env)
        running = cluster.start_cluster(
            PROJECT_ROOT / "var" / "cluster",
            _model(env[settings.DATABASE_URL_ENV]),
            replicas,
            replicas,
            port,
            _port("STAFF_PORT", 5008),
            env,
            token=token,
        )
        each = ",".join(replica.url for replica in running.replicas)
        swap = {settings.RASA_API_TOKEN_ENV: token, settings.RASA_REPLICAS_ENV: each}
        return [*running.servers(), _NginxProcess(running)], running.url, running.staff_url, swap
    launched = launcher.start_assistant(
        PROJECT_ROOT / "var" / "run",
        _model(settings.current().database_url),
        env,
        token=token,
        port=port,
        action_port=_port("ACTION_PORT", 5055),
        sqlite_in_workdir=False,
        logs=LOGS,
    )
    swap = {settings.RASA_API_TOKEN_ENV: token, settings.RASA_REPLICAS_ENV: launched.rasa.url}
    return launched.servers, launched.rasa.url, launched.rasa.url, swap


class _NginxProcess(Server):
    """The cluster's nginx, supervised and stopped with the rest."""

    def __init__(self, running: cluster.Cluster) -> None:
        super().__init__("nginx", running.port, [], running.workdir / "nginx.log", None)
        self.process = running.nginx


def _beside(rasa_url: str, staff_url: str) -> List[Server]:
    """The delivery worker, the demo page and the console."""
    python = str(VENV_BIN / "python")
    demo, console = _port("DEMO_PORT", 8080), _port("CONSOLE_PORT", 8000)
    return [
        Server("delivery", 0, [python, "-m", "clinic.delivery"], LOGS / "delivery.log", None),
        Server(
            "demo",
            demo,
            [python, "-m", "demo.server", "--port", str(demo), "--assistant-url", rasa_url],
            LOGS / "demo.log",
            "/",
        ),
        Server(
            "console",
            console,
            [python, "-m", "console", "run", "--port", str(console)],
            LOGS / "console.log",
            "/login",
        ),
    ]


def _ready_message(rasa_url: str, demo: Server, console: Server) -> str:
    if os.environ.get("TWILIO_AUTH_TOKEN"):
        sms = (
            f"Twilio posts to {os.environ.get('TWILIO_WEBHOOK_URL')} "
            f"(-> {rasa_url}/webhooks/twilio/webhook)"
        )
    else:
        sms = "off (set TWILIO_AUTH_TOKEN and TWILIO_WEBHOOK_URL; docs/channels.md)"
    return f"""run: the assistant is ready.
  Demo clinic page with the chat widget: {demo.url}/
  Staff console: {console.url}/   (first account: .venv/bin/python -m console users add NAME --role admin)
  SMS webhook:   {sms}
  REST channel:  curl -s -XPOST {rasa_url}/webhooks/rest/webhook \\\\
                   -H 'Content-Type: application/json' -d '{{"sender":"me","message":"how long is a session?"}}'
  Terminal chat: make shell   (in another terminal)
  Escalations:   .venv/bin/python -m clinic.escalations list   (delivery log: logs/delivery.log)
  Stop:          Ctrl-C"""


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deploy.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--scale",
        type=int,
        default=0,
        metavar="REPLICAS",
        help="Rasa replicas (and as many action servers) behind nginx",
    )
    args = parser.parse_args(argv)
    LOGS.mkdir(exist_ok=True)
    servers: List[Server] = []
    try:
        env = _environment(scaled=args.scale > 0)
        print("run: starting (logs in logs/) ...", flush=True)
        servers, rasa_url, staff_url, swap = _start_assistant(args.scale, env)
        # The console takes conversations over through the Rasa server's staff API, with the
        # bearer token both read from CLINIC_STAFF_API_TOKEN (local mode: var/staff-api.key).
        beside = _beside(rasa_url, staff_url)
        console_env = {
            **env,
            **swap,
            settings.RASA_URL_ENV: env.get(settings.RASA_URL_ENV) or staff_url,
        }
        for server in beside:
            server.start(console_env if server.name == "console" else env)
        servers += beside
        launcher.wait_ready(beside, LOGS)
        print(_ready_message(rasa_url, beside[1], beside[2]), flush=True)
        return launcher.supervise(servers, "run")
    except (launcher.LaunchError, settings.SettingsError) as error:
        print(f"run: {error}", file=sys.stderr)
        return 1
    finally:
        for server in reversed(servers):
            server.stop()


if __name__ == "__main__":
    sys.exit(main())

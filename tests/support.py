"""Helpers the tests share: the project's paths, a real assistant started on loopback, a
stand-in for Twilio's cloud, the demo page. Test modules import them from here; the fixtures
built on them are in conftest.py (a module named `conftest` is not importable reliably: every
directory's conftest.py takes that name in turn)."""

from __future__ import annotations

import atexit
import base64
import contextlib
import functools
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, Dict, Iterator, List
from urllib.parse import parse_qs

import requests
import sqlalchemy as sa
import yaml

from clinic import answers
from clinic.db import engine_for, utc_now
from clinic.migrate import sqlite_path, upgrade
from deploy import launcher
from deploy.launcher import free_port  # noqa: F401 (the tests' helper too)

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("CLINIC_SHARED_DIR", ROOT.parent / "shared"))
VENV_BIN = Path(sys.executable).parent
MODEL = ROOT / "models" / "assistant.tar.gz"
REPORTS = ROOT / "reports"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def nlu_examples(path: Path) -> Dict[str, List[str]]:
    """Intent (or `faq/<id>`) → its examples, from a Rasa NLU YAML file."""
    examples: Dict[str, List[str]] = {}
    for block in load_yaml(path).get("nlu", []):
        if "intent" in block:
            lines = block["examples"].splitlines()
            examples.setdefault(block["intent"], []).extend(
                line[2:].strip() for line in lines if line.startswith("- ")
            )
    return examples


POSTGRES = os.environ.get("CLINIC_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")


@contextlib.contextmanager
def postgres_database(prefix: str) -> Iterator[str]:
    """A new, empty database on this machine's PostgreSQL, dropped afterwards: its URL."""
    import sqlalchemy as sa

    name = f"{prefix}_{secrets.token_hex(4)}"
    # no pool: a connection kept across a test that restarts PostgreSQL would be dead
    admin = sa.create_engine(
        f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool
    )
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{POSTGRES}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass
class RunningAssistant:
    """A Rasa server and an action server on loopback, with their own SQLite database."""

    url: str
    action_url: str
    token: str
    database_url: str
    workdir: Path

    @property
    def events_database_url(self) -> str:
        """Where its event broker writes (endpoints.yml `event_broker`)."""
        return f"sqlite:///{self.workdir / 'events.db'}"

    def parse(self, text: str) -> Dict[str, Any]:
        response = requests.post(
            f"{self.url}/model/parse", params={"token": self.token}, json={"text": text}, timeout=30
        )
        response.raise_for_status()
        return response.json()

    def send(self, sender: str, text: str) -> List[Dict[str, Any]]:
        """One user message over the REST channel; the bot's replies."""
        response = requests.post(
            f"{self.url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text},
            timeout=60,
        )
        response.raise_for_status()
        return response.json()

    def tracker(self, sender: str) -> Dict[str, Any]:
        response = requests.get(
            f"{self.url}/conversations/{sender}/tracker", params={"token": self.token}, timeout=30
        )
        response.raise_for_status()
        return response.json()


def migrated_engine(url: str):
    """The clinic's engine on a database brought to this release's schema (as `make run` and
    the deployment do before any server starts)."""
    migrate_database(url)
    return engine_for(url)


def add_answer_version(
    engine,
    text: str,
    *,
    response: str = "utter_faq/cost",
    channel: str = answers.ALL_CHANNELS,
    status: str = answers.APPROVED,
    at=None,
) -> None:
    """A reworded answer's version as the console stores it, decided at `at` (drafts are not)."""
    at = at or utc_now()
    decided = status != answers.DRAFT
    with engine.begin() as connection:
        connection.execute(
            answers.versions.insert().values(
                response=response,
                channel=channel,
                text=text,
                status=status,
                created_by="sam",
                created_at=at,
                reviewed_by="alex" if decided else None,
                reviewed_at=at if decided else None,
            )
        )


def migrate_database(url: str) -> None:
    """Run the migrations on `url`; a new SQLite file is a copy of one migrated once per test
    run (the same bytes, without running every migration again for each test)."""
    path = sqlite_path(url)
    if path is None or path.exists():
        upgrade(url)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_migrated_sqlite(), path)


@functools.lru_cache(maxsize=None)
def _migrated_sqlite() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="migrated-"))
    atexit.register(shutil.rmtree, folder, True)
    upgrade(f"sqlite:///{folder / 'clinic.db'}")
    return folder / "clinic.db"


def start_assistant(
    workdir: Path,
    model: Path,
    with_action_server: bool = True,
    extra_env: Dict[str, str] | None = None,
) -> tuple:
    """The assistant as `make run` starts it (deploy/launcher.py), on SQLite files in `workdir`
    and Rasa's HTTP API behind a token: (RunningAssistant, what `stop` stops)."""
    migrate_database(f"sqlite:///{workdir / 'assistant.db'}")  # the launcher finds it current
    token = secrets.token_hex(16)  # never starts with "-", which argparse would read as an option
    launched = launcher.start_assistant(
        workdir,
        model,
        {**os.environ, **(extra_env or {})},
        with_action_server=with_action_server,
        token=token,
    )
    running = RunningAssistant(
        url=launched.rasa.url,
        action_url=launched.actions.url if launched.actions else "",
        token=token,
        database_url=launched.database_url,
        workdir=workdir,
    )
    return running, launched


def stop(what: launcher.Assistant | List[subprocess.Popen]) -> None:
    """Stop what `start_assistant` started, or a list of processes (`start_demo`'s)."""
    if isinstance(what, launcher.Assistant):
        what.stop()
        return
    for process in what:
        process.terminate()
    for process in what:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@dataclass
class TwilioCloud:
    """A stand-in for Twilio's REST API on loopback: records what would have been texted.

    Numbers in `unsubscribed` get Twilio's error 21610, as after the person texted STOP; the
    next `failures` requests get a 503, as when Twilio has an outage.
    """

    url: str
    account_sid: str
    auth_token: str
    sent: List[Dict[str, str]] = field(default_factory=list)
    unsubscribed: set = field(default_factory=set)
    failures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def env(self) -> Dict[str, str]:
        """The SMS channel's settings for a server that talks to this cloud."""
        return {
            "TWILIO_AUTH_TOKEN": self.auth_token,
            "TWILIO_ACCOUNT_SID": self.account_sid,
            "TWILIO_NUMBER": TWILIO_NUMBER,
            "TWILIO_WEBHOOK_URL": TWILIO_WEBHOOK_URL,
            "TWILIO_API_BASE": self.url,
            "CLINIC_PHONE_HASH_KEY": PHONE_HASH_KEY,
        }

    def sent_to(self, phone: str) -> List[str]:
        with self.lock:
            return [message["Body"] for message in self.sent if message["To"] == phone]


TWILIO_NUMBER = "+15550100199"
# The public address the clinic gives Twilio; tests post to loopback, signatures use this.
TWILIO_WEBHOOK_URL = "https://assistant.example.test/webhooks/twilio/webhook"
PHONE_HASH_KEY = secrets.token_hex(32)
STAFF_API_TOKEN = secrets.token_hex(32)  # the staff API's bearer token (channels/staff.py)
REST_TOKEN = secrets.token_hex(32)  # the REST channel's, outside local mode (channels/rest.py)


def _twilio_handler(cloud: "TwilioCloud"):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length", 0))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            expected = (
                "Basic "
                + base64.b64encode(f"{cloud.account_sid}:{cloud.auth_token}".encode()).decode()
            )
            path_ok = self.path == f"/2010-04-01/Accounts/{cloud.account_sid}/Messages.json"
            with cloud.lock:
                fail, cloud.failures = cloud.failures > 0, max(0, cloud.failures - 1)
            if fail:
                self._reply(503, {"message": "Service Unavailable"})
            elif self.headers.get("Authorization") != expected or not path_ok:
                self._reply(401, {"code": 20003, "message": "Authenticate", "status": 401})
            elif form.get("To") in cloud.unsubscribed:
                self._reply(
                    400,
                    {
                        "code": 21610,
                        "status": 400,
                        "message": "Attempt to send to unsubscribed recipient",
                    },
                )
            else:
                with cloud.lock:
                    cloud.sent.append(form)
                self._reply(201, {"sid": "SM" + secrets.token_hex(16), "status": "queued"})

        def _reply(self, status: int, payload: Dict[str, Any]) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


def start_demo(assistant_url: str) -> tuple:
    """The demo clinic page (deploy/launcher.py, as `make run` starts it): (its URL, its
    process, which `stop([process])` stops)."""
    port = free_port()
    logs = Path(tempfile.mkdtemp(prefix="demo-"))
    atexit.register(shutil.rmtree, logs, True)
    server = launcher.Server(
        "demo",
        port,
        [
            str(VENV_BIN / "python"),
            "-m",
            "demo.server",
            "--port",
            str(port),
            "--assistant-url",
            assistant_url,
        ],
        logs / "demo.log",
        "/",
    )
    server.start(dict(os.environ))
    try:
        launcher.wait_ready([server], logs, timeout=30)
    except BaseException:
        server.stop()
        raise
    return f"{server.url}/", server.process


def add_taught_example(engine, text: str, label: str, *, revoked: bool = False) -> None:
    """A taught example as the Teach page stores it (console/teaching/queries.py)."""
    from console.teaching.queries import FROM_NOT_UNDERSTOOD, examples

    now = utc_now()
    with engine.begin() as connection:
        turn_id = 1 + (connection.execute(sa.select(sa.func.max(examples.c.turn_id))).scalar() or 0)
        connection.execute(
            examples.insert().values(
                turn_id=turn_id,
                conversation_id=f"taught-{turn_id}",
                text=text,
                source=FROM_NOT_UNDERSTOOD,
                answered_as="nlu_fallback",
                label=label,
                created_by="sam",
                created_at=now,
                labelled_by="sam",
                labelled_at=now,
                revoked_by="alex" if revoked else None,
                revoked_at=now if revoked else None,
            )
        )

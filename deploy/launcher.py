"""Starting the assistant's servers: the one launcher behind `make run` (deploy/run.py),
`make scale` (deploy/cluster.py), the tests (tests/support.py) and the benchmarks.

`start_assistant` runs the migrations, then an action server and a Rasa server on loopback, each
a `Server` with its own port and log, and waits until both answer. The cluster builds its
replicas and action servers from the same `action_server` and `rasa_server`.
"""

from __future__ import annotations

import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import requests
import yaml

from clinic import settings
from clinic.migrate import upgrade
from clinic.profile import PROJECT_ROOT

VENV_BIN = Path(sys.executable).parent
START_TIMEOUT_SECONDS = 300


class LaunchError(RuntimeError):
    """A server could not start; the message says which and where its log is."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """One process on its own port, with its own log; `health_path` None: ready when running."""

    name: str
    port: int
    command: List[str]
    log: Path
    health_path: Optional[str]
    cwd: Path = PROJECT_ROOT
    process: Optional[subprocess.Popen] = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, env: Dict[str, str]) -> None:
        self.process = subprocess.Popen(
            self.command, cwd=self.cwd, env=env, stdout=self.log.open("a"), stderr=subprocess.STDOUT
        )

    def ready(self) -> bool:
        if self.health_path is None:
            return self.running()
        try:
            return requests.get(self.url + self.health_path, timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
        if not self.running():
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def action_server(name: str, port: int, log: Path) -> Server:
    return Server(
        name,
        port,
        [str(VENV_BIN / "python"), "-m", "clinic.action_server", "--port", str(port)],
        log,
        "/health",
    )


def rasa_server(
    name: str, port: int, log: Path, model: Path, endpoints: Path, token: Optional[str] = None
) -> Server:
    """`rasa run` on loopback with the project's channels; `token`: Rasa's HTTP API on, behind it."""
    api = ["--enable-api", "--auth-token", token] if token else []
    return Server(
        name,
        port,
        [
            str(VENV_BIN / "rasa"),
            "run",
            "--model",
            str(model),
            "--endpoints",
            str(endpoints),
            "--credentials",
            str(PROJECT_ROOT / "credentials.yml"),
            "--port",
            str(port),
            "--interface",
            "127.0.0.1",
            *api,
        ],
        log,
        "/",
    )


def write_endpoints(path: Path, action_port: int, sqlite_dir: Optional[Path] = None) -> Path:
    """The project's endpoints.yml with the action server at `action_port`, and, given
    `sqlite_dir`, the tracker store's and event broker's SQLite files in it."""
    endpoints = yaml.safe_load((PROJECT_ROOT / "endpoints.yml").read_text())
    endpoints["action_endpoint"]["url"] = f"http://127.0.0.1:{action_port}/webhook"
    if sqlite_dir is not None:
        endpoints["tracker_store"]["db"] = str(sqlite_dir / "assistant.db")
        endpoints["event_broker"]["db"] = str(sqlite_dir / "events.db")
    path.write_text(yaml.safe_dump(endpoints))
    return path


def wait_ready(
    servers: List[Server], workdir: Path, timeout: float = START_TIMEOUT_SECONDS
) -> None:
    """Until every server answers; LaunchError with the log's tail when one exits first."""
    deadline = time.monotonic() + timeout
    waiting = list(servers)
    while waiting:
        for server in list(waiting):
            if not server.running():
                tail = server.log.read_text(errors="replace")[-3000:]
                raise LaunchError(f"{server.name} exited while starting ({server.log}):\n{tail}")
            if server.ready():
                waiting.remove(server)
        if waiting and time.monotonic() > deadline:
            names = ", ".join(server.name for server in waiting)
            raise LaunchError(f"not ready in {timeout:.0f} s: {names} (logs in {workdir})")
        time.sleep(0.2)


@dataclass
class Assistant:
    """A Rasa server and (optionally) its action server, started by `start_assistant`."""

    rasa: Server
    actions: Optional[Server]
    token: Optional[str]  # Rasa's HTTP API token (None: the API is off)
    database_url: str
    events_database_url: str
    servers: List[Server] = field(default_factory=list)

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


def start_assistant(
    workdir: Path,
    model: Path,
    env: Dict[str, str],
    *,
    with_action_server: bool = True,
    token: Optional[str] = None,
    port: Optional[int] = None,
    action_port: Optional[int] = None,
    sqlite_in_workdir: bool = True,
    logs: Optional[Path] = None,
) -> Assistant:
    """Migrate the clinic's database, start the servers, wait until they answer.

    `sqlite_in_workdir`: the clinic's and the event broker's databases are SQLite files in
    `workdir` (the tests, the benchmarks); else those `env` names, or var/ (`make run`).
    `logs`: where the servers' logs go (default `workdir`).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    logs = logs or workdir
    env = dict(env)
    if sqlite_in_workdir:
        env[settings.DATABASE_URL_ENV] = f"sqlite:///{workdir / 'assistant.db'}"
        env[settings.EVENTS_DATABASE_URL_ENV] = f"sqlite:///{workdir / 'events.db'}"
    database_url = (
        env.get(settings.DATABASE_URL_ENV) or f"sqlite:///{settings.DEFAULT_DATABASE_PATH}"
    )
    events_url = (
        env.get(settings.EVENTS_DATABASE_URL_ENV)
        or f"sqlite:///{settings.DEFAULT_EVENTS_DATABASE_PATH}"
    )
    upgrade(database_url)  # the clinic's tables, at this release's schema
    env.setdefault(settings.ACTION_TOKEN_ENV, secrets.token_hex(32))  # Rasa → the action server
    action_port = action_port or free_port()
    endpoints = write_endpoints(
        workdir / "endpoints.yml", action_port, workdir if sqlite_in_workdir else None
    )
    rasa = rasa_server("rasa", port or free_port(), logs / "rasa.log", model, endpoints, token)
    actions = (
        action_server("actions", action_port, logs / "actions.log") if with_action_server else None
    )
    assistant = Assistant(
        rasa,
        actions,
        token,
        database_url,
        events_url,
        [s for s in (actions, rasa) if s is not None],
    )
    try:
        for server in assistant.servers:
            server.start(env)
        wait_ready(assistant.servers, workdir)
    except BaseException:
        assistant.stop()
        raise
    return assistant


def supervise(servers: List[Server], name: str) -> int:
    """Until Ctrl-C or SIGTERM (0), or until one of `servers` stops (1, its log named)."""
    stopping: List[bool] = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    try:
        while not stopping:
            for server in servers:
                if not server.running():
                    print(f"{name}: {server.name} stopped; see {server.log}", file=sys.stderr)
                    return 1
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    return 0

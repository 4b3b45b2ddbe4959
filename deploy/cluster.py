"""The assistant scaled out on one machine: Rasa server replicas and action servers behind nginx,
sharing PostgreSQL and Redis.

    .venv/bin/python -m deploy.cluster [--replicas 2] [--action-servers 2] [--port 5005]
                                       [--staff-port 5008]

(`make scale` runs it with the console, the delivery worker and the demo page beside it.)
Every Rasa replica runs the same project with the same endpoints.yml; the environment makes it
shared (docs/configuration.md): CLINIC_DATABASE_URL and CLINIC_EVENTS_DATABASE_URL on PostgreSQL,
CLINIC_REDIS_URL for the conversation locks and the widget's socket.io rooms. nginx
(deploy/nginx.conf) sends REST and SMS round robin, `/socket.io/` by client
address (a socket that polls, socket.io's default start and the widget's fallback when
WebSocket is blocked, makes many requests, and every one must reach the
replica that holds it), and the replicas' calls to the action server round robin over the
action servers, retrying the other one when one is down. The staff API (take-over and
replies, for the console) has a port of its own that is never published (`--staff-port`,
the console's CLINIC_RASA_URL); on the public port it is a 404. Rasa's HTTP API (`/model`,
`/conversations`, …) is not published through nginx; each replica serves it on its own port,
behind the token the cluster was given.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Dict, List, Optional

import sqlalchemy as sa

from clinic import settings
from clinic.profile import PROJECT_ROOT
from deploy.launcher import (
    LaunchError,
    Server,
    action_server,
    free_port,
    rasa_server,
    supervise,
    wait_ready,
    write_endpoints,
)

NGINX_TEMPLATE = Path(__file__).with_name("nginx.conf")
NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/clinic_assistant"
DEFAULT_EVENTS_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/clinic_events"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


class ClusterError(LaunchError):
    """The cluster could not start; the message says what to do."""


@dataclass
class Cluster:
    """Replicas, action servers and nginx, started by `start_cluster`."""

    workdir: Path
    port: int  # nginx: the one public address
    staff_port: int  # nginx: the staff API, for the console only (never published)
    token: str  # Rasa's HTTP API token on every replica
    env: Dict[str, str]
    replicas: List[Server] = field(default_factory=list)
    action_servers: List[Server] = field(default_factory=list)
    nginx: Optional[subprocess.Popen] = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def staff_url(self) -> str:
        """Where the console reaches the staff API (its CLINIC_RASA_URL)."""
        return f"http://127.0.0.1:{self.staff_port}"

    def servers(self) -> List[Server]:
        return self.action_servers + self.replicas

    def restart(self, server: Server) -> None:
        """Start a stopped server again and wait until it is ready."""
        server.start(self.env)
        wait_ready([server], self.workdir)

    def stop(self) -> None:
        for server in self.servers():
            server.stop()
        if self.nginx is not None and self.nginx.poll() is None:
            self.nginx.terminate()
            self.nginx.wait(timeout=10)


THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
)


def threads_per_replica(replicas: int) -> int:
    """The machine's cores shared out: a replica's NumPy and TensorFlow threads beyond its
    share only contend with the other replicas'."""
    return max(1, (os.cpu_count() or 1) // max(1, replicas))


def cluster_env(
    base: Optional[Dict[str, str]] = None, threads: Optional[int] = None
) -> Dict[str, str]:
    """The environment of every process: the caller's, with the shared stores defaulting to
    this machine's PostgreSQL and Redis, and, given `threads`, each process's math libraries
    held to that many threads."""
    env = dict(os.environ if base is None else base)
    for variable in THREAD_VARIABLES if threads else ():
        env[variable] = str(threads)
    env.setdefault(settings.DATABASE_URL_ENV, DEFAULT_DATABASE_URL)
    env.setdefault(settings.EVENTS_DATABASE_URL_ENV, DEFAULT_EVENTS_DATABASE_URL)
    env.setdefault(settings.REDIS_URL_ENV, DEFAULT_REDIS_URL)
    env.setdefault(settings.ACTION_TOKEN_ENV, secrets.token_hex(32))  # Rasa → action servers
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("TRANSFORMERS_OFFLINE", "1")
    env.setdefault("HF_HUB_OFFLINE", "1")
    return env


def prepare_stores(env: Dict[str, str]) -> None:
    """Check PostgreSQL and Redis are reachable (one line each when not), create the databases
    that do not exist yet, and the tables (the clinic's by its migrations), once, before replicas
    race to create them."""
    from rasa.core.brokers.sql import SQLEventBroker
    from rasa.core.tracker_store import SQLTrackerStore

    from clinic import migrate
    from clinic.db import check_reachable
    from components.lock_store import check_redis_reachable
    from components.sqlite import server_engine

    problems = []
    for variable, tables in (
        (settings.DATABASE_URL_ENV, SQLTrackerStore.Base.metadata),
        (settings.EVENTS_DATABASE_URL_ENV, SQLEventBroker.Base.metadata),
    ):
        url = sa.engine.make_url(env[variable])
        try:
            _create_database(url)
            engine = server_engine(url)
            check_reachable(engine, variable)
            tables.create_all(engine)
            engine.dispose()
        except settings.SettingsError as error:
            problems.append(str(error))
    if not problems:
        migrate.upgrade(env[settings.DATABASE_URL_ENV])  # the clinic's tables: the migrations
    try:
        check_redis_reachable(env[settings.REDIS_URL_ENV])
    except settings.SettingsError as error:
        problems.append(str(error))
    if problems:
        raise ClusterError("\n".join(problems))


def _create_database(url: sa.engine.URL) -> None:
    """CREATE DATABASE on PostgreSQL when it is missing (a cluster's first start)."""
    if url.get_backend_name() != "postgresql":
        return
    admin = sa.create_engine(
        url.set(database="postgres"),
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 10},
    )
    try:
        with admin.connect() as connection:
            exists = connection.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
            ).scalar()
            if not exists:
                quoted = admin.dialect.identifier_preparer.quote(url.database)
                connection.execute(sa.text(f"CREATE DATABASE {quoted}"))
    except sa.exc.OperationalError:
        pass  # check_reachable says why, in one line
    finally:
        admin.dispose()


def start_cluster(
    workdir: Path,
    model: Path = PROJECT_ROOT / "models" / "assistant.tar.gz",
    replicas: int = 2,
    action_servers: int = 2,
    port: Optional[int] = None,
    staff_port: Optional[int] = None,
    env: Optional[Dict[str, str]] = None,
    token: Optional[str] = None,
    threads: Optional[int] = -1,
) -> Cluster:
    """Start everything, wait until every server answers, and return the cluster. `threads`:
    each process's math threads (-1: the cores shared out among the replicas; None: the
    libraries' own choice, every core each)."""
    if not Path(NGINX).exists():
        raise ClusterError(
            f"nginx is not installed at {NGINX}: `apt-get install nginx-light` "
            "(make scale installs it), or set NGINX=/path/to/nginx"
        )
    workdir.mkdir(parents=True, exist_ok=True)
    env = cluster_env(env, threads_per_replica(replicas) if threads == -1 else threads)
    prepare_stores(env)
    cluster = Cluster(
        workdir=workdir,
        port=port or free_port(),
        staff_port=staff_port or free_port(),
        token=token or secrets.token_hex(24),
        env=env,
    )
    action_port = free_port()  # nginx, in front of the action servers
    endpoints = write_endpoints(workdir / "endpoints.yml", action_port)
    for number in range(1, action_servers + 1):
        cluster.action_servers.append(
            action_server(f"actions-{number}", free_port(), workdir / f"actions-{number}.log")
        )
    for number in range(1, replicas + 1):
        cluster.replicas.append(
            rasa_server(
                f"rasa-{number}",
                free_port(),
                workdir / f"rasa-{number}.log",
                model,
                endpoints,
                cluster.token,
            )
        )
    try:
        for server in cluster.servers():
            server.start(env)
        cluster.nginx = _start_nginx(cluster, action_port)
        wait_ready(cluster.servers(), workdir)
    except BaseException:
        cluster.stop()
        raise
    return cluster


def _start_nginx(cluster: Cluster, action_port: int) -> subprocess.Popen:
    def upstream(servers: List[Server], options: str = "") -> str:
        return "\n".join(f"        server 127.0.0.1:{s.port}{options};" for s in servers)

    conf = Template(NGINX_TEMPLATE.read_text()).substitute(
        workdir=cluster.workdir,
        user="user root;" if os.geteuid() == 0 else "",
        port=cluster.port,
        staff_port=cluster.staff_port,
        action_port=action_port,
        replicas=upstream(cluster.replicas),
        # always tried (a refused connection costs nothing), so one that is back is used at once
        action_servers=upstream(cluster.action_servers, " max_fails=0"),
    )
    path = cluster.workdir / "nginx.conf"
    path.write_text(conf)
    log = (cluster.workdir / "nginx.log").open("a")
    process = subprocess.Popen(
        [NGINX, "-p", str(cluster.workdir), "-c", str(path)], stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ClusterError(f"nginx did not start; see {cluster.workdir / 'nginx.log'}")
        try:
            with socket.create_connection(("127.0.0.1", cluster.port), timeout=1):
                return process
        except OSError:
            time.sleep(0.1)
    raise ClusterError("nginx did not open its port in 10 s")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deploy.cluster",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--action-servers", type=int, default=2)
    parser.add_argument("--port", type=int, default=5005, help="nginx's port (default 5005)")
    parser.add_argument(
        "--staff-port",
        type=int,
        default=5008,
        help="nginx's port of the staff API, for the console only (default 5008)",
    )
    parser.add_argument("--workdir", type=Path, default=PROJECT_ROOT / "var" / "cluster")
    parser.add_argument(
        "--prepare-only",
        action="store_true",
        help="check PostgreSQL and Redis, create the databases and tables, exit",
    )
    args = parser.parse_args(argv)
    if args.prepare_only:
        try:
            prepare_stores(cluster_env())
        except (ClusterError, settings.SettingsError) as error:
            print(f"cluster: {error}", file=sys.stderr)
            return 1
        return 0
    print(
        f"cluster: starting {args.replicas} Rasa replicas and {args.action_servers} action "
        f"servers behind nginx (logs in {args.workdir}) ...",
        flush=True,
    )
    try:
        cluster = start_cluster(
            args.workdir,
            replicas=args.replicas,
            action_servers=args.action_servers,
            port=args.port,
            staff_port=args.staff_port,
            token=os.environ.get("CLINIC_RASA_API_TOKEN") or None,
        )
    except (ClusterError, settings.SettingsError) as error:
        print(f"cluster: {error}", file=sys.stderr)
        return 1
    print(
        f"cluster: ready at {cluster.url} (staff API {cluster.staff_url}) "
        + " ".join(f"{s.name}={s.url}" for s in cluster.servers()),
        flush=True,
    )
    try:
        return supervise(cluster.servers(), "cluster")
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())

"""The console's memory under parallel log-ins: what a flood of password guesses costs it.

    .venv/bin/python -m bench.console_logins [--attempts 40]

Each password check is Argon2id with 64 MiB of memory; with no cap, N log-ins at once would
hold N × 64 MiB in the console's one process (its Kubernetes limit is 512 Mi,
deploy/kubernetes/console.yaml). The console checks at most `accounts.HASHING_AT_ONCE`
passwords at a time and throttles each address. This starts the console as deployed (waitress,
8 threads) on a throwaway SQLite database, sends `--attempts` wrong log-ins at once, each from
an address of its own (127.0.0.2, 127.0.0.3, …: the per-address throttle does not help against
many addresses, the cap must) and for a username nobody has (every one is hashed, against a
dummy hash, and no account locks to end the flood early), and prints the process's resident memory before and its peak
(VmHWM) after, against the limit and against what the same attempts would hold uncapped.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from clinic import settings
from clinic.migrate import upgrade
from console.auth import accounts
from deploy.cluster import free_port

ROOT = Path(__file__).resolve().parent.parent
LIMIT_MIB = 512
ARGON2_MIB = 64


def _memory_mib(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for process {pid}")


def _attempt(port: int, address: str, username: str) -> int:
    """One wrong log-in from `address`: the form's CSRF token first, then the POST."""
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=60, source_address=(address, 0)
    )
    connection.request("GET", "/login")
    page = connection.getresponse()
    body = page.read().decode()
    cookie = page.getheader("Set-Cookie", "").split(";", 1)[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', body).group(1)
    form = urllib.parse.urlencode(
        {"csrf_token": token, "username": username, "password": secrets.token_hex(8)}
    )
    connection.request(
        "POST",
        "/login",
        body=form,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
    )
    reply = connection.getresponse()
    reply.read()
    connection.close()
    return reply.status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--attempts", type=int, default=40)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as workdir:
        env = {
            **os.environ,
            settings.ENV_ENV: "local",
            settings.DATABASE_URL_ENV: f"sqlite:///{workdir}/clinic.db",
            settings.EVENTS_DATABASE_URL_ENV: f"sqlite:///{workdir}/events.db",
            settings.CONSOLE_SECRET_ENV: secrets.token_hex(32),
        }
        python = sys.executable
        port = free_port()
        upgrade(env[settings.DATABASE_URL_ENV])
        server = subprocess.Popen(
            [python, "-m", "console", "run", "--port", str(port), "--no-index"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    _attempt(port, "127.0.0.1", "nobody-" + secrets.token_hex(2))
                    break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise RuntimeError("the console did not start") from None
                    time.sleep(0.3)
            before = _memory_mib(server.pid, "VmRSS")
            addresses = [f"127.0.{1 + i // 250}.{2 + i % 250}" for i in range(args.attempts)]
            started = time.perf_counter()
            with ThreadPoolExecutor(args.attempts) as pool:
                # usernames nobody has: each check hashes (against a dummy hash, so an unknown
                # name takes as long as a known one) and no account locks to end the flood early
                statuses = list(pool.map(lambda a: _attempt(port, a, f"nobody-{a}"), addresses))
            seconds = time.perf_counter() - started
            peak = _memory_mib(server.pid, "VmHWM")
        finally:
            server.terminate()
            server.wait(timeout=20)
    uncapped = before + args.attempts * ARGON2_MIB
    print(
        f"console: {args.attempts} wrong log-ins at once from {args.attempts} addresses, "
        f"answered in {seconds:.1f} s (statuses {sorted(set(statuses))})"
    )
    print(f"  resident before      {before:7.0f} MiB")
    print(
        f"  peak after (VmHWM)   {peak:7.0f} MiB   limit {LIMIT_MIB} MiB "
        f"({'within' if peak <= LIMIT_MIB else 'OVER'})"
    )
    print(
        f"  uncapped, estimated  {uncapped:7.0f} MiB   ({args.attempts} × {ARGON2_MIB} MiB "
        f"Argon2 + the process; the cap is {accounts.HASHING_AT_ONCE} at once)"
    )
    return 0 if peak <= LIMIT_MIB else 1


if __name__ == "__main__":
    sys.exit(main())

"""Latency and load over the real HTTP server, beside a stock `rasa init` assistant.

    .venv/bin/python -m bench.latency                 # ours (REST + socket.io) and the stock one
    .venv/bin/python -m bench.latency --no-stock      # ours only
    .venv/bin/python -m bench.latency --levels 1 10   # fewer concurrency levels

Starts the assistant as `make run` does (action server + Rasa server, SQLite tracker store and
event broker in a temporary folder) on loopback, and measures:
- cold start: from launching `rasa run` to the server answering, and to the first reply;
- per message, at 1, 10 and 50 conversations at once (each conversation sends its next
  message when the previous one was answered, and after 10 messages a new visitor takes
  its place): p50, p95, p99 and messages per second, over
  the REST channel and over socket.io (the web chat channel, until its `bot_done`);
- the server process's peak resident memory (VmHWM) after the load.
Then the same REST load against a stock `rasa init` assistant (its model is trained once into
var/bench/stock-assistant/), and the ratios. Bounded: a fixed number of messages per level,
a time limit per level, loopback only. The load generator shares the 2 cores with the server.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import aiohttp
import requests

from deploy import launcher

ROOT = Path(__file__).resolve().parent.parent
RASA = Path(sys.executable).parent / "rasa"
STOCK_DIR = ROOT / "var" / "bench" / "stock-assistant"
LEVELS = (1, 10, 50)
MESSAGES_PER_LEVEL = {1: 200, 10: 300, 50: 400}
LEVEL_TIME_LIMIT_S = 180
REQUEST_TIMEOUT_S = 30
WARM_UP = 20
# A visitor's conversation is a handful of messages; then the next visitor comes along.
MESSAGES_PER_CONVERSATION = 10
# What visitors ask (FAQ, hours, small talk, something the bot cannot answer).
MESSAGES = (
    "how long is a session?",
    "what are the side effects?",
    "do I need a consultation first?",
    "what are your hours?",
    "will I feel better right away?",
    "how much does it cost?",
    "what does an infusion feel like",
    "hi there",
    "is it covered by insurance?",
    "can I drive home afterwards",
    "who is ketamine therapy for?",
    "thanks!",
    "do you have parking for my truck",
    "how many infusions will I need",
)


@dataclass
class Measured:
    """A Rasa server (and its action server) started by deploy/launcher.py, timed."""

    servers: List[launcher.Server]  # the Rasa server last
    ready_s: float
    first_reply_s: float = 0.0

    @property
    def url(self) -> str:
        return self.servers[-1].url

    @property
    def pid(self) -> int:
        return self.servers[-1].process.pid

    def peak_rss_mb(self) -> float:
        return _proc_status_kb(self.pid, "VmHWM") / 1024

    def rss_mb(self) -> float:
        return _proc_status_kb(self.pid, "VmRSS") / 1024

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


@dataclass
class LevelResult:
    assistant: str
    channel: str
    users: int
    latencies_ms: List[float] = field(default_factory=list)
    errors: int = 0
    unconnected: int = 0  # socket.io: sockets that never connected (their messages are errors)
    wall_s: float = 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]

    @property
    def throughput(self) -> float:
        return len(self.latencies_ms) / self.wall_s if self.wall_s else 0.0


def _proc_status_kb(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return float(line.split()[1])
    return float("nan")


def _environment() -> Dict[str, str]:
    # Local mode (the REST channel open on loopback) unless the caller said otherwise.
    return {
        "CLINIC_ENV": "local",
        "CLINIC_ACTION_TOKEN": secrets.token_hex(32),
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_HUB_OFFLINE": "1",
    }


def _timed(servers: List[launcher.Server], started: float) -> Measured:
    """Ready (since `started`, the launch), then the time to the first reply."""
    measured = Measured(servers, time.perf_counter() - started)
    rest(measured.url, f"bench-first-{secrets.token_hex(4)}", "hello")
    measured.first_reply_s = time.perf_counter() - started
    return measured


def start_ours(model: Path, workdir: Path, token: Optional[str] = None) -> Measured:
    """The assistant as `make run` starts it, on its own SQLite files in `workdir` (`token`:
    Rasa's HTTP API on, behind it)."""
    started = time.perf_counter()
    launched = launcher.start_assistant(workdir, model, _environment(), token=token)
    return _timed(launched.servers, started)


def stock_model() -> Path:
    """A `rasa init` assistant, trained once with this machine's Rasa and kept for reruns."""
    models = sorted((STOCK_DIR / "models").glob("*.tar.gz")) if STOCK_DIR.exists() else []
    if models:
        return models[-1]
    shutil.rmtree(STOCK_DIR, ignore_errors=True)
    STOCK_DIR.mkdir(parents=True)
    print(
        f"stock: `rasa init` into {STOCK_DIR.relative_to(ROOT)} (trains its model once, a few minutes)",
        flush=True,
    )
    started = time.perf_counter()
    log = STOCK_DIR.parent / "stock-init.log"
    result = subprocess.run(
        [str(RASA), "init", "--no-prompt", "--init-dir", str(STOCK_DIR)],
        env=_environment(),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    models = sorted((STOCK_DIR / "models").glob("*.tar.gz"))
    if result.returncode != 0 or not models:
        raise SystemExit(f"rasa init failed; see {log}")
    print(f"stock: trained in {time.perf_counter() - started:.0f} s", flush=True)
    return models[-1]


def start_stock(model: Path, workdir: Path) -> Measured:
    started = time.perf_counter()
    port = launcher.free_port()
    server = launcher.Server(
        "stock",
        port,
        [str(RASA), "run", "--model", str(model), "--port", str(port), "--interface", "127.0.0.1"],
        workdir / "stock.log",
        "/",
        cwd=STOCK_DIR,
    )
    server.start(_environment())
    try:
        launcher.wait_ready([server], workdir)
    except BaseException:
        server.stop()
        raise
    return _timed([server], started)


def rest(url: str, sender: str, text: str) -> list:
    reply = requests.post(
        f"{url}/webhooks/rest/webhook",
        json={"sender": sender, "message": text},
        timeout=REQUEST_TIMEOUT_S,
    )
    reply.raise_for_status()
    return reply.json()


async def rest_level(url: str, assistant: str, users: int, total: int) -> LevelResult:
    """`users` conversations at once over the REST channel, `total` messages in all."""
    result = LevelResult(assistant, "REST", users)
    per_user = max(1, total // users)
    deadline = time.perf_counter() + LEVEL_TIME_LIMIT_S
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)

    async def conversation(session: aiohttp.ClientSession, index: int) -> None:
        for turn in range(per_user):
            if time.perf_counter() > deadline:
                return
            if turn % MESSAGES_PER_CONVERSATION == 0:
                sender = f"bench-{assistant}-{users}-{index}-{secrets.token_hex(4)}"
            text = MESSAGES[(index + turn) % len(MESSAGES)]
            started = time.perf_counter()
            try:
                async with session.post(
                    f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}
                ) as reply:
                    await reply.read()
                    ok = reply.status == 200
            except (aiohttp.ClientError, asyncio.TimeoutError):
                ok = False
            if ok:
                result.latencies_ms.append((time.perf_counter() - started) * 1000)
            else:
                result.errors += 1

    async with aiohttp.ClientSession(
        timeout=timeout, connector=aiohttp.TCPConnector(limit=0)
    ) as session:
        started = time.perf_counter()
        await asyncio.gather(*(conversation(session, i) for i in range(users)))
        result.wall_s = time.perf_counter() - started
    return result


def socketio_level(url: str, users: int, total: int) -> LevelResult:
    """`users` web chat sessions at once; a message's time runs until the channel's `bot_done`."""
    import socketio

    result = LevelResult("ours", "socket.io", users)
    per_user = max(1, total // users)
    deadline = time.perf_counter() + LEVEL_TIME_LIMIT_S
    lock = threading.Lock()
    connected = threading.Barrier(users + 1)

    def conversation(index: int) -> None:
        client = socketio.Client(reconnection=False)
        done, session = threading.Event(), {}
        client.on("session_confirm", lambda data: (session.update(id=data), done.set()))
        client.on("bot_done", lambda data=None: done.set())
        try:
            client.connect(url, transports=["websocket"], wait_timeout=REQUEST_TIMEOUT_S)
            client.emit("session_request", {"session_id": None})
            if not done.wait(REQUEST_TIMEOUT_S):
                raise TimeoutError("no session_confirm")
        except Exception:  # noqa: BLE001 - a failed connection is an error of this level
            with lock:
                result.errors += per_user
                result.unconnected += 1
            connected.wait()
            return
        connected.wait()
        for turn in range(per_user):
            if time.perf_counter() > deadline:
                break
            if turn and turn % MESSAGES_PER_CONVERSATION == 0:  # the next visitor, same socket
                done.clear()
                client.emit("session_request", {"session_id": None})
                if not done.wait(REQUEST_TIMEOUT_S):
                    with lock:
                        result.errors += 1
                    break
            done.clear()
            started = time.perf_counter()
            client.emit(
                "user_uttered",
                {"session_id": session["id"], "message": MESSAGES[(index + turn) % len(MESSAGES)]},
            )
            answered = done.wait(REQUEST_TIMEOUT_S)
            with lock:
                if answered:
                    result.latencies_ms.append((time.perf_counter() - started) * 1000)
                else:
                    result.errors += 1
        client.disconnect()

    threads = [threading.Thread(target=conversation, args=(i,), daemon=True) for i in range(users)]
    for thread in threads:
        thread.start()
    connected.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join(LEVEL_TIME_LIMIT_S + REQUEST_TIMEOUT_S)
    result.wall_s = time.perf_counter() - started
    return result


def warm_up(url: str) -> None:
    for i in range(WARM_UP):
        rest(url, f"bench-warm-{i % 3}", MESSAGES[i % len(MESSAGES)])


def measure(
    server: Measured, assistant: str, levels: List[int], with_socketio: bool
) -> List[LevelResult]:
    warm_up(server.url)
    results = []
    for users in levels:
        results.append(
            asyncio.run(
                rest_level(server.url, assistant, users, MESSAGES_PER_LEVEL.get(users, 200))
            )
        )
        print_row(results[-1])
        if with_socketio:
            results.append(socketio_level(server.url, users, MESSAGES_PER_LEVEL.get(users, 200)))
            print_row(results[-1])
    return results


HEADER = (
    f"{'assistant':<9} {'channel':<9} {'users':>5} {'messages':>8} {'errors':>6} "
    f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'msg/s':>7}"
)


def print_row(r: LevelResult) -> None:
    print(
        f"{r.assistant:<9} {r.channel:<9} {r.users:>5} {len(r.latencies_ms):>8} {r.errors:>6} "
        f"{r.percentile(50):>7.1f} {r.percentile(95):>7.1f} {r.percentile(99):>7.1f} "
        f"{r.throughput:>7.1f}",
        flush=True,
    )


def print_server(name: str, server: Measured) -> None:
    print(
        f"{name}: ready in {server.ready_s:.1f} s, first reply at {server.first_reply_s:.1f} s; "
        f"server memory now {server.rss_mb():.0f} MB, peak {server.peak_rss_mb():.0f} MB",
        flush=True,
    )


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "assistant.tar.gz")
    parser.add_argument("--levels", nargs="+", type=int, default=list(LEVELS))
    parser.add_argument("--no-stock", action="store_true", help="skip the stock assistant")
    parser.add_argument("--no-socketio", action="store_true", help="REST channel only")
    args = parser.parse_args(argv)
    if not args.model.exists():
        parser.error(f"no model at {args.model}: run `make train` first")

    print(HEADER)
    with tempfile.TemporaryDirectory(prefix="bench-latency-") as tmp:
        workdir = Path(tmp)
        ours = start_ours(args.model, workdir)
        try:
            results = measure(ours, "ours", args.levels, not args.no_socketio)
        finally:
            print_server("ours", ours)
            ours.stop()
        if args.no_stock:
            return 0
        stock = start_stock(stock_model(), workdir)
        try:
            results += measure(stock, "stock", args.levels, with_socketio=False)
        finally:
            print_server("stock", stock)
            stock.stop()

    print("\nours / stock over REST (throughput: higher is better; p50: lower is better)")
    for users in args.levels:
        mine = next(
            r for r in results if (r.assistant, r.channel, r.users) == ("ours", "REST", users)
        )
        theirs = next(
            r for r in results if (r.assistant, r.channel, r.users) == ("stock", "REST", users)
        )
        print(
            f"  {users:>3} users: throughput {mine.throughput / theirs.throughput:.2f}x, "
            f"p50 {mine.percentile(50) / theirs.percentile(50):.2f}x, "
            f"p99 {mine.percentile(99) / theirs.percentile(99):.2f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

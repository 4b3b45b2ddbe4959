"""A browser tab's socket.io connection to the web chat channel, for the tests that talk to it
(tests/channels/test_webchat.py and the take-over, console and cluster tests)."""

from __future__ import annotations

import threading
from typing import Any, Dict, List, Optional

import socketio

TIMEOUT = 60


class Tab:
    """One browser tab's socket: what it received, by event."""

    def __init__(self) -> None:
        self.client = socketio.Client(reconnection=False)
        self.events: Dict[str, List[Any]] = {}
        self.changed = threading.Condition()
        for name in ("session_confirm", "bot_uttered", "bot_done", "error_message", "user_echo"):
            self.client.on(name, self._recorder(name))

    def _recorder(self, name: str):
        def record(data: Any = None) -> None:
            with self.changed:
                self.events.setdefault(name, []).append(data)
                self.changed.notify_all()

        return record

    def wait_for(self, name: str, count: int = 1) -> List[Any]:
        with self.changed:
            if not self.changed.wait_for(lambda: len(self.events.get(name, [])) >= count, TIMEOUT):
                raise AssertionError(f"no {count} × {name} within {TIMEOUT} s: {self.events}")
            return list(self.events[name])

    def open(self, url: str, session_id: Optional[str] = None) -> str:
        self.client.connect(url, transports=["websocket"], wait_timeout=TIMEOUT)
        self.client.emit("session_request", {"session_id": session_id})
        return self.wait_for("session_confirm")[-1]

    def wait_until(self, condition) -> None:
        with self.changed:
            if not self.changed.wait_for(condition, TIMEOUT):
                raise AssertionError(f"not within {TIMEOUT} s: {self.events}")

    def open_again(self, session_id: str) -> str:
        """Ask this connected socket for another conversation."""
        self.client.emit("session_request", {"session_id": session_id})
        return self.wait_for("session_confirm", 2)[-1]

    def say(self, session_id: Optional[str], message: Any) -> None:
        self.client.emit("user_uttered", {"session_id": session_id, "message": message})

    def close(self) -> None:
        self.client.disconnect()

"""Shared fixtures: the project's files, the trained model, a real running assistant, a
stand-in Twilio cloud and Debian's Chromium. Their helpers are in support.py."""

from __future__ import annotations

import os
import secrets
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
from playwright.sync_api import Browser, sync_playwright

from support import (
    CHROMIUM, CHROMIUM_FLAGS, MODEL, ROOT, STAFF_API_TOKEN, RunningAssistant,
    TwilioCloud, _twilio_handler, load_yaml, start_assistant, stop,
)

# The tests run in local mode unless a test says otherwise (the servers they start inherit it).
os.environ.setdefault("CLINIC_ENV", "local")
# The secret the Rasa servers the tests start send to their action servers (endpoints.yml).
os.environ.setdefault("CLINIC_ACTION_TOKEN", secrets.token_hex(32))


@pytest.fixture(scope="session")
def catalogue() -> Dict[str, Any]:
    """The project's FAQ contract (faq-catalogue.yml)."""
    return load_yaml(ROOT / "faq-catalogue.yml")


@pytest.fixture(scope="session")
def catalogue_ids(catalogue) -> List[str]:
    return [topic["id"] for topic in catalogue["topics"]]


@pytest.fixture(scope="session")
def domain() -> Dict[str, Any]:
    return load_yaml(ROOT / "domain.yml")


@pytest.fixture(scope="session")
def trained_model() -> Path:
    if not MODEL.exists():
        pytest.fail(f"No trained model at {MODEL}: run `make test`, which trains it first")
    return MODEL


@pytest.fixture(scope="session")
def twilio_cloud() -> Iterator[TwilioCloud]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), None)
    cloud = TwilioCloud(
        url=f"http://127.0.0.1:{server.server_address[1]}",
        account_sid="AC" + secrets.token_hex(16),
        auth_token=secrets.token_hex(16),
    )
    server.RequestHandlerClass = _twilio_handler(cloud)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield cloud
    server.shutdown()


@pytest.fixture(scope="session")
def assistant(trained_model, tmp_path_factory, twilio_cloud) -> Iterator[RunningAssistant]:
    """The whole assistant, started once for the session and stopped at the end; its SMS
    channel talks to the stand-in Twilio cloud."""
    running, processes = start_assistant(
        tmp_path_factory.mktemp("assistant"), trained_model,
        extra_env={**twilio_cloud.env(), "CLINIC_STAFF_API_TOKEN": STAFF_API_TOKEN},
    )
    yield running
    stop(processes)


@pytest.fixture(scope="session")
def staff_api_token() -> str:
    """The bearer token of the `assistant`'s staff API (channels/staff.py)."""
    return STAFF_API_TOKEN


# Per module: Playwright's sync API keeps an event loop running while a browser is open, and
# the SMS tests' asyncio.run() cannot start beside it.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"No Chromium at {CHROMIUM}: `apt-get install chromium` (or make browser)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield browser
        browser.close()

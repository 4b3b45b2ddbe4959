"""The console in Debian's Chromium: a crisis message sent through the widget on the demo page
becomes an urgent escalation that a staff member logs in to see and acknowledges."""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from typing import Iterator

import pytest
import requests
from playwright.sync_api import expect

from clinic.db import engine_for
from conftest import REPORTS, ROOT, VENV_BIN, free_port, start_demo, stop
from console import accounts

PASSWORD = secrets.token_urlsafe(16)
WAIT_MS = 60_000


@pytest.fixture(scope="module")
def console_url(assistant) -> Iterator[str]:
    accounts.create_user(engine_for(assistant.database_url), "nurse.kim", PASSWORD)
    port = free_port()
    env = {**os.environ, "CLINIC_DATABASE_URL": assistant.database_url,
           "CLINIC_CONSOLE_SECRET": secrets.token_hex(32)}
    process = subprocess.Popen(
        [VENV_BIN / "python", "-m", "console", "run", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            requests.get(f"{url}/login", timeout=1)
            break
        except requests.ConnectionError:
            if process.poll() is not None:
                pytest.fail("the console did not start")
            time.sleep(0.2)
    yield url
    stop([process])


def test_a_crisis_in_the_widget_is_acknowledged_in_the_console(browser, assistant, console_url):
    demo_url, demo = start_demo(assistant.url)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        visitor = context.new_page()
        visitor.set_default_timeout(WAIT_MS)
        visitor.goto(demo_url)
        visitor.get_by_role("button", name="Chat with").click()
        marker = secrets.token_hex(3)
        box = visitor.get_by_label("Your message")
        box.fill(f"I want to kill myself tonight, I have the pills ready {marker}")
        box.press("Enter")
        expect(visitor.locator(".message.bot .bubble").first).to_contain_text("988")

        staff = context.new_page()
        staff.set_default_timeout(WAIT_MS)
        staff.goto(console_url + "/")
        expect(staff).to_have_url(f"{console_url}/login?next=/")
        staff.get_by_label("Username").fill("nurse.kim")
        staff.get_by_label("Password").fill(PASSWORD)
        staff.get_by_role("button", name="Log in").click()
        card = staff.locator("article.card", has_text=marker)
        expect(card).to_contain_text("URGENT")
        expect(card).to_contain_text("open")
        (REPORTS / "screenshots").mkdir(parents=True, exist_ok=True)
        staff.screenshot(path=str(REPORTS / "screenshots" / "console-queue.png"), full_page=True)
        card.get_by_role("button", name="Acknowledge").click()
        card = staff.locator("article.card", has_text=marker)
        expect(card).to_contain_text("Acknowledged")
        expect(card).to_contain_text("nurse.kim")
    finally:
        context.close()
        stop([demo])

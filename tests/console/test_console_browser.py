"""The console in Debian's Chromium: a crisis message sent through the widget on the demo page
becomes an urgent escalation that a staff member logs in to see and acknowledges, or follows
to the conversation, takes over, answers in the person's chat, watches live and resolves; the
conversations the assistant held are filtered, opened and exported."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import time
from contextlib import contextmanager
from typing import Any, Iterator

import pytest
import requests
from playwright.sync_api import expect

from clinic.db import engine_for
from console.auth import accounts
from support import REPORTS, ROOT, VENV_BIN, free_port, start_demo, stop

PASSWORD = secrets.token_urlsafe(16)
WAIT_MS = 60_000


CONSOLE_LOG: dict = {}


@pytest.fixture(scope="module")
def console_url(assistant, staff_api_token, tmp_path_factory) -> Iterator[str]:
    accounts.create_user(engine_for(assistant.database_url), "nurse.kim", PASSWORD)
    accounts.create_user(engine_for(assistant.database_url), "admin.lee", PASSWORD, accounts.ADMIN)
    port = free_port()
    log = CONSOLE_LOG["path"] = tmp_path_factory.mktemp("console") / "console.log"
    env = {
        **os.environ,
        "CLINIC_DATABASE_URL": assistant.database_url,
        "CLINIC_EVENTS_DATABASE_URL": assistant.events_database_url,
        "CLINIC_CONSOLE_SECRET": secrets.token_hex(32),
        "CLINIC_RASA_URL": assistant.url,
        "CLINIC_STAFF_API_TOKEN": staff_api_token,
    }
    process = subprocess.Popen(
        [VENV_BIN / "python", "-m", "console", "run", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
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


@contextmanager
def visitor_with_the_widget_open(browser, assistant) -> Iterator[tuple[Any, Any]]:
    """A browser context on the demo clinic page with the chat widget open, and its page."""
    demo_url, demo = start_demo(assistant.url)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        visitor = context.new_page()
        visitor.set_default_timeout(WAIT_MS)
        visitor.goto(demo_url)
        visitor.get_by_role("button", name="Chat with").click()
        yield context, visitor
    finally:
        context.close()
        stop([demo])


def test_a_crisis_in_the_widget_is_acknowledged_in_the_console(browser, assistant, console_url):
    with visitor_with_the_widget_open(browser, assistant) as (context, visitor):
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
        expect(card.locator(".level")).to_have_text("urgent")
        expect(card).to_contain_text("open")
        (REPORTS / "screenshots").mkdir(parents=True, exist_ok=True)
        staff.screenshot(path=str(REPORTS / "screenshots" / "console-queue.png"), full_page=True)
        card.get_by_role("button", name="Acknowledge").click()
        card = staff.locator("article.card", has_text=marker)
        expect(card).to_contain_text("Acknowledged")
        expect(card).to_contain_text("nurse.kim")


def test_from_the_alert_to_the_person_and_back(browser, assistant, console_url):
    """The escalation opens the conversation; staff take it over and answer in the person's
    chat, see their next message without a reload, and resolve with what happened."""
    with visitor_with_the_widget_open(browser, assistant) as (context, visitor):
        box = visitor.get_by_label("Your message")
        bot = visitor.locator(".message.bot .bubble")

        def say(text: str) -> None:
            box.fill(text)
            box.press("Enter")

        def answered(text: str) -> None:
            """Say `text` and wait for the assistant's answer."""
            before = bot.count()
            say(text)
            expect(bot).not_to_have_count(before, timeout=WAIT_MS)
            expect(visitor.locator(".typing .dots")).to_have_count(0, timeout=WAIT_MS)

        answered("I'd like to book a consultation")  # asks for a name
        answered("Jordan")
        marker = secrets.token_hex(3)
        say(f"I want to kill myself tonight, I have the pills ready {marker}")
        expect(bot.last).to_contain_text("988", timeout=WAIT_MS)

        staff = context.new_page()
        staff.set_default_timeout(WAIT_MS)
        log_in(staff, console_url)
        card = staff.locator("article.card", has_text=marker)
        expect(card).to_contain_text("open the conversation to answer in the chat", timeout=WAIT_MS)
        expect(card).to_contain_text("suicidal thoughts")
        # The name comes from the console's conversation index, which follows the event broker
        # a moment behind: a later load of the queue names the person.
        named = card.get_by_role("link", name=re.compile(r"^Web chat · .* · Jordan$"))
        for _ in range(60):
            if named.count():
                break
            time.sleep(1)
            staff.reload()
        named.click()
        expect(staff.get_by_role("heading", level=1)).to_have_text(
            re.compile(r"^Web chat · \w{3} \d{1,2} \w{3} .*\d:\d\d [AP]M · Jordan$")
        )
        expect(staff).to_have_title(re.compile(r"^Web chat · .* · Jordan · "))
        expect(staff.locator("#reach")).to_contain_text("The chat is open")

        staff.get_by_role("button", name="Take over").click()
        expect(staff.get_by_role("status").first).to_contain_text("You have taken over")
        expect(bot.last).to_contain_text("has joined the conversation", timeout=WAIT_MS)
        reply = f"Hi Jordan, this is Kim from the clinic. Are you safe right now? {marker}"
        staff.get_by_label("Reply in the web chat").fill(reply)
        staff.get_by_role("button", name="Send reply").click()
        expect(staff.get_by_role("status").first).to_have_text("Reply sent.")
        expect(bot.last).to_have_text(reply, timeout=WAIT_MS)

        staff.evaluate("window.stillTheSamePage = true")
        answer = f"I'm at home, my sister is here with me {marker}"
        say(answer)
        # Polled (the index follows the broker about every second, the page polls every 4 s).
        expect(staff.locator(".turn.user").last).to_contain_text(answer, timeout=WAIT_MS)
        assert staff.evaluate("window.stillTheSamePage") is True
        expect(staff.locator(".turn.staff")).to_contain_text([reply])
        (REPORTS / "screenshots").mkdir(parents=True, exist_ok=True)
        staff.screenshot(
            path=str(REPORTS / "screenshots" / "console-conversation-live.png"), full_page=True
        )

        staff.locator(".summary").get_by_role("link", name=re.compile(r"^#\d+$")).click()
        card = staff.locator("article.card", has_text=marker)
        card.get_by_label("Reached the person").check()
        card.get_by_label("Note").fill("Talked in the chat; safe at home with her sister.")
        card.get_by_role("button", name="Resolve").click()
        expect(staff.get_by_role("status").first).to_contain_text("resolved")
        expect(card).to_contain_text("reached the person")
        expect(card).to_contain_text("Talked in the chat; safe at home with her sister.")
        staff.get_by_role("link", name="← All escalations").click()
        expect(staff.locator("article.card", has_text=marker)).to_have_count(0)


def log_in(page, console_url: str, username: str = "nurse.kim") -> None:
    page.goto(console_url + "/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Escalations")).to_be_visible()


def test_staff_filter_open_and_export_conversations(browser, assistant, console_url, tmp_path):
    marker = secrets.token_hex(4)
    xss = f"<script>alert(1)</script> price {marker}"
    conversation = f"rest-browser-{marker}"
    assistant.send(conversation, xss)
    assistant.send(conversation, "how long does a session take?")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    try:
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        dialogs = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        log_in(page, console_url, "admin.lee")  # exports are for administrators
        page.get_by_role("link", name="Conversations").click()
        page.get_by_label("Words in a message").fill(marker)
        page.get_by_role("button", name="Show").click()
        rows = page.locator("table.list tbody tr")
        for _ in range(50):  # the console's index follows the broker about every second
            if page.locator("table.list tbody tr", has_text=marker).count():
                break
            time.sleep(0.2)
            page.reload()
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text(xss)  # as text: the script never ran
        page.get_by_label("FAQ topic").select_option("session_length")
        page.get_by_role("button", name="Show").click()
        expect(rows).to_have_count(1)
        (REPORTS / "screenshots").mkdir(parents=True, exist_ok=True)
        page.screenshot(
            path=str(REPORTS / "screenshots" / "console-conversations.png"), full_page=True
        )
        with page.expect_download() as download:
            page.get_by_role("link", name="CSV").click()
        exported = tmp_path / "export.csv"
        download.value.save_as(exported)
        assert marker in exported.read_text() and conversation in exported.read_text()

        rows.first.get_by_role("link").click()
        expect(page.get_by_role("heading", name="Messages")).to_be_visible()
        expect(page.locator(".turn.user .text").first).to_have_text(xss)
        expect(page.locator(".turn.user").nth(1)).to_contain_text(
            "How long does one infusion session take?"
        )
        page.get_by_label("New tag").fill("follow up")
        page.get_by_role("button", name="Add tag").click()
        expect(page.get_by_role("status")).to_contain_text("Tagged “follow up”.")
        page.screenshot(
            path=str(REPORTS / "screenshots" / "console-transcript.png"), full_page=True
        )
        assert dialogs == []
    finally:
        context.close()


def test_a_logged_out_visitor_and_a_forged_form_are_refused(browser, console_url):
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        for path in ("/", "/conversations", "/not-understood", "/analytics", "/requests"):
            page.goto(console_url + path)
            expect(page).to_have_url(re.compile(r"/login\?next="))
        log_in(page, console_url)
        page.get_by_role("link", name="Conversations").click()
        page.locator("table.list tbody tr a").first.click()
        transcript = page.url
        # The note's form without its CSRF token, as a page on another site would post it.
        page.evaluate("document.querySelector('form.note input[name=csrf_token]').remove()")
        page.get_by_label("Note for the team").fill("forged")
        page.get_by_role("button", name="Save note").click()
        expect(page.get_by_text("CSRF check")).to_be_visible()
        page.goto(transcript)
        expect(page.get_by_label("Note for the team")).to_have_value("")  # nothing was saved
    finally:
        context.close()


def test_a_search_never_reaches_the_consoles_log(browser, console_url):
    """What staff search for is health information: no access log line carries the URL."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        log_in(page, console_url)
        term = f"overdose-{secrets.token_hex(4)}"
        page.goto(f"{console_url}/conversations?q={term}")
        expect(page.get_by_label("Words in a message")).to_have_value(term)
    finally:
        context.close()
    assert term not in CONSOLE_LOG["path"].read_text()

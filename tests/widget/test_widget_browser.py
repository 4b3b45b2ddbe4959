"""The chat widget in a real headless Chromium, on the demo clinic page, against the real server.

Screenshots and the axe-core report go to reports/ (CI keeps them as artefacts).
"""

from __future__ import annotations

import json
from typing import Iterator

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from clinic.profile import current_profile
from conftest import REPORTS, ROOT, free_port, start_demo, stop

WIDGET = ROOT / "widget" / "dist" / "clinic-chat.js"
AXE = ROOT / "widget" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = REPORTS / "screenshots"
PROFILE = current_profile()
WAIT_MS = 60_000


@pytest.fixture(scope="module")
def demo(assistant) -> Iterator[str]:
    if not WIDGET.exists() or not AXE.exists():
        pytest.fail("The widget is not built: run `make setup` (npm ci + node widget/build.mjs)")
    url, process = start_demo(assistant.url)
    yield url
    stop([process])


@pytest.fixture
def context(browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    yield context
    context.close()


@pytest.fixture
def page(context, demo) -> Page:
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.on("dialog", lambda dialog: pytest.fail(f"a dialog opened: {dialog.message}"))
    page.goto(demo)
    return page


def open_chat(page: Page) -> None:
    """Open the chat with its launcher (a panel left open stays open after a reload)."""
    page.wait_for_function("document.querySelector('[data-clinic-chat]')")
    if not page.get_by_role("dialog").is_visible():
        page.get_by_role("button", name=f"Chat with {PROFILE.name}").click()
    expect(page.get_by_role("dialog")).to_be_visible()


def ask(page: Page, text: str) -> None:
    """Type a message, send it, and wait until the assistant has finished answering."""
    bot_before = page.locator(".message.bot").count()
    box = page.get_by_label("Your message")
    box.fill(text)
    box.press("Enter")
    expect(page.locator(".message.bot")).not_to_have_count(bot_before)
    expect(page.locator(".typing")).to_be_hidden()


def bot_texts(page: Page) -> list:
    return page.locator(".message.bot .bubble").all_inner_texts()


def session_id(page: Page) -> str:
    return json.loads(page.evaluate("sessionStorage.getItem('clinicChat:v1')"))["sessionId"]


def assert_no_local_storage(page: Page) -> None:
    assert page.evaluate("localStorage.length") == 0


def test_a_catalogue_question_gets_its_answer(page):
    open_chat(page)
    expect(page.get_by_text("In crisis?")).to_be_visible()
    ask(page, "how long does an infusion session take?")
    assert PROFILE.session_minutes in bot_texts(page)[-1]
    assert_no_local_storage(page)


def test_a_quick_reply_is_sent_by_clicking_it(page, domain):
    open_chat(page)
    ask(page, "I take lithium, can I get ketamine infusions?")
    page.get_by_role("button", name="Yes, book a consultation").click()
    expect(page.locator(".message.user .bubble").last).to_have_text("Yes, book a consultation")
    ask_name = domain["responses"]["utter_ask_contact_name"][0]["text"]
    expect(page.locator(".message.bot .bubble").last).to_contain_text(ask_name)
    expect(page.get_by_role("button", name="Yes, book a consultation")).to_be_disabled()


def test_history_survives_a_reload_and_a_second_tab_continues(page, context, assistant):
    open_chat(page)
    ask(page, "what are the side effects?")
    before = session_id(page)
    page.reload()
    expect(page.get_by_role("dialog")).to_be_visible()  # it was open: it opens again
    expect(page.locator(".message.user .bubble")).to_have_text(["what are the side effects?"])
    assert session_id(page) == before

    second = context.new_page()
    second.set_default_timeout(WAIT_MS)
    second.goto(page.url)
    open_chat(second)
    expect(second.locator(".message.user .bubble").first).to_have_text("what are the side effects?")
    ask(second, "what does it cost?")
    assert session_id(second) == before
    expect(page.locator(".message.user .bubble").last).to_have_text("what does it cost?")
    tracker = assistant.tracker(before)
    said = [e["text"] for e in tracker["events"] if e["event"] == "user"]
    assert said == ["what are the side effects?", "what does it cost?"]
    assert_no_local_storage(second)


def test_a_message_is_shown_as_text_never_as_html(page):
    payload = "<img src=x onerror=alert(1)>"
    open_chat(page)
    ask(page, payload)
    expect(page.locator(".message.user .bubble").last).to_have_text(payload)
    assert page.locator("[data-clinic-chat] img").count() == 0
    assert page.evaluate("document.querySelector('[data-clinic-chat]').shadowRoot"
                         ".querySelectorAll('img').length") == 0


def test_a_crisis_message_gets_the_hotline_reply_first(page):
    open_chat(page)
    ask(page, "I want to kill myself tonight")
    first_reply = page.locator(".message.bot .bubble").first
    expect(first_reply).to_contain_text("988")
    expect(first_reply.get_by_role("link", name="988").first).to_have_attribute("href", "tel:988")


def test_clear_conversation_forgets_it_and_starts_a_new_one(page):
    open_chat(page)
    ask(page, "hello")
    before = session_id(page)
    page.get_by_role("button", name="Clear conversation").click()
    page.get_by_role("button", name="Yes, clear it").click()
    expect(page.locator(".message")).to_have_count(0)
    page.wait_for_function(
        "(old) => { const s = JSON.parse(sessionStorage.getItem('clinicChat:v1'));"
        " return s && s.sessionId && s.sessionId !== old && s.messages.length === 0; }",
        arg=before,
    )
    assert "hello" not in page.evaluate("JSON.stringify(sessionStorage)")
    assert_no_local_storage(page)


def test_keyboard_only(page):
    launcher = page.get_by_role("button", name=f"Chat with {PROFILE.name}")
    for _ in range(20):
        page.keyboard.press("Tab")
        if launcher.evaluate("(button) => button.getRootNode().activeElement === button"):
            break
    else:
        pytest.fail("Tab never reached the chat launcher")
    page.keyboard.press("Enter")
    expect(page.get_by_label("Your message")).to_be_focused()
    page.keyboard.type("how long is a session?")
    page.keyboard.press("Enter")
    expect(page.locator(".message.bot")).not_to_have_count(0)
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(launcher).to_be_focused()


def test_a_too_long_message_is_refused_and_kept(page):
    open_chat(page)
    text = "a" * 1001
    box = page.get_by_label("Your message")
    box.fill(text)
    box.press("Enter")
    expect(page.locator(".message.notice")).to_contain_text("too long")
    expect(box).to_have_value(text)


def test_an_unreachable_assistant_shows_retrying_and_the_clinic_phone(browser):
    url, process = start_demo(f"http://127.0.0.1:{free_port()}")  # nothing listens there
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        page.goto(url)
        open_chat(page)
        box = page.get_by_label("Your message")
        box.fill("how long is a session?")
        box.press("Enter")
        banner = page.get_by_role("status")
        expect(banner).to_contain_text("Retrying")
        expect(banner.get_by_role("link", name=PROFILE.phone)).to_be_visible()
        expect(banner).to_contain_text("will be sent when the connection is back")
        stored = json.loads(page.evaluate("sessionStorage.getItem('clinicChat:v1')"))
        assert stored["queue"] == ["how long is a session?"]
    finally:
        context.close()
        stop([process])


def test_axe_finds_no_serious_problem_and_screenshots(browser, demo):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    results = {}
    for name, viewport in {"phone": (360, 740), "desktop": (1280, 800)}.items():
        context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        page.goto(demo)
        open_chat(page)
        ask(page, "I take lithium, can I get ketamine infusions?")
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport[0]
        page.screenshot(path=str(SCREENSHOTS / f"widget-{name}.png"))
        page.add_script_tag(path=str(AXE))
        results[name] = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        context.close()
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "axe-widget.json").write_text(json.dumps(results, indent=2))
    serious = [
        f"{name}: {violation['id']} ({violation['impact']}): {violation['help']} "
        f"at {[node['target'] for node in violation['nodes']]}"
        for name, result in results.items() for violation in result["violations"]
        if violation["impact"] in ("serious", "critical")
    ]
    assert not serious, "\n".join(serious)

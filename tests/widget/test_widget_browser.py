"""The chat widget in Debian's Chromium, on the demo clinic page, against the real assistant.

Fixtures (tests/widget/conftest.py): `widget` is the demo page in a fresh browser profile,
`new_widget()` another tab of it; every test ends with localStorage and cookies empty and no
JavaScript dialog opened. Screenshots and the axe-core report go to reports/.
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict

from playwright.sync_api import expect

from channels.webchat import SUGGESTED_TOPICS
from clinic.profile import current_profile
from support import REPORTS, start_demo, stop

PROFILE = current_profile()
SCREENSHOTS = REPORTS / "screenshots"
NEW_SESSION = """(old) => {
  const state = JSON.parse(sessionStorage.getItem('clinicChat:v1'));
  return state && state.sessionId && state.sessionId !== old;
}"""


def response_text(domain: Dict[str, Any], name: str) -> str:
    """A response of the domain as the assistant says it, the profile's values filled in."""
    return domain["responses"][name][0]["text"].format_map(PROFILE.template_values())


def greeting_text(domain: Dict[str, Any]) -> str:
    """utter_greet as the assistant says it outside a crisis (its variation with no condition)."""
    [default] = [v for v in domain["responses"]["utter_greet"] if "condition" not in v]
    return default["text"].format_map(PROFILE.template_values())


def suggested_questions(domain: Dict[str, Any]) -> Dict[str, str]:
    """The questions an empty chat offers (the titles of their answers), by topic, in order."""
    return {topic: domain["responses"][f"utter_faq/{topic}"][0]["metadata"]["title"]
            for topic in SUGGESTED_TOPICS}


def serious_problems(results: Dict[str, Any]) -> list:
    """axe-core's serious and critical violations, one line each, of {name: axe.run(…)}."""
    return [
        f"{name}: {violation['id']} ({violation['impact']}): {violation['help']} "
        f"at {[node['target'] for node in violation['nodes']]}"
        for name, result in results.items() for violation in result["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


def user_messages(assistant, session_id: str) -> list:
    return [e["text"] for e in assistant.tracker(session_id)["events"] if e["event"] == "user"]


def clear_conversation(widget) -> None:
    widget.page.get_by_role("button", name="Clear conversation").click()
    expect(widget.page.get_by_text("Clear this conversation from this browser?")).to_be_visible()
    widget.page.get_by_role("button", name="Yes, clear it").click()


def test_a_catalogue_question_gets_its_answer(widget, domain):
    widget.open()
    expect(widget.dialog.get_by_text("In crisis?")).to_be_visible()
    expect(widget.dialog.get_by_role("link", name="Call 988")).to_have_attribute("href", "tel:988")
    expect(widget.dialog.get_by_role("link", name="Text 988")).to_have_attribute("href", "sms:988")
    answer = widget.ask("how long does an infusion session take?")
    assert PROFILE.session_minutes in answer
    assert response_text(domain, "utter_faq/session_length") in answer
    stamp = widget.page.locator(".message.bot time").first
    expect(stamp).to_have_text(re.compile(r"^\d\d:\d\d$"))
    expect(stamp).to_have_attribute("datetime", re.compile(r"^\d{4}-\d\d-\d\dT"))


def test_a_quick_reply_is_sent_by_clicking_it(widget, domain):
    widget.open()
    answer = widget.ask("I take lithium, can I get ketamine infusions?")
    assert " ".join(answer.split()) == response_text(domain, "utter_medical_specific")
    phone = widget.bot.last.get_by_role("link", name=PROFILE.phone)
    expect(phone).to_have_attribute("href", f"tel:{PROFILE.phone_e164}")
    yes = widget.page.get_by_role("button", name="Yes, book a consultation")
    yes.click()
    expect(widget.user.last).to_have_text("Yes, book a consultation")  # the title, not the payload
    widget.wait_for_answer(1)
    expect(widget.bot.last).to_have_text(response_text(domain, "utter_ask_contact_name"))
    expect(yes).to_be_disabled()


def test_talk_to_a_person_is_always_at_hand(widget):
    widget.open()
    widget.page.get_by_role("button", name="Talk to a person").click()
    expect(widget.user).to_have_text(["Talk to a person"])
    widget.wait_for_answer(0)
    expect(widget.page.get_by_role("button", name="Yes, take my details")).to_be_enabled()


def test_a_reload_keeps_the_history_and_the_conversation(widget, assistant):
    widget.open()
    widget.ask("what are the side effects?")
    session = widget.session_id()
    widget.page.reload()
    expect(widget.dialog).to_be_visible()  # it was open: it is open again
    expect(widget.user).to_have_text(["what are the side effects?"])
    expect(widget.bot).not_to_have_count(0)
    assert widget.session_id() == session
    widget.ask("what does it cost?")
    assert widget.session_id() == session
    assert user_messages(assistant, session) == ["what are the side effects?", "what does it cost?"]


def test_a_second_tab_continues_the_conversation_and_a_clear_clears_both(widget, new_widget,
                                                                          assistant):
    widget.open()
    widget.ask("what are the side effects?")
    session = widget.session_id()

    second = new_widget().open()
    expect(second.user).to_have_text(["what are the side effects?"])
    expect(second.bot).to_have_count(widget.bot.count())
    second.ask("what does it cost?")
    assert second.session_id() == session
    expect(widget.user.last).to_have_text("what does it cost?")  # echoed to the first tab
    expect(widget.bot).to_have_count(second.bot.count())  # and the answer reached both
    assert user_messages(assistant, session) == ["what are the side effects?", "what does it cost?"]

    clear_conversation(second)
    for tab in (widget, second):
        expect(tab.log.locator(".message")).to_have_count(0)
        tab.page.wait_for_function(NEW_SESSION, arg=session)
    assert widget.session_id() == second.session_id()  # one new conversation for both


def test_a_message_is_shown_as_text_never_as_html(widget, new_widget):
    payload = "<img src=x onerror=alert(1)>"
    widget.open()
    widget.page.wait_for_function(NEW_SESSION, arg=None)
    second = new_widget().open()
    second.page.wait_for_function(NEW_SESSION, arg=None)
    assert second.session_id() == widget.session_id()
    widget.ask(payload)
    for tab in (widget, second):  # typed here, echoed there
        expect(tab.user.last).to_have_text(payload)
        assert tab.page.locator("img").count() == 0  # CSS locators pierce the shadow root
    # `context` fails the test if a dialog (alert) opened


def test_a_crisis_message_gets_the_hotline_reply_first(widget):
    widget.open()
    first_reply = widget.ask("I want to kill myself tonight")
    assert "988" in first_reply
    reply = widget.page.locator(".message.user + .message.bot .bubble").first
    expect(reply.get_by_role("link", name="988").first).to_have_attribute("href", "tel:988")


def test_clear_conversation_forgets_it_and_starts_a_new_one(widget):
    widget.open()
    widget.ask("what does it cost?")
    before = widget.session_id()
    widget.page.get_by_role("button", name="Clear conversation").click()
    widget.page.get_by_role("button", name="Keep it").click()
    expect(widget.user).to_have_count(1)
    clear_conversation(widget)
    expect(widget.log.locator(".message")).to_have_count(0)
    expect(widget.input).to_be_focused()
    widget.page.wait_for_function(NEW_SESSION, arg=before)
    stored = widget.page.evaluate("JSON.stringify(sessionStorage)")
    assert "what does it cost?" not in stored and before not in stored


def test_a_tab_cleared_from_another_tab_still_sends(widget):
    # The tab that cleared was closed, or lost its connection, before it could tell this one
    # its new conversation: this tab starts one of its own when the visitor writes.
    widget.open()
    widget.ask("what does it cost?")
    before = widget.session_id()
    widget.page.evaluate(
        "(session) => new BroadcastChannel('clinic-chat')"
        ".postMessage({type: 'clear', sessionId: session})", before)
    expect(widget.log.locator(".message")).to_have_count(0)
    assert PROFILE.session_minutes in widget.ask("how long is a session?")
    assert widget.session_id() != before


def test_keyboard_only(widget):
    page = widget.page
    page.wait_for_selector("[data-clinic-chat]", state="attached")
    for _ in range(30):
        page.keyboard.press("Tab")
        if widget.launcher.evaluate("(button) => button.getRootNode().activeElement === button"):
            break
    else:
        raise AssertionError("Tab never reached the chat launcher")
    assert widget.launcher.evaluate("(b) => getComputedStyle(b).outlineStyle") == "solid"
    expect(widget.launcher).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Enter")
    expect(widget.input).to_be_focused()
    launcher = page.locator("[data-clinic-chat] .launcher")  # hidden while the chat is open
    expect(launcher).to_have_attribute("aria-expanded", "true")
    expect(launcher).to_have_attribute("aria-controls", widget.dialog.get_attribute("id"))
    page.keyboard.type("how long is a session?")
    page.keyboard.press("Enter")
    widget.wait_for_answer(0)
    page.keyboard.press("Escape")
    expect(widget.dialog).to_be_hidden()
    expect(widget.launcher).to_be_focused()


def test_a_too_long_message_is_refused_and_kept(widget):
    widget.open()
    text = "a" * 1001
    widget.type_and_send(text)
    expect(widget.notices.last).to_contain_text("too long")
    expect(widget.input).to_have_value(text)
    expect(widget.user).to_have_count(0)  # back in the box, not in the transcript
    expect(widget.typing_dots).to_have_count(0)


def test_an_unreachable_assistant_shows_the_clinic_phone_and_sends_later(new_widget,
                                                                         flaky_assistant):
    url, process = start_demo(f"http://127.0.0.1:{flaky_assistant.port}")  # nothing listens yet
    try:
        widget = new_widget(url).open()
        widget.type_and_send("how long is a session?")
        banner = widget.page.get_by_role("status").filter(has_text="Retrying")
        expect(banner).to_contain_text("Can't reach the assistant right now. Retrying…")
        expect(banner).to_contain_text("If you need the clinic now, call")
        phone = banner.get_by_role("link", name=PROFILE.phone)
        expect(phone).to_have_attribute("href", f"tel:{PROFILE.phone_e164}")
        expect(banner).to_contain_text("will be sent when the connection is back")
        expect(widget.user).to_have_text(["how long is a session?"])
        assert widget.stored()["queue"] == ["how long is a session?"]
        expect(widget.input).to_be_editable()

        flaky_assistant.start()  # the assistant is back: the queued message goes out
        assert PROFILE.session_minutes in widget.wait_for_answer(0)
        expect(banner).to_have_count(0)
        assert widget.stored()["queue"] == []
    finally:
        stop([process])


HOST_PAGE = """<!doctype html><html lang="en"><head><title>Another site</title>
<style>
  html {{ font-size: 10px; }}
  * {{ color: #ff00ff; font-family: serif; line-height: 3; box-sizing: content-box; }}
  div, section, button, p {{ margin: 40px; padding: 30px; border: 5px dashed red; }}
  button, [role=dialog] {{ display: none; }}
</style>
<script>
  window.amdCalls = 0;
  window.define = function () {{ window.amdCalls += 1; }};
  window.define.amd = {{}};
</script></head>
<body><main><h1>Another site</h1></main>
<script src="{script}" defer></script></body></html>"""


def test_one_script_tag_on_any_site_and_the_site_cannot_break_it(new_widget, another_site,
                                                                  assistant):
    # No config object: the server is the script's origin, the clinic comes from its config.
    script = f"{assistant.url}/webhooks/webchat/widget.js"
    widget = new_widget(another_site(HOST_PAGE.format(script=script)))
    expect(widget.launcher).to_be_visible()  # named from GET /webhooks/webchat/config
    page = widget.page
    assert page.evaluate("typeof window.io") == "undefined"
    assert page.evaluate("window.amdCalls") == 0  # the page's AMD loader was left alone
    cached = json.loads(page.evaluate("sessionStorage.getItem('clinicChat:config')"))
    assert cached["phone"] == PROFILE.phone
    box = widget.launcher.bounding_box()
    assert 44 <= box["height"] <= 80, box
    assert widget.launcher.evaluate("(b) => getComputedStyle(b).color") == "rgb(255, 255, 255)"
    widget.open()
    panel = widget.dialog.bounding_box()
    assert (panel["width"], panel["height"]) == (380, 600), panel
    assert PROFILE.session_minutes in widget.ask("how long does an infusion session take?")


def test_axe_finds_no_serious_problem_and_screenshots(browser, demo, axe_core):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    results = {}
    for name, (width, height) in {"phone": (360, 740), "desktop": (1280, 800)}.items():
        context = browser.new_context(viewport={"width": width, "height": height})
        try:
            page = context.new_page()
            page.set_default_timeout(60_000)
            page.goto(demo)
            page.get_by_role("button", name=f"Chat with {PROFILE.name}").click()
            box = page.get_by_label("Your message")
            box.fill("how long does an infusion session take?")
            box.press("Enter")
            expect(page.locator(".message.bot")).to_have_count(1)
            box.fill("I take lithium, can I get ketamine infusions?")
            box.press("Enter")
            expect(page.get_by_role("button", name="No thanks")).to_be_visible()
            expect(page.locator(".typing .dots")).to_have_count(0)
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            panel = page.get_by_role("dialog").bounding_box()
            expected = (0, 0, width, height) if width < 480 else (width - 400, height - 620, 380, 600)
            assert (panel["x"], panel["y"], panel["width"], panel["height"]) == expected, panel
            page.screenshot(path=str(SCREENSHOTS / f"widget-{name}.png"))
            page.add_script_tag(path=str(axe_core))
            results[name] = page.evaluate("axe.run(document)")
            assert page.evaluate("localStorage.length") == 0
        finally:
            context.close()
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "axe-widget.json").write_text(json.dumps(results, indent=2))
    # axe looked inside the widget's shadow root: its targets there are [host, inner] pairs
    assert any(isinstance(node["target"][0], list)
               for result in results.values() for rule in result["passes"]
               for node in rule["nodes"])
    serious = serious_problems(results)
    assert not serious, "\n".join(serious)


def test_the_direct_question_has_yes_and_no_buttons_and_yes_brings_the_crisis_reply(widget):
    widget.open()
    question = widget.ask("i've been feeling really hopeless lately")
    assert "thoughts of ending your life" in question
    yes = widget.page.get_by_role("button", name="Yes", exact=True)
    expect(widget.page.get_by_role("button", name="No", exact=True)).to_be_visible()
    before = widget.bot.count()
    yes.click()
    expect(widget.user.last).to_have_text("Yes")
    reply = widget.wait_for_answer(before)
    assert "988" in reply and "911" in reply


def test_an_empty_chat_greets_and_offers_questions_that_are_answered(widget, domain, assistant,
                                                                      axe_core):
    questions = suggested_questions(domain)
    widget.open()
    greeting = widget.dialog.locator(".greeting")
    offered = widget.dialog.get_by_role("group", name="Suggested questions").get_by_role("button")
    expect(greeting).to_have_text(greeting_text(domain))  # from the server: the domain's words
    expect(greeting).to_contain_text(PROFILE.name)
    expect(offered).to_have_text(list(questions.values()))
    # Heard once, as the dialog's description when it opens; not from a live region, which
    # would say it again each time it is drawn.
    expect(widget.dialog).to_have_attribute("aria-describedby", "cc-greeting")
    assert greeting.evaluate("(p) => p.id === 'cc-greeting' && "
                             "!p.closest('[aria-live], [role=log], [role=status]')")
    expect(widget.log.locator(".message")).to_have_count(0)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    widget.page.screenshot(path=str(SCREENSHOTS / "widget-greeting.png"))
    widget.page.add_script_tag(path=str(axe_core))
    serious = serious_problems({"greeting": widget.page.evaluate("axe.run(document)")})
    assert not serious, "\n".join(serious)

    topic, question = next(iter(questions.items()))
    widget.page.get_by_role("button", name=question).click()
    expect(widget.user).to_have_text([question])  # sent as if typed
    answer = widget.wait_for_answer(0)
    assert response_text(domain, f"utter_faq/{topic}") in answer
    expect(greeting).to_be_hidden()
    expect(offered).to_have_count(0)
    expect(widget.input).to_be_focused()  # not lost with the button
    assert widget.dialog.get_attribute("aria-describedby") is None
    stored = widget.stored()["messages"]  # the transcript: the greeting is not in it
    assert stored[0] == {**stored[0], "from": "user", "text": question}
    assert greeting_text(domain) not in json.dumps(stored)
    assert user_messages(assistant, widget.session_id()) == [question]

    widget.page.reload()
    expect(widget.dialog).to_be_visible()
    expect(widget.user).to_have_text([question])
    expect(greeting).to_be_hidden()  # the conversation has messages
    expect(offered).to_have_count(0)

    clear_conversation(widget)
    expect(widget.log.locator(".message")).to_have_count(0)
    expect(greeting).to_have_text(greeting_text(domain))
    expect(offered).to_have_text(list(questions.values()))


def test_the_cached_config_shows_at_once_and_is_refreshed_on_every_start(new_widget, domain,
                                                                         flaky_assistant):
    url, process = start_demo(f"http://127.0.0.1:{flaky_assistant.port}")  # nothing listens yet
    try:
        widget = new_widget(url)
        greeting = widget.dialog.locator(".greeting")
        offered = widget.dialog.get_by_role("group", name="Suggested questions").get_by_role(
            "button")
        cache = "(config) => sessionStorage.setItem('clinicChat:config', JSON.stringify(config))"
        widget.page.evaluate(cache, {"clinic_name": PROFILE.name, "phone": PROFILE.phone,
                                     "greeting": "A greeting from the cache.",
                                     "suggestions": ["A question from the cache?"]})
        widget.page.reload()
        widget.open()
        expect(greeting).to_have_text("A greeting from the cache.")  # the server is unreachable
        expect(offered).to_have_text(["A question from the cache?"])

        # The config an older widget cached, without a greeting: the server's comes with the next
        # start, though a config is in the cache.
        widget.page.evaluate(cache, {"clinic_name": PROFILE.name, "phone": PROFILE.phone})
        flaky_assistant.start()
        widget.page.reload()
        expect(widget.dialog).to_be_visible()
        expect(greeting).to_have_text(greeting_text(domain))
        expect(offered).to_have_text(list(suggested_questions(domain).values()))
    finally:
        stop([process])

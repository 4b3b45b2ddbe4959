"""Retraining from the console, for real: a model trained by the worker on what staff
taught, checked, deployed into a running Rasa server through Rasa's model API and rolled back.

- In Debian's Chromium: a question the widget does not understand is taught from "Not
  understood", an administrator retrains and deploys, and the same question in the widget gets
  the taught topic's answer; a reworded answer shows in the widget without retraining; a rollback
  brings the old model back, and the question is not understood again.
- A conversation going on over REST and socket.io while the model is swapped loses nothing.
- A retraining on examples that teach wrong topics is refused, and the running model is untouched.

The assistant here is this module's own (its model is swapped), on the shipped model.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests
import yaml
from playwright.sync_api import expect
from webchat_tabs import Tab

from clinic.answers import ALL_CHANNELS
from clinic.db import engine_for
from console.auth import accounts
from projector import index
from retraining import runs, swap
from support import (
    ROOT,
    VENV_BIN,
    add_answer_version,
    add_taught_example,
    free_port,
    start_assistant,
    start_demo,
    stop,
)

PASSWORD = secrets.token_urlsafe(16)
STAFF_API_TOKEN = secrets.token_hex(32)
WAIT_MS = 60_000
RETRAINING_MS = 25 * 60_000  # training and checks take a few minutes; a busy CI machine more
# A question the shipped model does not understand (the test checks it first), and its topic.
UNANSWERED = "can i wear my pjs?"
TOPIC = "faq/preparation"
REWORDED = (
    "{preparation_bring} Your provider tells you at your consultation whether to keep taking "
    "your medicines; questions: {clinic_phone}."
)
REWORDED_SAYS = "Your provider tells you at your consultation"


@pytest.fixture(scope="module")
def teachable(trained_model, tmp_path_factory) -> Iterator[Any]:
    running, processes = start_assistant(
        tmp_path_factory.mktemp("teachable"),
        trained_model,
        extra_env={"CLINIC_STAFF_API_TOKEN": STAFF_API_TOKEN},
    )
    yield running
    stop(processes)


@pytest.fixture(scope="module")
def console_env(teachable, tmp_path_factory) -> dict[str, str]:
    return {
        **os.environ,
        "CLINIC_DATABASE_URL": teachable.database_url,
        "CLINIC_EVENTS_DATABASE_URL": teachable.events_database_url,
        "CLINIC_CONSOLE_SECRET": secrets.token_hex(32),
        "CLINIC_RASA_URL": teachable.url,
        "CLINIC_STAFF_API_TOKEN": STAFF_API_TOKEN,
        "CLINIC_RASA_API_TOKEN": teachable.token,
        "CLINIC_RASA_REPLICAS": teachable.url,
        "CLINIC_RETRAINING_DIR": str(tmp_path_factory.mktemp("retraining")),
    }


@pytest.fixture(scope="module")
def console_url(teachable, console_env, tmp_path_factory) -> Iterator[str]:
    accounts.create_user(engine_for(teachable.database_url), "admin.lee", PASSWORD, accounts.ADMIN)
    port = free_port()
    log = tmp_path_factory.mktemp("console") / "console.log"
    process = subprocess.Popen(
        [VENV_BIN / "python", "-m", "console", "run", "--port", str(port)],
        cwd=ROOT,
        env=console_env,
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
                pytest.fail(f"the console did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)
    yield url
    stop([process])


def answer_text(topic: str) -> str:
    """The longest part of the topic's answer that no profile value fills in."""
    domain = yaml.safe_load((ROOT / "domain.yml").read_text())
    text = domain["responses"][f"utter_{topic}"][0]["text"]
    return " ".join(max(re.split(r"\{[a-z_]+\}", text), key=len).split())


def ask_in_a_new_chat(browser, demo_url: str, text: str) -> str:
    """The assistant's first reply to `text`, in a new visitor's widget."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        page.goto(demo_url)
        page.get_by_role("button", name="Chat with").click()
        greeted = page.locator(".message.bot .bubble").count()
        page.get_by_label("Your message").fill(text)
        page.get_by_label("Your message").press("Enter")
        reply = page.locator(".message.bot .bubble").nth(greeted)
        expect(reply).to_be_visible(timeout=WAIT_MS)
        return " ".join(reply.inner_text().split())
    finally:
        context.close()


def serving(teachable) -> str:
    return swap.serving_model(teachable.url, teachable.token)


class Conversation(threading.Thread):
    """A person chatting over REST and one over socket.io, a message a second, until stopped:
    every message must be answered."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.stopping = url, threading.Event()
        self.sent, self.answered, self.failures = 0, 0, []
        self.tab, self.session = Tab(), None

    def run(self) -> None:
        self.session = self.tab.open(self.url)
        number = 0
        while not self.stopping.is_set() or number < 3:
            number += 1
            try:
                replies = requests.post(
                    f"{self.url}/webhooks/rest/webhook",
                    json={"sender": "during-the-swap", "message": "how long is a session?"},
                    timeout=120,
                ).json()
                self.sent += 1
                self.answered += bool(replies and replies[0].get("text"))
            except (requests.RequestException, ValueError) as error:
                self.failures.append(f"REST: {type(error).__name__}")
            self.tab.say(self.session, "how much does it cost?")
            try:
                self.tab.wait_for("bot_done", number)
            except AssertionError as error:
                self.failures.append(f"socket.io: {error}")
            time.sleep(1)

    def finish(self) -> None:
        self.stopping.set()
        self.join(timeout=300)
        self.tab.close()


def log_in(page, console_url: str) -> None:
    page.goto(f"{console_url}/login")
    page.get_by_label("Username").fill("admin.lee")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_taught_in_the_console_answered_in_the_widget_then_rolled_back(
    browser, teachable, console_url, console_env
):
    demo_url, demo = start_demo(teachable.url)
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    admin = context.new_page()
    admin.set_default_timeout(WAIT_MS)
    try:
        expected = answer_text(TOPIC)
        first = ask_in_a_new_chat(browser, demo_url, UNANSWERED)
        assert expected not in first, "the shipped model already answers it: choose another"
        engine = engine_for(teachable.database_url)
        index.catch_up(engine, index.broker_engine(teachable.events_database_url), index.BROKER)

        log_in(admin, console_url)
        admin.goto(f"{console_url}/not-understood")
        admin.get_by_role("checkbox", name=UNANSWERED).check()
        admin.get_by_label("Topic for the chosen messages").select_option(TOPIC)
        admin.get_by_role("button", name="Teach the assistant").click()
        expect(admin.get_by_text(UNANSWERED)).to_be_visible()  # on the Teach page

        admin.goto(f"{console_url}/models")
        admin.get_by_role("button", name="Retrain now").click()
        expect(admin.locator(".flash")).to_contain_text("Retraining 1 started")
        expect(admin.locator("#run-1")).to_contain_text("Ready to deploy", timeout=RETRAINING_MS)
        admin.screenshot(path=str(ROOT / "reports" / "retrain-ready.png"), full_page=True)
        assert "answers 1 of 1 taught examples as taught" in admin.locator("#run-1").inner_text()
        run_folder = Path(console_env["CLINIC_RETRAINING_DIR"]) / "run-1"
        assert UNANSWERED not in (run_folder / "worker.log").read_text()  # nor in any log

        conversation = Conversation(teachable.url)
        conversation.start()
        time.sleep(3)
        admin.locator("#run-1").get_by_role("button", name="Deploy").click()
        expect(admin.locator(".flash")).to_contain_text("Deployed", timeout=WAIT_MS * 5)
        conversation.finish()
        assert conversation.failures == []
        assert conversation.sent >= 3 and conversation.answered == conversation.sent
        assert serving(teachable) == "run-1.tar.gz"
        admin.screenshot(path=str(ROOT / "reports" / "retrain-deployed.png"), full_page=True)

        assert expected in ask_in_a_new_chat(browser, demo_url, UNANSWERED)
        add_answer_version(engine, REWORDED, response=f"utter_{TOPIC}", channel=ALL_CHANNELS)
        time.sleep(6)  # the server reads approved wordings every 5 s
        assert REWORDED_SAYS in ask_in_a_new_chat(browser, demo_url, UNANSWERED)

        admin.goto(f"{console_url}/models")
        admin.get_by_role("button", name="Roll back to the model the repository shipped").click()
        expect(admin.locator(".flash")).to_contain_text("Rolled back", timeout=WAIT_MS * 5)
        admin.screenshot(path=str(ROOT / "reports" / "retrain-rolled-back.png"), full_page=True)
        assert serving(teachable) == "assistant.tar.gz"
        again = ask_in_a_new_chat(browser, demo_url, UNANSWERED)
        assert REWORDED_SAYS not in again and expected not in again
    finally:
        context.close()
        stop([demo])


def test_a_retraining_that_teaches_wrong_topics_is_refused_and_nothing_changes(
    teachable, console_env, monkeypatch
):
    """The second held-out set's questions on cost and session length, taught as contact details
    and visit logistics: the new model answers fewer held-out questions correctly, and is
    refused with the figures."""
    for name in ("CLINIC_DATABASE_URL", "CLINIC_RETRAINING_DIR", "CLINIC_RASA_API_TOKEN"):
        monkeypatch.setenv(name, console_env[name])
    engine = engine_for(teachable.database_url)
    before = serving(teachable)
    held_out = yaml.safe_load((ROOT / "tests/data/heldout_second.yml").read_text())["nlu"]
    for block in held_out:
        if block["intent"] in ("faq/cost", "faq/session_length"):
            for line in block["examples"].splitlines():
                wrong = "faq/contact" if block["intent"] == "faq/cost" else "faq/visit_logistics"
                add_taught_example(engine, line[2:], wrong)
    run_id = runs.start(engine, "admin.lee", spawn=False)
    # The worker as the console starts it, in a process of its own (in this one, the browser
    # test's Playwright loop is still running).
    worked = subprocess.run(
        [VENV_BIN / "python", "-m", "retraining.worker", str(run_id)],
        cwd=ROOT,
        env=console_env,
        timeout=RETRAINING_MS / 1000,
    )
    assert worked.returncode == 0
    run = runs.get(engine, run_id)
    assert run["state"] == runs.REFUSED, run["reasons"]
    assert any("fewer held-out questions correctly" in reason for reason in run["reasons"])
    assert not (runs.workdir(run_id) / "data").exists(), "the taught texts' copy is left behind"
    with pytest.raises(runs.RetrainingError, match="not ready to deploy"):
        runs.deploy(engine, run_id, "admin.lee")
    assert serving(teachable) == before

"""Teaching (console/teaching/): staff give messages the assistant did not understand their
topic, mark answers wrong in a transcript and give the right one, and revoke what they taught;
form answers and messages to staff never come in; every change is audited."""

from __future__ import annotations

import re
import time

import sqlalchemy as sa
import yaml

from console.auth import accounts
from console.teaching import queries as teaching
from projector.index import apply_events

CONVERSATION = "web-teach-1"


def user(text, ts, intent="nlu_fallback", confidence=0.3, topic=None):
    parse = {"intent": {"name": intent, "confidence": confidence}, "crisis": {"level": "none"}}
    if topic:
        parse["response_selector"] = {
            "faq": {"response": {"intent_response_key": f"faq/{topic}", "confidence": 0.95}}
        }
    return {
        "event": "user",
        "timestamp": ts,
        "text": text,
        "input_channel": "webchat",
        "parse_data": parse,
    }


def index(engine):
    """A conversation of a minute ago: a sure answer, a fallback with a phone number, a form
    answer."""
    now = time.time() - 60
    events = [
        user(
            "is the needle part painful? scared of needles",
            now + 1.0,
            "faq",
            0.8,
            "infusion_experience",
        ),
        user("do u take blue cross, call me 555 010 4477", now + 2.0),
        {"event": "active_loop", "timestamp": now + 3.0, "name": "contact_form"},
        user("jordan ellis", now + 4.0),
    ]
    with engine.begin() as connection:
        apply_events(connection, [(CONVERSATION, event) for event in events])
    with engine.connect() as connection:
        return dict(connection.execute(sa.text("SELECT text, id FROM console_turns")).all())


def token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def audited(engine):
    return [(e["action"], e["target"]) for e in accounts.audit_entries(engine)]


def test_an_answer_marked_wrong_waits_for_its_topic_then_is_taught_and_revocable(
    client, log_in, engine
):
    ids = index(engine)
    log_in("sam")
    page = client.get(f"/conversations/{CONVERSATION}").get_data(as_text=True)
    assert page.count("Wrong answer") == 1  # only the answer: not the fallback or the form answer
    needle = ids["is the needle part painful? scared of needles"]
    client.post(
        f"/conversations/{CONVERSATION}/wrong", data={"turn": needle, "csrf_token": token(page)}
    )
    page = client.get("/teach").get_data(as_text=True)
    assert "Answers marked wrong (1)" in page and "scared of needles" in page
    assert "answered as “What does a ketamine infusion feel like?”" in page
    [waiting] = teaching.disagreed(engine)

    client.post(f"/teach/{waiting['id']}", data={"label": "faq/nope", "csrf_token": token(page)})
    assert teaching.disagreed(engine) and not teaching.taught(engine)  # a made-up topic: refused
    client.post(
        f"/teach/{waiting['id']}", data={"label": "faq/side_effects", "csrf_token": token(page)}
    )
    [taught] = teaching.taught(engine)
    assert (taught["label"], taught["labelled_by"], taught["source"]) == (
        "faq/side_effects",
        "sam",
        teaching.DISAGREED,
    )
    assert not teaching.disagreed(engine)

    client.post(f"/teach/{taught['id']}", data={"revoke": "yes", "csrf_token": token(page)})
    assert not teaching.taught(engine)
    [revoked] = teaching.taught(engine, revoked=True)
    assert revoked["revoked_by"] == "sam"
    actions = [action for action, _ in audited(engine)]
    assert {"mark_wrong", "label_example", "revoke_example", "view_teaching"} <= set(actions)


def test_not_understood_messages_are_taught_with_contacts_masked_and_exported(
    client, log_in, engine
):
    ids = index(engine)
    log_in("sam")
    page = client.get("/not-understood").get_data(as_text=True)
    assert "blue cross" in page and "jordan ellis" not in page  # a form answer is never listed
    fallback = ids["do u take blue cross, call me 555 010 4477"]
    reply = client.post(
        "/teach/not-understood",
        data={"message": [fallback], "label": "faq/cost", "csrf_token": token(page)},
    )
    assert reply.status_code == 302
    [example] = teaching.taught(engine)
    assert "555" not in example["text"] and "blue cross" in example["text"]
    assert "blue cross" not in client.get("/not-understood").get_data(as_text=True)  # taught
    exported = yaml.safe_load(client.get("/teach/examples.yml").get_data(as_text=True))
    assert exported["nlu"] == [{"intent": example["label"], "examples": f"- {example['text']}\n"}]


def test_form_answers_cannot_be_taught_or_marked_wrong(client, log_in, engine):
    ids = index(engine)
    log_in("sam")
    page = client.get("/teach").get_data(as_text=True)
    form_answer = ids["jordan ellis"]
    client.post(
        "/teach/not-understood",
        data={"message": [form_answer], "label": "out_of_scope", "csrf_token": token(page)},
    )
    client.post(
        f"/conversations/{CONVERSATION}/wrong",
        data={"turn": form_answer, "csrf_token": token(page)},
    )
    assert teaching.taught(engine) == [] and teaching.disagreed(engine) == []
    page = client.get("/teach").get_data(as_text=True)
    assert "jordan ellis" not in page


def test_teaching_needs_a_log_in_and_a_csrf_token(client, log_in, engine):
    ids = index(engine)
    answer = ids["is the needle part painful? scared of needles"]
    assert client.get("/teach").status_code == 302  # to the log-in page
    log_in("sam")
    reply = client.post(f"/conversations/{CONVERSATION}/wrong", data={"turn": answer})
    assert reply.status_code == 400 and teaching.disagreed(engine) == []

"""The escalation queue and an escalation's page (`console.escalations`) with Flask's test
client: a fresh database per test, escalations recorded by the real crisis code path
(`clinic.escalations.record_escalation` with facts from `crisis.session`)."""

from __future__ import annotations

from test_labels import STARTED, started_words

from clinic import escalations, sms
from clinic.settings import Secret
from console.auth import accounts
from crisis import session
from projector import index


def escalate(engine, text, channel="webchat", conversation="c-1", message="m-1"):
    events = [
        {
            "event": "user",
            "text": text,
            "input_channel": channel,
            "message_id": message,
            "parse_data": {},
        }
    ]
    facts = session.escalation_facts(conversation, session.latest(events))
    escalation_id, _ = escalations.record_escalation(engine, **facts.as_kwargs(), targets=[])
    return escalation_id


def test_every_page_needs_a_login(client, engine):
    escalation_id = escalate(engine, "i want to die")
    for path in ("/", f"/escalations/{escalation_id}", "/escalations/latest.json"):
        reply = client.get(path)
        assert reply.status_code == 302 and reply.location.startswith("/login")


def test_the_queue_shows_urgent_first_with_evidence_turns_and_the_sms_number(
    client, engine, log_in
):
    concern = escalate(engine, "i used to self harm years ago", conversation="c-2", message="m-2")
    phone = "+15550104321"
    conversation = sms.conversation_id_for(phone, Secret("k" * 64))
    sms.remember_number(engine, conversation, phone)
    urgent = escalate(
        engine,
        "i took a whole bottle of pills",
        channel="twilio",
        conversation=conversation,
        message="m-3",
    )
    log_in()
    page = client.get("/").get_data(as_text=True)
    assert page.index(f"#{urgent}<") < page.index(f"#{concern}<")
    assert "whole bottle of pills" in page and f'href="tel:{phone}"' in page
    assert [e["action"] for e in accounts.audit_entries(engine)][:2] == ["view_queue", "login"]


def test_acknowledge_and_resolve_are_recorded_with_who(client, engine, log_in, csrf):
    escalation_id = escalate(engine, "i want to kill myself")
    log_in()
    token = csrf("/")
    client.post(f"/escalations/{escalation_id}/acknowledge", data={"csrf_token": token})
    client.post(
        f"/escalations/{escalation_id}/resolve",
        data={"csrf_token": token, "outcome": "reached", "note": "Called back; safe with family."},
    )
    item = escalations.get_escalation(engine, escalation_id)
    assert item["acknowledged_by"] == "sam" and item["resolved_by"] == "sam"
    assert item["note"] == "Called back; safe with family."
    assert item["outcome"] == escalations.REACHED
    actions = [e["action"] for e in accounts.audit_entries(engine)]
    assert "acknowledge" in actions and "resolve" in actions


def flashes(client):
    with client.session_transaction() as session:
        return [message for _, message in session.get("_flashes", [])]


def test_resolving_needs_an_outcome_which_the_card_and_the_resolved_list_show(
    client, engine, log_in, csrf
):
    escalation_id = escalate(engine, "i want to kill myself")
    log_in()
    token = csrf("/")
    page = client.get(f"/escalations/{escalation_id}").get_data(as_text=True)
    assert page.count('type="radio" name="outcome"') == 3 and "required" in page
    for outcome in (None, "", "maybe", "reached "):
        form = {"csrf_token": token, "note": "Tried."}
        if outcome is not None:
            form["outcome"] = outcome
        reply = client.post(f"/escalations/{escalation_id}/resolve", data=form)
        assert reply.status_code == 302
        assert "is not resolved: say what happened" in flashes(client)[-1]
        assert escalations.get_escalation(engine, escalation_id)["status"] == escalations.OPEN
    client.post(
        f"/escalations/{escalation_id}/resolve",
        data={"csrf_token": token, "outcome": "emergency_services", "note": "Called 911 with her."},
    )
    item = escalations.get_escalation(engine, escalation_id)
    assert (item["status"], item["outcome"]) == (escalations.RESOLVED, "emergency_services")
    card = client.get(f"/escalations/{escalation_id}").get_data(as_text=True)
    assert "emergency services called" in card and "Called 911 with her." in card
    listed = client.get("/escalations/resolved").get_data(as_text=True)
    assert f"#{escalation_id}" in listed and "emergency services called" in listed
    assert "Called 911 with her." in listed
    assert f"#{escalation_id}<" not in client.get("/").get_data(as_text=True)  # off the queue


def index_conversation(engine, conversation_id, channel, started, texts, slots=()):
    """The console's index fed a conversation's events, as the event broker gives them: the
    user's `texts`, a bot reply to each, then the contact form's `slots` (name, value)."""
    ts = started.timestamp()
    events = []
    for n, text in enumerate(texts):
        events += [
            {
                "event": "user",
                "timestamp": ts + 10 * n,
                "text": text,
                "input_channel": channel,
                "message_id": f"m-{n}",
                "parse_data": {},
            },
            {"event": "bot", "timestamp": ts + 10 * n + 1, "text": f"reply {n}"},
        ]
    events += [
        {"event": "slot", "timestamp": ts + 10 * len(texts) + n, "name": name, "value": value}
        for n, (name, value) in enumerate(slots)
    ]
    with engine.begin() as connection:
        index.apply_events(connection, [(conversation_id, event) for event in events])


def test_an_escalation_names_its_conversation_links_to_it_and_says_how_to_answer(
    client, engine, log_in
):
    index_conversation(
        engine,
        "c-1",
        "webchat",
        STARTED,
        ["i want to die"],
        slots=[
            ("contact_name", "  Jordan   Lee "),
            ("contact", "(555) 010-7788"),
            ("contact_name", None),
            ("contact", None),
        ],
    )  # the form cleared its slots: still known
    escalation_id = escalate(engine, "i want to die")
    log_in()
    for path in ("/", f"/escalations/{escalation_id}"):
        page = client.get(path).get_data(as_text=True)
        assert f'href="/conversations/c-1">Web chat · {started_words()} · Jordan Lee</a>' in page
        assert "open the conversation</a> to answer in the chat" in page
        assert 'href="tel:+15550107788"' in page  # the contact the person gave
        assert "suicidal thoughts" in page and "suicidal_ideation" not in page
        assert '<span class="level">urgent</span>' in page
        assert "no phone number: a web chat" not in page


def test_an_sms_escalation_says_text_back_unless_the_number_opted_out(client, engine, log_in):
    phone = "+15550104321"
    conversation = sms.conversation_id_for(phone, Secret("k" * 64))
    sms.remember_number(engine, conversation, phone)
    index_conversation(engine, conversation, "twilio", STARTED, ["i took all my pills"])
    escalation_id = escalate(
        engine, "i took a whole bottle of pills", channel="twilio", conversation=conversation
    )
    log_in()
    card = client.get(f"/escalations/{escalation_id}").get_data(as_text=True)
    assert f'href="tel:{phone}"' in card and "text back from the <a" in card
    # named for the person: the id only in the link's URL
    assert f'<a href="/conversations/{conversation}">SMS · {started_words()}</a>' in card
    sms.record_consent(engine, conversation, sms.OPT_OUT, keyword="STOP")
    card = client.get(f"/escalations/{escalation_id}").get_data(as_text=True)
    assert "opted out of SMS" in card and "call, do not text" in card
    assert "text back from the <a" not in card


def test_user_text_is_escaped(client, engine, log_in):
    escalate(engine, "<script>alert(1)</script> i want to die")
    log_in()
    page = client.get("/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_polling_tells_of_a_new_urgent_escalation(client, engine, log_in):
    log_in()
    assert client.get("/escalations/latest.json").get_json() == {"latest": 0, "urgent_open": 0}
    escalation_id = escalate(engine, "i want to end my life")
    assert client.get("/escalations/latest.json").get_json() == {
        "latest": escalation_id,
        "urgent_open": 1,
    }

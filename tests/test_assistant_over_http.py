"""End to end: the real Rasa server and action server, over HTTP on loopback."""

import datetime as dt
import time
import uuid

import pytest
import sqlalchemy as sa

from clinic import db
from clinic.profile import load_profile
from console.answers import queries as answers
from support import ROOT

PROFILE = load_profile(ROOT / "clinic_profile.yml")


def conversation() -> str:
    return f"rest-e2e-{uuid.uuid4().hex[:12]}"


def response_text(domain, name, variation=None, **slots) -> str:
    """A domain response as the user should see it, filled like ProfileNLG fills it; by
    default its variation without condition or channel."""
    variations = domain["responses"][name]
    if variation is None:
        [chosen] = [v for v in variations if not {"condition", "channel"} & set(v)]
    else:
        chosen = variations[variation]
    return chosen["text"].format(**PROFILE.template_values(), **slots)


def texts(replies):
    return [reply.get("text", "") for reply in replies]


def test_every_catalogue_question_gets_its_curated_answer(assistant, catalogue, domain):
    wrong = {}
    for topic in catalogue["topics"]:
        replies = assistant.send(conversation(), topic["question"])
        expected = response_text(domain, f"utter_faq/{topic['id']}")
        if texts(replies) != [expected]:
            wrong[topic["id"]] = texts(replies)
    assert not wrong


def test_the_greeting_says_it_is_automated_and_gives_emergency_numbers(assistant, domain):
    [reply] = assistant.send(conversation(), "hello there")
    assert reply["text"] == response_text(domain, "utter_greet")
    assert "automated" in reply["text"] and "911" in reply["text"] and "988" in reply["text"]


def test_every_suggestion_title_asks_its_own_question(assistant, domain):
    """A "did you mean" button sends its title: that must be answered with its topic."""
    for name, variations in domain["responses"].items():
        if name.startswith("utter_faq/"):
            parsed = assistant.parse(variations[0]["metadata"]["title"])
            assert parsed["intent"]["name"] == "faq", name
            assert parsed["response_selector"]["faq"]["response"]["intent_response_key"] == name[6:]


def test_booking_a_consultation_validates_confirms_and_stores(assistant, domain):
    sender = conversation()
    assert texts(assistant.send(sender, "I'd like to book a consultation")) == [
        response_text(domain, "utter_ask_contact_name")
    ]
    assert texts(assistant.send(sender, "Jane Doe")) == [response_text(domain, "utter_ask_contact")]
    assert texts(assistant.send(sender, "12345")) == [
        response_text(domain, "utter_invalid_contact"),
        response_text(domain, "utter_ask_contact"),
    ]
    assert texts(assistant.send(sender, "jane@nowhere")) == [
        response_text(domain, "utter_invalid_contact"),
        response_text(domain, "utter_ask_contact"),
    ]
    assert texts(assistant.send(sender, "Jane.Doe@Example.com")) == [
        response_text(domain, "utter_ask_preferred_time", 0)
    ]
    [confirm] = assistant.send(sender, "weekday mornings")
    assert confirm["text"] == response_text(
        domain,
        "utter_confirm_request",
        0,
        contact_name="Jane Doe",
        contact="jane.doe@example.com",
        preferred_time="weekday mornings",
    )
    assert [b["title"] for b in confirm["buttons"]] == ["Yes, send it", "No, change it"]
    assert texts(assistant.send(sender, confirm["buttons"][0]["payload"])) == [
        response_text(domain, "utter_request_saved", 0, contact_name="Jane Doe")
    ]

    engine = db.engine_for(assistant.database_url)
    with engine.connect() as connection:
        rows = (
            connection.execute(
                sa.select(db.contact_requests).where(
                    db.contact_requests.c.conversation_id == sender
                )
            )
            .mappings()
            .all()
        )
    assert [
        (r["kind"], r["name"], r["contact_kind"], r["contact"], r["preferred_time"], r["channel"])
        for r in rows
    ] == [("consultation", "Jane Doe", "email", "jane.doe@example.com", "weekday mornings", "rest")]


def test_a_number_given_in_a_sentence_is_taken_and_read_back_as_written(assistant, domain):
    sender = conversation()
    assistant.send(sender, "I'd like to book a consultation")
    assistant.send(sender, "Jordan Ellis")
    assert texts(assistant.send(sender, "thanks!")) == [
        response_text(domain, "utter_no_contact_in_answer"),
        response_text(domain, "utter_ask_contact"),
    ]
    assert texts(assistant.send(sender, "oh sorry its (555) 010-4477")) == [
        response_text(domain, "utter_ask_preferred_time", 0)
    ]
    [confirm] = assistant.send(sender, "after 5 any weekday")
    assert "(555) 010-4477" in confirm["text"] and "+1" not in confirm["text"]
    assistant.send(sender, confirm["buttons"][0]["payload"])
    with db.engine_for(assistant.database_url).connect() as connection:
        [stored] = (
            connection.execute(
                sa.select(db.contact_requests.c.contact).where(
                    db.contact_requests.c.conversation_id == sender
                )
            )
            .scalars()
            .all()
        )
    assert stored == "+15550104477"


def test_an_answer_that_is_not_a_name_is_asked_again_not_stored(assistant, domain):
    sender = conversation()
    assistant.send(sender, "I'd like to book a consultation")
    assert texts(assistant.send(sender, "yes")) == [
        response_text(domain, "utter_invalid_contact_name"),
        response_text(domain, "utter_ask_contact_name"),
    ]
    assert assistant.tracker(sender)["slots"]["contact_name"] is None
    assert texts(assistant.send(sender, "oh sorry, my name is Jordan Ellis")) == [
        response_text(domain, "utter_ask_contact")
    ]
    assert assistant.tracker(sender)["slots"]["contact_name"] == "Jordan Ellis"


def test_a_faq_in_the_middle_of_the_form_is_answered_and_the_form_goes_on(assistant, domain):
    sender = conversation()
    assistant.send(sender, "can i book an appointment")
    assert texts(assistant.send(sender, "how long does one session take?")) == [
        response_text(domain, "utter_faq/session_length"),
        response_text(domain, "utter_ask_contact_name"),
    ]
    assert texts(assistant.send(sender, "cancel")) == [
        response_text(domain, "utter_request_cancelled")
    ]


def test_asking_for_a_person_says_what_happens_now_or_out_of_hours(assistant, domain):
    before = dt.datetime.now(dt.timezone.utc)
    [reply] = assistant.send(conversation(), "can I talk to a real person please")
    after = dt.datetime.now(dt.timezone.utc)
    hours = PROFILE.hours
    if hours.is_open(before) != hours.is_open(after):
        pytest.skip("the clinic opened or closed during the request")
    if hours.is_open(before):
        assert reply["text"] == response_text(domain, "utter_handoff", 0)
    else:
        assert reply["text"] == response_text(
            domain, "utter_handoff", 1, next_opening=hours.describe_next_opening(before)
        )
    assert [b["payload"] for b in reply["buttons"]] == ["/affirm", "/deny"]


def test_what_it_cannot_understand_ends_in_the_offer_of_a_person(assistant, domain):
    sender = conversation()
    assistant.send(sender, "zqxj vlorp wubb")
    replies = assistant.send(sender, "blip blorp")  # two in a row: Rasa's fallback gives up
    assert texts(replies) == [response_text(domain, "utter_default")]
    assert replies[0]["buttons"] == [
        {"title": "Have someone contact me", "payload": "/human_handoff"}
    ]


def test_a_clear_rephrasing_after_not_understood_gets_the_answer(assistant, domain):
    sender = conversation()
    [ask] = assistant.send(sender, "zqxj vlorp wubb")
    assert ask["text"] in (
        domain["responses"]["utter_ask_affirmation"][0]["text"],
        response_text(domain, "utter_ask_rephrase"),
        response_text(domain, "utter_out_of_scope"),
    )
    assert texts(assistant.send(sender, "how much does it cost")) == [
        response_text(domain, "utter_faq/cost")
    ]


def test_something_else_asks_to_rephrase(assistant, domain):
    candidates = ["do you have parking for my cat", "the thing with the stuff?", "ketamine??"]
    unsure = [t for t in candidates if assistant.parse(t)["intent"]["name"] == "nlu_fallback"]
    assert unsure, "none of the candidate messages is unsure any more: pick vaguer ones"
    sender = conversation()
    [ask] = assistant.send(sender, unsure[0])
    assert ask["text"] == domain["responses"]["utter_ask_affirmation"][0]["text"]
    assert len(ask["buttons"]) >= 3  # at least one suggested topic, then the two fixed choices
    something_else = next(b for b in ask["buttons"] if b["title"] == "Something else")
    assert texts(assistant.send(sender, something_else["payload"])) == [
        response_text(domain, "utter_ask_rephrase")
    ]


def test_a_typed_yes_to_the_offer_of_a_consultation_books_one(assistant, domain):
    sender = conversation()
    assistant.send(sender, "i take zoloft, can i still do ketamine?")
    assert texts(assistant.send(sender, "yes")) == [response_text(domain, "utter_ask_contact_name")]
    assistant.send(sender, "Jordan Ellis")
    assistant.send(sender, "555 010 4477")
    [confirm] = assistant.send(sender, "mornings")
    assert confirm["text"] == response_text(
        domain,
        "utter_confirm_request",
        0,
        contact_name="Jordan Ellis",
        contact="(555) 010-4477",
        preferred_time="mornings",
    )


def test_a_yes_with_nothing_pending_invites_the_question(assistant, domain):
    sender = conversation()
    assistant.send(sender, "how long is a session")
    assert texts(assistant.send(sender, "yes")) == [response_text(domain, "utter_ask_question")]


@pytest.mark.parametrize(
    "text",
    [
        "whats the weather gonna be like tomorrow",
        "can you write me a poem about my cat",
        "who won the football game",
    ],
)
def test_out_of_scope_is_said_plainly_with_the_offer_of_a_person(assistant, domain, text):
    [reply] = assistant.send(conversation(), text)
    assert reply["text"] == response_text(domain, "utter_out_of_scope")
    assert {"title": "Talk to a person", "payload": "/human_handoff"} in reply["buttons"]


def test_thanks_at_the_read_back_confirms_the_request(assistant, domain):
    sender = conversation()
    assistant.send(sender, "I'd like to book a consultation")
    assistant.send(sender, "Sam Rivera")
    assistant.send(sender, "sam.rivera@example.org")
    assistant.send(sender, "friday morning")
    assert texts(assistant.send(sender, "thanks!")) == [
        response_text(domain, "utter_request_saved", 0, contact_name="Sam Rivera")
    ]


def test_an_approved_wording_is_sent_within_seconds_and_reverting_brings_back_the_shipped_text(
    assistant, catalogue, domain
):
    """The console's Answers page as the running server sees it: no retraining, no restart."""
    topic = catalogue["topics"][0]
    response = f"utter_faq/{topic['id']}"
    engine = db.engine_for(assistant.database_url)
    marker = uuid.uuid4().hex[:8]
    version = answers.propose(
        engine, response, "all", f"Reworded ({marker}): call us at {{clinic_phone}}.", "sam"
    )
    answers.approve(engine, version, "alex")
    try:
        reworded = _sent_within(assistant, topic["question"], lambda text: marker in text)
        assert reworded == f"Reworded ({marker}): call us at {PROFILE.phone}."
    finally:
        answers.revert(engine, response, "all", "alex")
        shipped = response_text(domain, response)
        assert _sent_within(assistant, topic["question"], lambda text: text == shipped) == shipped


def _sent_within(assistant, question, wanted, seconds: float = 20.0) -> str:
    """The reply to `question` once `wanted(reply)` holds (the server reads approved wordings
    every few seconds); the last reply if it never does."""
    deadline = time.monotonic() + seconds
    while True:
        [text] = texts(assistant.send(conversation(), question))
        if wanted(text) or time.monotonic() > deadline:
            return text
        time.sleep(0.5)

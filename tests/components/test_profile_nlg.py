"""ProfileNLG: responses get the clinic profile's values, inside the Rasa server."""

import asyncio
import datetime as dt

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from clinic.answers import ALL_CHANNELS, APPROVED, REVERTED, SMS, ApprovedTexts
from clinic.profile import load_profile
from components.profile_nlg import CRISIS_FOOTER, CRISIS_REPLY, NO_FOOTER, ProfileNLG
from support import ROOT, add_answer_version, migrated_engine

DOMAIN = Domain.load(ROOT / "domain.yml")
PROFILE = load_profile(ROOT / "clinic_profile.yml")
OPEN = dt.datetime(2026, 12, 2, 16, 0, tzinfo=dt.timezone.utc)  # Wednesday 10am Central
URGENT_PARSE = {"level": "urgent", "categories": ["suicidal_ideation"], "subject": "self"}


def test_profile_values_and_slots_are_filled_in():
    domain = Domain.from_yaml("""
version: "3.1"
slots:
  contact_name:
    type: text
    mappings: [{type: custom}]
responses:
  utter_x:
    - text: "Call {clinic_phone}, {contact_name}. Open {hours_summary}."
""")
    profile = load_profile(ROOT / "clinic_profile.yml")
    nlg = ProfileNLG(domain=domain, profile=profile)
    tracker = DialogueStateTracker.from_dict("c1", [], domain.slots)
    tracker.update(SlotSet("contact_name", "Jane"))
    message = asyncio.run(nlg.generate("utter_x", tracker, "rest"))
    assert message["text"] == f"Call {profile.phone}, Jane. Open {profile.hours.summary}."


def test_the_handoff_says_truly_whether_the_clinic_is_open_without_the_action_server():
    """action_check_hours sets clinic_open and next_opening; when it could not run, the
    generator reads them from the profile's hours at that moment."""
    import datetime as dt

    domain = Domain.load(ROOT / "domain.yml")
    profile = load_profile(ROOT / "clinic_profile.yml")
    tracker = DialogueStateTracker.from_dict("c1", [], domain.slots)
    moments = (
        dt.datetime(2026, 12, 2, 16, 0, tzinfo=dt.timezone.utc),  # Wednesday 10am Central
        dt.datetime(2026, 12, 6, 16, 0, tzinfo=dt.timezone.utc),
    )  # a Sunday
    assert [profile.hours.is_open(moment) for moment in moments] == [True, False]
    for moment in moments:
        nlg = ProfileNLG(domain=domain, profile=profile, clock=lambda moment=moment: moment)
        text = asyncio.run(nlg.generate("utter_handoff", tracker, "rest"))["text"]
        assert ("Our team is in now" in text) == profile.hours.is_open(moment), text
        assert "None" not in text


# Reworded answers (clinic/answers.py): approved in the console, served without retraining.

COST = "utter_faq/cost"


def approve(engine, response, text, channel=ALL_CHANNELS, status=APPROVED):
    """A version decided as the console decides them."""
    add_answer_version(engine, text, response=response, channel=channel, status=status)


@pytest.fixture
def clinic_url(tmp_path):
    return f"sqlite:///{tmp_path / 'clinic.db'}"


@pytest.fixture
def clinic_db(clinic_url):
    return migrated_engine(clinic_url)


def reply(nlg, name, channel="rest", tracker=None):
    tracker = tracker or DialogueStateTracker.from_dict("c1", [], DOMAIN.slots)
    return asyncio.run(nlg.generate(name, tracker, channel))


def test_an_approved_text_is_served_with_the_responses_buttons_and_profile_values(
    clinic_url, clinic_db
):
    domain = Domain.from_yaml("""
version: "3.1"
intents: [faq]
responses:
  utter_faq/cost:
    - text: "Shipped: {pricing}"
      buttons: [{title: "Call us", payload: "/human_handoff"}]
      metadata:
        title: How much does it cost?
""")
    nlg = ProfileNLG(domain=domain, profile=PROFILE, approved_texts=ApprovedTexts(clinic_url))
    assert reply(nlg, COST)["text"] == f"Shipped: {PROFILE.pricing}"
    approve(clinic_db, COST, "Reworded: call {clinic_phone}.")
    nlg = ProfileNLG(domain=domain, profile=PROFILE, approved_texts=ApprovedTexts(clinic_url))
    message = reply(nlg, COST)
    assert message["text"] == f"Reworded: call {PROFILE.phone}."
    assert message["buttons"] == [{"title": "Call us", "payload": "/human_handoff"}]
    assert message["metadata"] == {"title": "How much does it cost?"}
    assert domain.responses[COST][0]["text"] == "Shipped: {pricing}"  # the domain's is intact


def test_sms_gets_its_variant_and_other_channels_the_text_for_every_channel(clinic_url, clinic_db):
    name = "utter_faq/how_it_works"  # shipped with an SMS variant of its own
    nlg = ProfileNLG(domain=DOMAIN, profile=PROFILE, approved_texts=ApprovedTexts(clinic_url))
    shipped_sms = reply(nlg, name, "twilio")["text"]
    assert shipped_sms != reply(nlg, name, "rest")["text"]

    approve(clinic_db, name, "For everyone, at {clinic_name}.")
    nlg = ProfileNLG(domain=DOMAIN, profile=PROFILE, approved_texts=ApprovedTexts(clinic_url))
    everywhere = f"For everyone, at {PROFILE.name}."
    assert [reply(nlg, name, channel)["text"] for channel in ("rest", "webchat", "twilio")] == [
        everywhere
    ] * 3

    approve(clinic_db, name, "Short, for SMS.", channel=SMS)
    nlg = ProfileNLG(domain=DOMAIN, profile=PROFILE, approved_texts=ApprovedTexts(clinic_url))
    assert reply(nlg, name, "twilio")["text"] == "Short, for SMS."
    assert reply(nlg, name, "webchat")["text"] == everywhere

    approve(clinic_db, name, "(the shipped text)", channel=SMS, status=REVERTED)
    approve(clinic_db, name, "(the shipped text)", status=REVERTED)
    nlg = ProfileNLG(domain=DOMAIN, profile=PROFILE, approved_texts=ApprovedTexts(clinic_url))
    assert reply(nlg, name, "twilio")["text"] == shipped_sms


def test_an_unreachable_database_serves_the_shipped_text(tmp_path, caplog):
    unreachable = ApprovedTexts(f"sqlite:///{tmp_path / 'gone' / 'clinic.db'}")
    nlg = ProfileNLG(domain=DOMAIN, profile=PROFILE, approved_texts=unreachable)
    shipped = ProfileNLG(domain=DOMAIN, profile=PROFILE)
    for channel in ("rest", "twilio"):
        assert reply(nlg, COST, channel) == reply(shipped, COST, channel)
    assert len([r for r in caplog.records if r.levelname == "WARNING"]) == 1


def test_the_crisis_reply_and_its_footers_are_never_reworded(clinic_url, clinic_db):
    """Even a row no console would write (the console refuses these names) is not served."""
    shipped = ProfileNLG(domain=DOMAIN, profile=PROFILE, clock=lambda: OPEN)
    tracker = DialogueStateTracker.from_dict("c1", [], DOMAIN.slots)
    tracker.update(SlotSet("crisis_subject", "self"))
    crisis = {
        channel: reply(shipped, CRISIS_REPLY, channel, tracker) for channel in ("rest", "twilio")
    }
    for name in NO_FOOTER:
        approve(clinic_db, name, "Reworded {clinic_phone}")
        approve(clinic_db, name, "Reworded {clinic_phone}", channel=SMS)
    approve(clinic_db, COST, "Reworded cost.")
    nlg = ProfileNLG(
        domain=DOMAIN, profile=PROFILE, clock=lambda: OPEN, approved_texts=ApprovedTexts(clinic_url)
    )
    for channel in ("rest", "twilio"):
        assert reply(nlg, CRISIS_REPLY, channel, tracker) == crisis[channel]
    for name in NO_FOOTER - {CRISIS_REPLY}:
        assert "Reworded" not in (reply(nlg, name) or {}).get("text", "")
    # After an urgent message the reworded answer still ends with the shipped crisis footer.
    tracker.update(UserUttered("i want to end my life", parse_data={"crisis": URGENT_PARSE}))
    tracker.update(BotUttered("crisis reply"))
    tracker.update(UserUttered("how much is it?", parse_data={"crisis": {"level": "none"}}))
    text = reply(nlg, COST, "rest", tracker)["text"]
    footer = reply(shipped, CRISIS_FOOTER)["text"]
    assert text == f"Reworded cost.\n\n{footer}"


def test_the_console_refuses_every_response_the_generator_never_rewords():
    from console.answers.queries import AnswerError, check_response

    for name in NO_FOOTER:
        with pytest.raises(AnswerError, match="crisis reply"):
            check_response(name)
    assert check_response(COST) == COST

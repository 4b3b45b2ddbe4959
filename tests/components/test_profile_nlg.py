"""ProfileNLG: responses get the clinic profile's values, inside the Rasa server."""

import asyncio

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from clinic.profile import load_profile
from components.profile_nlg import ProfileNLG
from support import ROOT


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

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

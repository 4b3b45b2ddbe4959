"""What `GET /webhooks/webchat/config` gives the widget (channels/webchat.py `public_config`):
the greeting and the questions an empty chat shows come from the domain."""

from __future__ import annotations

import pytest
from rasa.shared.core.domain import Domain

from channels import webchat
from clinic.profile import current_profile
from support import ROOT


@pytest.fixture(scope="module")
def rasa_domain() -> Domain:
    return Domain.load(ROOT / "domain.yml")


def test_the_greeting_is_the_domains_unconditioned_greet_with_the_profile_filled_in(
    rasa_domain, domain
):
    [default] = [
        variation
        for variation in domain["responses"]["utter_greet"]
        if "condition" not in variation
    ]
    expected = default["text"].format_map(current_profile().template_values())
    greeting = webchat.public_config(rasa_domain)["greeting"]
    assert greeting == expected
    assert current_profile().name in greeting and "{" not in greeting


def test_the_suggestions_are_the_titles_of_faq_answers_in_the_chosen_order(rasa_domain, domain):
    suggestions = webchat.public_config(rasa_domain)["suggestions"]
    assert suggestions == [
        domain["responses"][f"utter_faq/{topic}"][0]["metadata"]["title"]
        for topic in webchat.SUGGESTED_TOPICS
    ]
    assert 3 <= len(suggestions) <= 4 and all(len(title) <= 40 for title in suggestions)


def test_without_a_model_there_is_no_greeting_but_the_rest_is_there():
    config = webchat.public_config(None)
    assert (config["greeting"], config["suggestions"]) == (None, [])
    assert config["clinic_name"] == current_profile().name

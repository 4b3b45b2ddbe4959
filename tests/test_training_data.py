"""The catalogue contract, the data's hygiene and `rasa data validate`."""

import re
import string
import subprocess

import pytest
from validate_data import explained

from bench.nlu_heldout import HELDOUT_FILES
from clinic.profile import load_profile
from components.profile_nlg import STAFF_ALERT_NOTE
from support import ROOT, VENV_BIN, nlu_examples

MIN_TRAINING_EXAMPLES = 20
MIN_HELDOUT_EXAMPLES = 8
MAX_ANSWER_CHARACTERS = 480  # about a phone screen


@pytest.fixture(scope="module")
def training():
    examples = {}
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        for intent, items in nlu_examples(path).items():
            examples.setdefault(intent, []).extend(items)
    return examples


@pytest.fixture(scope="module")
def heldout():
    examples = {}
    for path in HELDOUT_FILES:
        for intent, items in nlu_examples(path).items():
            examples.setdefault(intent, []).extend(items)
    return examples


@pytest.fixture(scope="module")
def profile_values():
    return load_profile(ROOT / "clinic_profile.yml").template_values()


def fill(text, domain, profile_values):
    names = {name for _, name, _, _ in string.Formatter().parse(text) if name}
    unknown = names - set(profile_values) - set(domain["slots"]) - {STAFF_ALERT_NOTE}
    assert not unknown, f"unknown placeholders {unknown} in {text!r}"
    return text.format(
        **profile_values, **{slot: "x" for slot in domain["slots"]}, **{STAFF_ALERT_NOTE: "x"}
    )


def test_every_catalogue_topic_has_a_response_and_enough_examples(
    catalogue_ids, domain, training, heldout
):
    for topic in catalogue_ids:
        assert f"utter_faq/{topic}" in domain["responses"], topic
        assert len(set(training.get(f"faq/{topic}", []))) >= MIN_TRAINING_EXAMPLES, topic
        assert len(set(heldout.get(f"faq/{topic}", []))) >= MIN_HELDOUT_EXAMPLES, topic


def test_no_faq_response_or_example_without_a_catalogue_topic(catalogue_ids, domain, training):
    responses = {
        name.split("/", 1)[1] for name in domain["responses"] if name.startswith("utter_faq/")
    }
    intents = {name.split("/", 1)[1] for name in training if name.startswith("faq/")}
    assert responses == set(catalogue_ids)
    assert intents == set(catalogue_ids)


def test_heldout_examples_never_appear_in_training(training, heldout):
    seen = {example.lower() for items in training.values() for example in items}
    leaked = [e for items in heldout.values() for e in items if e.lower() in seen]
    assert not leaked


def test_no_example_is_given_two_intents(training):
    owner = {}
    for intent, items in training.items():
        for example in items:
            other = owner.setdefault(example.lower(), intent)
            assert other == intent, f"{example!r} is in both {other} and {intent}"


def test_every_form_is_named_as_the_console_s_index_reads_forms(domain):
    """projector/index.py tells a form's answers by the active loop's name (`*_form`); the
    two-stage fallback is a loop too, and its messages are questions."""
    from projector.index import FORM_SUFFIX

    assert domain.get("forms") and all(name.endswith(FORM_SUFFIX) for name in domain["forms"])


def test_every_response_placeholder_is_a_profile_value_or_a_slot(domain, profile_values):
    for variations in domain["responses"].values():
        for variation in variations:
            fill(variation.get("text", ""), domain, profile_values)
            for button in variation.get("buttons", []):
                fill(button["title"], domain, profile_values)


def test_faq_answers_fit_a_phone_screen_and_have_a_plain_title(domain, profile_values):
    for name, variations in domain["responses"].items():
        if not name.startswith("utter_faq/"):
            continue
        for variation in variations:
            text = fill(variation["text"], domain, profile_values)
            assert len(text) <= MAX_ANSWER_CHARACTERS, f"{name}: {len(text)} characters"
            if "channel" in variation:  # an SMS variant: the title is the plain answer's
                continue
            title = variation.get("metadata", {}).get("title", "")
            assert title.endswith("?") and len(title) <= 60, name


def test_no_clinic_is_hard_coded_in_responses_or_python():
    profile = load_profile(ROOT / "clinic_profile.yml")
    sources = [ROOT / "domain.yml"] + [
        path
        for folder in ("actions", "clinic", "components")
        for path in (ROOT / folder).rglob("*.py")
    ]
    for path in sources:
        text = path.read_text()
        for value in (
            profile.name,
            profile.phone,
            profile.phone_e164,
            profile.email,
            profile.address,
        ):
            assert value not in text, f"{path.name} hard-codes {value!r}"
        assert not re.search(r"\b555[-. )]*010", text), f"{path.name} hard-codes a phone number"


def test_rasa_data_validate_is_clean():
    result = subprocess.run(
        [VENV_BIN / "python", "scripts/validate_data.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:]


def test_the_validator_lets_through_only_explained_warnings(domain):
    sources = 'dispatcher.utter_message(response="utter_request_saved")'
    assert explained(
        "The utterance 'utter_request_saved' is not used in any story or rule.", domain, sources
    )
    assert explained(
        "The utterance 'utter_ask_contact' is not used in any story or rule.", domain, ""
    )
    assert not explained(
        "The utterance 'utter_forgotten' is not used in any story or rule.", domain, sources
    )
    assert not explained(
        "Found intent 'faq' in stories which is not part of the domain.", domain, ""
    )
    assert not explained(
        "duplicated intents have been found across multiple domain files: greet", domain, ""
    )


def test_the_crisis_models_examples_are_well_formed_and_never_the_suite_s():
    """The suite measures the crisis layer on text it was not trained on."""
    from bench.crisis_suite import load_suite
    from crisis.model import CLASSES, load_examples

    examples = load_examples(ROOT / "data" / "crisis")
    caught = [e for e in examples if e.label != "none"]
    assert len(caught) >= 3000 and len(examples) - len(caught) >= 5000
    assert {e.label for e in examples} == set(CLASSES)
    cases, _ = load_suite()
    suite = {case.text.strip().lower() for case in cases}
    assert [e.text for e in examples if e.text.strip().lower() in suite] == []

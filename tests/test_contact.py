"""Reading the phone number or e-mail a visitor types."""

import pytest

from clinic.contact import ContactPoint, clean_name, clean_preferred_time, parse_contact


@pytest.mark.parametrize(
    "text, expected",
    [
        ("(555) 010-0123", ContactPoint("phone", "+15550100123")),
        ("555.010.0123", ContactPoint("phone", "+15550100123")),
        ("1 555 010 0123", ContactPoint("phone", "+15550100123")),
        ("+44 20 7946 0958", ContactPoint("phone", "+442079460958")),
        ("Jane.Doe@Example.com", ContactPoint("email", "jane.doe@example.com")),
        ("  sam+clinic@example.org. ", ContactPoint("email", "sam+clinic@example.org")),
    ],
)
def test_valid_contacts_are_normalised(text, expected):
    assert parse_contact(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "12345", "555-0123", "055 010 0123", "jane@nowhere", "call me maybe", "@example.com",
     "+0 555 010 0123", "555 010 0123 ext 4 or email"],
)
def test_invalid_contacts_are_refused(text):
    assert parse_contact(text) is None


def test_names_and_times_are_trimmed_and_bounded():
    assert clean_name("  Jane   Doe ") == "Jane Doe"
    assert clean_name("12345") is None
    assert clean_name("x" * 81) is None
    assert clean_preferred_time(" weekday  mornings ") == "weekday mornings"
    assert clean_preferred_time("") is None
    assert clean_preferred_time("a" * 201) is None


@pytest.mark.parametrize("text, name", [
    ("Jordan", "Jordan"),
    ("my name is Jordan Ellis", "Jordan Ellis"),
    ("oh sorry, my name is Jordan Ellis", "Jordan Ellis"),
    ("its sam", "sam"),
    ("call me Alex.", "Alex"),
    ("Mary-Jane O'Brien", "Mary-Jane O'Brien"),
    ("Nguyễn Văn An", "Nguyễn Văn An"),
    ("Will", "Will"),
])
def test_a_name_is_taken_from_how_people_give_it(text, name):
    assert clean_name(text) == name


@pytest.mark.parametrize("text", [
    "i dont really see the point of anything anymore", "why do you need my name", "yes",
    "thanks!", "no", "jordan.ellis@gmail.com", "555 010 4477", "not telling you",
])
def test_a_sentence_is_never_taken_for_a_name(text):
    assert clean_name(text) is None

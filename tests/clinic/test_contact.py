"""Reading the phone number or e-mail a visitor types."""

import pytest

from clinic.contact import clean_name, clean_preferred_time, parse_contact


@pytest.mark.parametrize(
    "text, kind, value, display",
    [
        ("(555) 010-0123", "phone", "+15550100123", "(555) 010-0123"),
        ("555.010.0123", "phone", "+15550100123", "(555) 010-0123"),
        ("1 555 010 0123", "phone", "+15550100123", "(555) 010-0123"),
        ("+44 20 7946 0958", "phone", "+442079460958", "+44 20 7946 0958"),
        ("Jane.Doe@Example.com", "email", "jane.doe@example.com", "jane.doe@example.com"),
        ("  sam+clinic@example.org. ", "email", "sam+clinic@example.org", "sam+clinic@example.org"),
        # as people answer "what's the best number or e-mail?"
        ("oh sorry its (555) 010-4477", "phone", "+15550104477", "(555) 010-4477"),
        (
            "you can reach me at jordan.ellis@gmail.com",
            "email",
            "jordan.ellis@gmail.com",
            "jordan.ellis@gmail.com",
        ),
        ("my cell is 312 555 0142, after 5 is best", "phone", "+13125550142", "(312) 555-0142"),
        ("555 010 0123 ext 4", "phone", "+15550100123;ext=4", "(555) 010-0123 ext. 4"),
        ("call 5550104477!", "phone", "+15550104477", "(555) 010-4477"),
    ],
)
def test_a_contact_is_found_in_what_people_type_and_read_back_plainly(text, kind, value, display):
    contact = parse_contact(text)
    assert (contact.kind, contact.value, str(contact)) == (kind, value, display)


def test_a_number_without_its_country_code_is_read_as_the_clinics_regions():
    assert parse_contact("020 7946 0958", region="GB").value == "+442079460958"
    assert str(parse_contact("020 7946 0958", region="GB")) == "020 7946 0958"
    assert str(parse_contact("+1 555 010 0123", region="GB")) == "+1 555-010-0123"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "12345",
        "555-0123",
        "055 010 0123",
        "jane@nowhere",
        "call me maybe",
        "@example.com",
        "+0 555 010 0123",
        "yes",
        "thanks!",
        "a@example.com or b@example.com",
        "555 010 0123 or 555 010 0456",
        "x" * 301,
    ],
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


@pytest.mark.parametrize(
    "text, name",
    [
        ("Jordan", "Jordan"),
        ("my name is Jordan Ellis", "Jordan Ellis"),
        ("oh sorry, my name is Jordan Ellis", "Jordan Ellis"),
        ("its sam", "sam"),
        ("call me Alex.", "Alex"),
        ("Mary-Jane O'Brien", "Mary-Jane O'Brien"),
        ("Nguyễn Văn An", "Nguyễn Văn An"),
        ("Will", "Will"),
    ],
)
def test_a_name_is_taken_from_how_people_give_it(text, name):
    assert clean_name(text) == name


@pytest.mark.parametrize(
    "text",
    [
        "i dont really see the point of anything anymore",
        "why do you need my name",
        "yes",
        "thanks!",
        "no",
        "jordan.ellis@gmail.com",
        "555 010 4477",
        "not telling you",
    ],
)
def test_a_sentence_is_never_taken_for_a_name(text):
    assert clean_name(text) is None

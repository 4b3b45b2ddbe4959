"""The SMS layout: GSM-7, segments, Markdown, sentence splitting, numbered options."""

import re

import pytest

from channels.sms.text import (
    format_for_sms,
    is_gsm7,
    match_reply,
    number_buttons,
    segments,
    split_for_sms,
    strip_markdown,
    to_gsm7,
)


@pytest.mark.parametrize(
    "text, count",
    [
        ("", 0),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),
        ("€" * 81, 2),  # extension characters take two septets
        ("ō" * 70, 1),
        ("ō" * 71, 2),
        ("ō" * 134, 2),
        ("ō" * 135, 3),  # UCS-2
        ("😀" * 35, 1),
        ("😀" * 36, 2),  # an emoji is two UTF-16 units
    ],
)
def test_segments_at_the_boundaries(text, count):
    assert segments(text) == count


@pytest.mark.parametrize(
    "text, expected",
    [
        ("It’s “fine”", 'It\'s "fine"'),
        ("9–5 — daily…", "9-5 - daily..."),
        ("Thanks 😀 a lot", "Thanks a lot"),
        ("café", "café"),  # é is GSM-7
        ("Ōsaka naïve", "Osaka naive"),  # ō and ï are not: their base letters
        ("a\u00a0b", "a b"),
    ],
)
def test_to_gsm7(text, expected):
    assert to_gsm7(text) == expected
    assert is_gsm7(to_gsm7(text))


def test_other_scripts_stay_and_make_the_message_ucs2():
    assert to_gsm7("你好") == "你好" and not is_gsm7("你好")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("**Bold** and __bold__", "Bold and bold"),
        ("an *aside* and _another_", "an aside and another"),
        ("snake_case_name and 5 * 3 * 2", "snake_case_name and 5 * 3 * 2"),
        ("see [our site](https://x.example/a)", "see our site (https://x.example/a)"),
        ("[https://x.example](https://x.example)", "https://x.example"),
        ("# Title\n* one\n- two", "Title\n- one\n- two"),
        ("run `make`", "run make"),
        ("a\n\n\n\nb", "a\n\nb"),
    ],
)
def test_strip_markdown(text, expected):
    assert strip_markdown(text) == expected


LONG = (
    "Ketamine can ease symptoms within hours, e.g. on the day of the first infusion. "
    "Standard antidepressants can take weeks! Is it right for you? A provider decides at "
    "the consultation; call us at (555) 010-0199. Dr. Smith and the team see patients from "
    "9 a.m. on weekdays. The first consultation is free.\n\n"
    "Side effects are usually mild and short-lived. During the infusion some people feel "
    "detached; this usually fades soon after. The provider covers risks and interactions "
    "with you. Insurance often does not cover infusions, and staff can tell you which "
    "paperwork you would need to ask your insurer yourself."
)


def test_a_long_answer_is_split_between_sentences_within_two_segments():
    bodies = split_for_sms(LONG)
    assert len(bodies) > 1
    assert all(body and segments(body) <= 2 for body in bodies)
    assert " ".join(bodies).split() == LONG.split()
    for body in bodies[:-1]:
        assert body.endswith((".", "!", "?")), body
    joined = "|".join(bodies)
    for phrase in ("e.g. on", "Dr. Smith", "9 a.m. on"):
        assert phrase in joined.replace("\n", " ")


def test_a_sentence_longer_than_two_segments_is_cut_between_words():
    sentence = " ".join(["word"] * 150) + "."
    bodies = split_for_sms(sentence)
    assert all(segments(body) <= 2 for body in bodies)
    assert " ".join(bodies).split() == sentence.split()


def test_ucs2_text_uses_the_ucs2_limits():
    text = "Привет, как дела? " * 12
    bodies = split_for_sms(text)
    assert len(bodies) > 1 and all(segments(body) <= 2 for body in bodies)
    assert " ".join(bodies).split() == text.split()


BUTTONS = [
    {"title": "Yes, book a consultation", "payload": "/book_consultation"},
    {"title": "No thanks", "payload": "/deny"},
    {"title": "Talk to a person", "payload": "/human_handoff"},
]


def test_buttons_become_numbered_options():
    text, options = number_buttons("Would you like that?", BUTTONS)
    assert text.splitlines() == [
        "Would you like that?",
        "Reply 1 for Yes, book a consultation",
        "Reply 2 for No thanks",
        "Reply 3 for Talk to a person",
    ]
    assert options == {"1": "/book_consultation", "2": "/deny", "3": "/human_handoff"}
    assert number_buttons("Hi", []) == ("Hi", {})


@pytest.mark.parametrize(
    "reply, payload",
    [
        ("1", "/book_consultation"),
        (" 2 ", "/deny"),
        ("3.", "/human_handoff"),
        ("#1", "/book_consultation"),
        ("option 2", "/deny"),
        ("Two", "/deny"),
        ("10", None),
        ("4", None),
        ("1 hour ago", None),
        ("yes", None),
    ],
)
def test_a_number_chooses_an_option(reply, payload):
    _, options = number_buttons("", BUTTONS)
    assert match_reply(reply, options) == payload


def test_format_for_sms_keeps_every_option_in_the_last_body():
    bodies, options = format_for_sms("**Note**: " + LONG, BUTTONS)
    assert len(options) == 3
    assert all(segments(body) <= 2 and is_gsm7(body) for body in bodies)
    assert re.findall(r"Reply \d for", bodies[-1]) == ["Reply 1 for", "Reply 2 for", "Reply 3 for"]
    assert not any("Reply" in body for body in bodies[:-1])
    assert "**" not in "".join(bodies)

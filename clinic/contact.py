"""Reading the phone number or e-mail address a visitor gives us."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Optional

_EMAIL = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_PHONE_CHARACTERS = re.compile(r"^\+?[\d\s().-]+$")

MAX_NAME_LENGTH = 80
MAX_PREFERRED_TIME_LENGTH = 200


@dataclass(frozen=True)
class ContactPoint:
    kind: str  # "phone" or "email"
    value: str  # E.164 phone number, or lower-case e-mail address


def parse_contact(text: str) -> Optional[ContactPoint]:
    """A phone number (US numbers without +1 allowed) or an e-mail address; None otherwise."""
    text = (text or "").strip().rstrip(".")
    if _EMAIL.match(text):
        return ContactPoint("email", text.lower())
    if not _PHONE_CHARACTERS.match(text):
        return None
    digits = re.sub(r"\D", "", text)
    if text.startswith("+"):
        if 8 <= len(digits) <= 15 and not digits.startswith("0"):
            return ContactPoint("phone", "+" + digits)
        return None
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) == 10 and digits[0] not in "01":
        return ContactPoint("phone", "+1" + digits)
    return None


# "my name is Jordan", "it's Sam", "call me Alex": the name is what follows.
_NAME_LEAD_IN = re.compile(
    r"^(?:(?:hi|hello|hey|oh|ok|okay|sure|yes|yeah|sorry|um|uh)[,!.]?\s+)*"
    r"(?:(?:my\s+)?(?:full\s+|first\s+)?name(?:'s|\s+is)|i'?m|i\s+am|it'?s|it\s+is|this\s+is"
    r"|(?:you\s+can\s+)?call\s+me|just)\s+",
    re.IGNORECASE,
)
# One word of a name: letters (any script), with the apostrophes, hyphens and dots of
# "O'Brien", "Mary-Jane", "J." — no digits, no other punctuation.
_NAME_WORD = re.compile(r"^[^\W\d_](?:[^\W\d_]|['’.-](?=[^\W\d_]|$))*$")
MAX_NAME_WORDS = 4
# Words of a sentence, never of a name: a form must not store "I don't see the point
# anymore" (that goes to the crisis layer) or "why do you need it" as somebody's name.
_NOT_NAME_WORDS = frozenset("""
    i me my mine myself you your we our they them he she it its is are am was were be been
    do does did dont don't doesnt doesn't didnt didn't cant can't cannot wont won't not no nope
    yes yeah yep ok okay sure thanks thank please sorry hi hello hey the to of in on at
    for with or but if so that this what why how when where who which anything nothing
    everything something anymore really just have has had want need see point know feel
    think stop cancel never mind help why would should could
""".split())


def clean_name(text: str) -> Optional[str]:
    """The name in an answer to "what name should staff use?" ("Jordan", "it's Sam O'Brien"),
    or None when the answer is not a name: empty, too long, digits, or a sentence."""
    name = " ".join(unicodedata.normalize("NFC", text or "").split()).strip(" .!")
    if not name or len(name) > MAX_NAME_LENGTH:
        return None
    name = _NAME_LEAD_IN.sub("", name, count=1).strip(" .!")
    words = name.split()
    if not 1 <= len(words) <= MAX_NAME_WORDS or not all(_NAME_WORD.match(w) for w in words):
        return None
    if any(w.lower().strip(".") in _NOT_NAME_WORDS for w in words):
        return None
    return name


def clean_preferred_time(text: str) -> Optional[str]:
    """Free text about when to call, trimmed; None when empty or too long."""
    when = " ".join((text or "").split())
    if not when or len(when) > MAX_PREFERRED_TIME_LENGTH:
        return None
    return when

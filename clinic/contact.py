"""Reading the phone number or e-mail address a visitor gives us."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Optional

import phonenumbers

# An e-mail address inside a sentence ("you can reach me at jordan.ellis@gmail.com").
_EMAIL_IN_TEXT = re.compile(
    r"(?<![\w.%+'-])[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w@])"
)
DEFAULT_REGION = "US"
POSSIBLE = phonenumbers.ValidationResult.IS_POSSIBLE

MAX_NAME_LENGTH = 80
MAX_PREFERRED_TIME_LENGTH = 200
MAX_CONTACT_TEXT = 300  # an answer longer than this is not someone giving a number


@dataclass(frozen=True)
class ContactPoint:
    kind: str  # "phone" or "email"
    value: str  # E.164 phone number (";ext=N" when it has one), or lower-case e-mail address
    display: str = ""  # as read back to the person: the clinic's national format, or +…

    def __str__(self) -> str:
        return self.display or self.value


def region_of(phone_e164: str) -> str:
    """The region (ISO country code) of a number, for reading numbers given without +."""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(phone_e164)) or DEFAULT_REGION
    except phonenumbers.NumberParseException:
        return DEFAULT_REGION


def clinic_region() -> str:
    """The clinic's region, from its phone number in the profile."""
    from clinic.profile import current_profile

    return region_of(current_profile().phone_e164)


def parse_contact(text: str, region: Optional[str] = None) -> Optional[ContactPoint]:
    """The phone number or e-mail address in what a person typed ("oh sorry its (555)
    010-4477", "you can reach me at jordan.ellis@gmail.com"; numbers without + read as
    `region`'s, by default the clinic's, with the phonenumbers library); None when there is
    none, or two different ones.
    """
    region = region or clinic_region()
    text = (text or "").strip()
    if not text or len(text) > MAX_CONTACT_TEXT:
        return None
    emails = {match.lower() for match in _EMAIL_IN_TEXT.findall(text)}
    if emails:
        return ContactPoint("email", emails.pop(), "") if len(emails) == 1 else None
    phones = {}
    for match in phonenumbers.PhoneNumberMatcher(text, region, phonenumbers.Leniency.POSSIBLE):
        number = match.number
        if phonenumbers.is_possible_number_with_reason(number) != POSSIBLE:
            continue  # too short to dial from elsewhere ("555-0123"), or too long
        if number.country_code == 1 and phonenumbers.national_significant_number(number)[0] in "01":
            continue  # no North American number starts with 0 or 1 after the country code
        value = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        if number.extension:
            value += f";ext={number.extension}"
        local = number.country_code == phonenumbers.country_code_for_region(region)
        display = phonenumbers.format_number(
            number,
            phonenumbers.PhoneNumberFormat.NATIONAL
            if local
            else phonenumbers.PhoneNumberFormat.INTERNATIONAL,
        )
        phones[value] = display
    if len(phones) != 1:
        return None
    [(value, display)] = phones.items()
    return ContactPoint("phone", value, display)


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
_NOT_NAME_WORDS = frozenset(
    """
    i me my mine myself you your we our they them he she it its is are am was were be been
    do does did dont don't doesnt doesn't didnt didn't cant can't cannot wont won't not no nope
    yes yeah yep ok okay sure thanks thank please sorry hi hello hey the to of in on at
    for with or but if so that this what why how when where who which anything nothing
    everything something anymore really just have has had want need see point know feel
    think stop cancel never mind help why would should could
""".split()
)


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

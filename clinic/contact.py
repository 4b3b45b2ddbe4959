"""Reading the phone number or e-mail address a visitor gives us."""

from __future__ import annotations

import re
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


def clean_name(text: str) -> Optional[str]:
    """A plausible name as given (trimmed), or None when empty, too long or only symbols."""
    name = " ".join((text or "").split())
    if not name or len(name) > MAX_NAME_LENGTH or not any(ch.isalpha() for ch in name):
        return None
    return name


def clean_preferred_time(text: str) -> Optional[str]:
    """Free text about when to call, trimmed; None when empty or too long."""
    when = " ".join((text or "").split())
    if not when or len(when) > MAX_PREFERRED_TIME_LENGTH:
        return None
    return when

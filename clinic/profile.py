"""The clinic profile: one YAML file that makes the assistant one clinic's own.

Loaded and validated once per process (Rasa server, action server, tools). Every error names
the field that is wrong, so a clinic's administrator can fix the file without reading code.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PROFILE_PATH = PROJECT_ROOT / "clinic_profile.yml"
PROFILE_PATH_ENV = "CLINIC_PROFILE"

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME_RANGE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
_E164 = re.compile(r"^\+[1-9]\d{7,14}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^https?://\S+$")

_TEXT_FIELDS = (
    "name",
    "phone",
    "address",
    "session_minutes",
    "consultation_fee",
    "pricing",
    "insurance",
    "conditions_treated",
    "payment_options",
)
# Sections of short texts answers quote: section → its fields, all required. Each text is a
# placeholder `{section_field}` (e.g. `{visit_parking}`) for the responses in domain.yml.
_SECTIONS = {
    "aftercare": ("transport", "if_unwell"),
    "preparation": ("food_and_drink", "bring"),
    "referral": ("needed", "records"),
    "visit": ("parking", "companions", "telehealth", "comfort"),
    "treatments": ("offered", "esketamine"),
}
_TOP_LEVEL_FIELDS = (
    set(_TEXT_FIELDS)
    | set(_SECTIONS)
    | {
        "phone_e164",
        "email",
        "booking_url",
        "hours",
        "notifications",
        "sms",
    }
)


class ProfileError(ValueError):
    """The clinic profile is missing, unreadable or has a bad field."""


@dataclass(frozen=True)
class OpeningHours:
    timezone: ZoneInfo
    weekly: Mapping[str, tuple[tuple[dt.time, dt.time], ...]]
    summary: str
    after_hours: str

    def is_open(self, moment: dt.datetime) -> bool:
        """Whether the clinic is open at `moment` (an aware datetime)."""
        local = moment.astimezone(self.timezone)
        day = WEEKDAYS[local.weekday()]
        now = local.time()
        return any(start <= now < end for start, end in self.weekly.get(day, ()))

    def next_opening(self, moment: dt.datetime) -> dt.datetime | None:
        """The next time the clinic opens after `moment`, in the clinic's time zone."""
        local = moment.astimezone(self.timezone)
        for days_ahead in range(0, 8):
            date = local.date() + dt.timedelta(days=days_ahead)
            for start, _end in self.weekly.get(WEEKDAYS[date.weekday()], ()):
                opening = dt.datetime.combine(date, start, tzinfo=self.timezone)
                if opening > local:
                    return opening
        return None

    def describe_next_opening(self, moment: dt.datetime) -> str:
        """The next opening in words, like "tomorrow at 9:00 AM", for responses."""
        opening = self.next_opening(moment)
        if opening is None:
            return "not scheduled"
        days = (opening.date() - moment.astimezone(self.timezone).date()).days
        day = {0: "today", 1: "tomorrow"}.get(days, opening.strftime("on %A"))
        return f"{day} at {opening.strftime('%I:%M %p').lstrip('0')}"


@dataclass(frozen=True)
class Sms:
    # Who answers the carrier keywords HELP/INFO: "twilio" (its default replies, on by default
    # for long codes) or "clinic" (Advanced Opt-Out or a short code with default replies off).
    keyword_replies: str = "twilio"


@dataclass(frozen=True)
class Notifications:
    webhook_url_env: str | None
    email_to: str | None
    urgent_ack_minutes: int


@dataclass(frozen=True)
class Section:
    """A profile section of short texts (`aftercare`, `visit`, …), read as attributes."""

    name: str
    texts: Mapping[str, str]

    def __getattr__(self, field: str) -> str:
        if field.startswith("__"):  # copy and pickle look for these before `texts` exists
            raise AttributeError(field)
        try:
            return self.texts[field]
        except KeyError:
            raise AttributeError(f"{self.name}.{field}: no such field") from None


@dataclass(frozen=True)
class ClinicProfile:
    name: str
    phone: str
    phone_e164: str
    email: str
    address: str
    booking_url: str
    hours: OpeningHours
    session_minutes: str
    consultation_fee: str
    pricing: str
    insurance: str
    conditions_treated: str
    payment_options: str
    notifications: Notifications
    aftercare: Section  # how people get home; what to do when unwell after a session
    preparation: Section
    referral: Section
    visit: Section
    treatments: Section
    sms: Sms = Sms()

    def template_values(self) -> dict[str, str]:
        """The values responses may use as `{placeholder}`s, by placeholder name."""
        return {
            "clinic_name": self.name,
            "clinic_phone": self.phone,
            "clinic_phone_e164": self.phone_e164,
            "clinic_email": self.email,
            "clinic_address": self.address,
            "booking_url": self.booking_url,
            "hours_summary": self.hours.summary,
            "after_hours": self.hours.after_hours,
            "session_minutes": self.session_minutes,
            "consultation_fee": self.consultation_fee,
            "pricing": self.pricing,
            "insurance": self.insurance,
            "conditions_treated": self.conditions_treated,
            "payment_options": self.payment_options,
        } | {
            f"{section}_{field}": text
            for section in _SECTIONS
            for field, text in getattr(self, section).texts.items()
        }


def profile_path() -> Path:
    return Path(os.environ.get(PROFILE_PATH_ENV) or DEFAULT_PROFILE_PATH)


@lru_cache(maxsize=1)
def current_profile() -> ClinicProfile:
    """The profile of this process, loaded once (on first use, not at import)."""
    return load_profile()


def load_profile(path: Path | str | None = None) -> ClinicProfile:
    """Read and validate the profile; raise ProfileError naming the bad field."""
    path = Path(path) if path is not None else profile_path()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProfileError(f"{path}: the clinic profile file does not exist") from None
    except yaml.YAMLError as error:
        raise ProfileError(f"{path}: not valid YAML ({error})") from None
    try:
        return parse_profile(raw)
    except ProfileError as error:
        raise ProfileError(f"{path}: {error}") from None


def parse_profile(raw: Any) -> ClinicProfile:
    if not isinstance(raw, dict):
        raise ProfileError("the profile must be a mapping of fields")
    unknown = sorted(set(raw) - _TOP_LEVEL_FIELDS)
    if unknown:
        raise ProfileError(f"{unknown[0]}: unknown field (a typo?)")
    text = {field: _text(raw, field) for field in _TEXT_FIELDS}
    phone_e164 = _matching(raw, "phone_e164", _E164, "a phone number like +15551234567")
    email = _matching(raw, "email", _EMAIL, "an e-mail address")
    booking_url = _matching(raw, "booking_url", _URL, "a web address starting with https://")
    return ClinicProfile(
        **text,
        phone_e164=phone_e164,
        email=email,
        booking_url=booking_url,
        hours=_hours(raw.get("hours")),
        notifications=_notifications(raw.get("notifications")),
        **{section: _section(raw, section) for section in _SECTIONS},
        sms=_sms(raw.get("sms")),
    )


def _text(raw: Mapping[str, Any], field: str, prefix: str = "") -> str:
    value = raw.get(field)
    if (
        not isinstance(value, (str, int, float))
        or isinstance(value, bool)
        or not str(value).strip()
    ):
        raise ProfileError(f"{prefix}{field}: missing or empty (write it as text)")
    return str(value).strip()


def _matching(raw: Mapping[str, Any], field: str, pattern: re.Pattern, what: str) -> str:
    value = _text(raw, field)
    if not pattern.match(value):
        raise ProfileError(f"{field}: {value!r} is not {what}")
    return value


def _hours(raw: Any) -> OpeningHours:
    if not isinstance(raw, dict):
        raise ProfileError("hours: missing (needs timezone, weekly, summary, after_hours)")
    try:
        timezone = ZoneInfo(_text(raw, "timezone", "hours."))
    except (ZoneInfoNotFoundError, ValueError):
        raise ProfileError(
            f"hours.timezone: {raw.get('timezone')!r} is not a time zone like America/Chicago"
        ) from None
    weekly_raw = raw.get("weekly")
    if not isinstance(weekly_raw, dict) or not weekly_raw:
        raise ProfileError("hours.weekly: missing (a mapping like mon: ['09:00-17:00'])")
    weekly = {}
    for day, ranges in weekly_raw.items():
        if day not in WEEKDAYS:
            raise ProfileError(f"hours.weekly.{day}: not a day (use {', '.join(WEEKDAYS)})")
        if not isinstance(ranges, list):
            raise ProfileError(f"hours.weekly.{day}: must be a list like ['09:00-17:00']")
        weekly[day] = tuple(
            _time_range(f"hours.weekly.{day}[{i}]", r) for i, r in enumerate(ranges)
        )
    return OpeningHours(
        timezone=timezone,
        weekly=weekly,
        summary=_text(raw, "summary", "hours."),
        after_hours=_text(raw, "after_hours", "hours."),
    )


def _time_range(field: str, value: Any) -> tuple[dt.time, dt.time]:
    match = _TIME_RANGE.match(str(value).strip())
    if not match:
        raise ProfileError(f"{field}: {value!r} is not a time range like 09:00-17:00")
    start_h, start_m, end_h, end_m = (int(part) for part in match.groups())
    if end_h == 24 and end_m:
        raise ProfileError(f"{field}: {value!r} ends after midnight")
    start = dt.time(start_h, start_m)
    end = dt.time.max if end_h == 24 else dt.time(end_h, end_m)
    if start >= end:
        raise ProfileError(f"{field}: {value!r} closes before it opens")
    return start, end


def _notifications(raw: Any) -> Notifications:
    if not isinstance(raw, dict):
        raise ProfileError("notifications: missing (needs urgent_ack_minutes and a target)")
    webhook_env = raw.get("webhook_url_env")
    if webhook_env is not None and not re.match(r"^[A-Z_][A-Z0-9_]*$", str(webhook_env)):
        raise ProfileError(
            f"notifications.webhook_url_env: {webhook_env!r} is not an environment variable name"
        )
    email_to = raw.get("email_to")
    if email_to is not None and not _EMAIL.match(str(email_to)):
        raise ProfileError(f"notifications.email_to: {email_to!r} is not an e-mail address")
    if webhook_env is None and email_to is None:
        raise ProfileError("notifications: name at least one target (webhook_url_env or email_to)")
    minutes = raw.get("urgent_ack_minutes")
    if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes <= 0:
        raise ProfileError(
            f"notifications.urgent_ack_minutes: {minutes!r} is not a whole number of minutes"
        )
    return Notifications(webhook_url_env=webhook_env, email_to=email_to, urgent_ack_minutes=minutes)


def _section(profile: Mapping[str, Any], name: str) -> Section:
    fields = _SECTIONS[name]
    raw = profile.get(name)
    if not isinstance(raw, dict):
        raise ProfileError(f"{name}: missing (needs {', '.join(fields)})")
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise ProfileError(f"{name}.{unknown[0]}: unknown field (a typo?)")
    return Section(name, {field: _text(raw, field, f"{name}.") for field in fields})


def _sms(raw: Any) -> Sms:
    if raw is None:
        return Sms()
    if not isinstance(raw, dict):
        raise ProfileError("sms: must be a mapping like {keyword_replies: twilio}")
    unknown = sorted(set(raw) - {"keyword_replies"})
    if unknown:
        raise ProfileError(f"sms.{unknown[0]}: unknown field (a typo?)")
    replies = raw.get("keyword_replies", "twilio")
    if replies not in ("twilio", "clinic"):
        raise ProfileError(f"sms.keyword_replies: {replies!r} is not twilio or clinic")
    return Sms(keyword_replies=replies)


def main() -> int:
    """`python -m clinic.profile`: validate the profile and say so."""
    try:
        profile = load_profile()
    except ProfileError as error:
        print(f"Clinic profile error: {error}")
        return 1
    print(f"Clinic profile OK: {profile.name} ({profile_path()})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

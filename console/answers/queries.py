"""FAQ answers as staff reword them: the shipped text (domain.yml), the current one, the versions
(clinic/answers.py), and the checks a new text passes before anything is stored.

Staff propose a text for every channel or an SMS variant; an administrator approves it (the
Rasa server serves it within seconds), rejects it, or reverts the answer to its shipped text.
Only the FAQ answers of the catalogue (`utter_faq/<topic>`) can be reworded: the crisis reply,
its footers and the assistant's other messages are refused. A text may use the clinic profile's
fields and the domain's slots as `{placeholders}`, nothing else.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import lru_cache
from typing import Any, Optional

import sqlalchemy as sa
import yaml

from channels.sms.client import MAX_BODY_CHARS
from channels.sms.text import segments
from clinic import sms
from clinic.answers import (
    ALL_CHANNELS,
    APPROVED,
    CHANNELS,
    DRAFT,
    EDITABLE_PREFIX,
    REJECTED,
    REVERTED,
    SMS,
    current_texts,
    versions,
)
from clinic.db import utc_now
from clinic.profile import PROJECT_ROOT, current_profile
from console.labels import catalogue_topics, topic_titles

DOMAIN = PROJECT_ROOT / "domain.yml"
MAX_LENGTH = MAX_BODY_CHARS  # the longest message Twilio sends; an answer is read on a phone
PLACEHOLDER = re.compile(r"{([^\n{}]+?)}")  # as Rasa's response interpolator finds them
CHANNEL_NAMES = {ALL_CHANNELS: "every channel", SMS: "SMS"}
STATUS_NAMES = {
    DRAFT: "waiting for an administrator",
    APPROVED: "approved",
    REJECTED: "rejected",
    REVERTED: "back to the shipped text",
}


class AnswerError(ValueError):
    """What staff asked cannot be done; the message says why, in plain words."""


@lru_cache(maxsize=1)
def _domain() -> dict[str, Any]:
    return yaml.safe_load(DOMAIN.read_text(encoding="utf-8"))


def editable_answers() -> dict[str, str]:
    """The FAQ answers staff may reword, response → topic, in the catalogue's order."""
    responses = _domain()["responses"]
    return {
        f"{EDITABLE_PREFIX}{topic}": topic
        for topic in topic_titles()
        if f"{EDITABLE_PREFIX}{topic}" in responses
    }


def check_response(response: str) -> str:
    if response in editable_answers():
        return response
    if response in _domain()["responses"]:
        raise AnswerError(
            "Only the FAQ answers can be reworded here. The crisis reply and its footers never "
            "can (they follow the crisis policy); the assistant's other messages change with a "
            "release, in domain.yml."
        )
    raise AnswerError("There is no FAQ answer by that name.")


def check_channel(channel: str) -> str:
    if channel not in CHANNELS:
        raise AnswerError("Choose whether the text is for every channel or for SMS.")
    return channel


def allowed_placeholders() -> set[str]:
    """What a text may say in braces: the clinic profile's fields and the domain's slots."""
    return set(current_profile().template_values()) | set(_domain().get("slots", {}))


def check_text(text: str) -> str:
    """The text as it will be stored (line breaks made plain, spaces around it trimmed), or
    AnswerError saying what is wrong with it."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise AnswerError("The text is empty: write the answer's new wording.")
    if len(text) > MAX_LENGTH:
        raise AnswerError(
            f"The text has {len(text):,} characters; an answer has at most {MAX_LENGTH:,}."
        )
    if any(unicodedata.category(char) == "Cc" and char != "\n" for char in text):
        raise AnswerError(
            "The text has an invisible control character (often from pasting): type it again."
        )
    allowed = allowed_placeholders()
    unknown = [name for name in PLACEHOLDER.findall(text) if name not in allowed]
    if unknown:
        raise AnswerError(
            f"{{{unknown[0]}}} is not a profile field or a slot. Use the fields listed under "
            "“Profile fields this text can use”, spelled exactly, like {clinic_phone}."
        )
    if "{" in PLACEHOLDER.sub("", text) or "}" in PLACEHOLDER.sub("", text):
        raise AnswerError(
            "A { or } is not part of a placeholder. Braces are only for profile fields, "
            "like {clinic_phone}."
        )
    return text


def filled(text: str) -> str:
    """`text` with the profile's values in place of its placeholders (slots stay as written)."""
    values = current_profile().template_values()
    return PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), text)


def sms_segments(text: str) -> int:
    """The SMS segments the text takes with the profile's values filled in: 160 GSM-7 characters
    in one, 153 each when longer; 70 and 67 once any character is outside GSM-7 (UCS-2)."""
    return segments(filled(text))


def shipped_text(response: str, channel: str) -> str:
    """The domain's text: on SMS its SMS variant where it has one."""
    variations = _domain()["responses"][response]
    if channel == SMS:
        for variation in variations:
            if variation.get("channel") == sms.CHANNEL:
                return variation["text"]
    plain = [v for v in variations if not v.get("channel") and not v.get("condition")]
    return (plain or variations)[0]["text"]


def has_shipped_sms_text(response: str) -> bool:
    return any(v.get("channel") == sms.CHANNEL for v in _domain()["responses"][response])


def _current(connection: sa.engine.Connection, response: str) -> dict[str, str]:
    return {channel: text for (_, channel), text in current_texts(connection, response).items()}


def overview(engine: sa.engine.Engine) -> list[dict[str, Any]]:
    """Every FAQ answer by its topic's question, in the catalogue's order: the channels it is
    reworded for, and how many proposed texts wait for an administrator."""
    with engine.connect() as connection:
        current = current_texts(connection)
        waiting = dict(
            connection.execute(
                sa.select(versions.c.response, sa.func.count())
                .where(versions.c.status == DRAFT)
                .group_by(versions.c.response)
            ).all()
        )
    return [
        {
            "response": response,
            "topic": topic,
            "reworded": [CHANNEL_NAMES[c] for c in CHANNELS if (response, c) in current],
            "drafts": waiting.get(response, 0),
        }
        for response, topic in editable_answers().items()
    ]


def profile_fields(response: str) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The profile's fields as placeholders with their values: first those the catalogue names
    for the topic and the shipped texts use, then the others."""
    values = current_profile().template_values()
    named = catalogue_topics()[editable_answers()[response]].get("profile", [])
    used = [
        name
        for channel in CHANNELS
        for name in PLACEHOLDER.findall(shipped_text(response, channel))
        if name in values
    ]
    own = list(dict.fromkeys([*(p for field in named for p in placeholders_of(field)), *used]))
    others = [name for name in values if name not in own]
    return (
        [{"name": name, "value": values[name]} for name in own],
        [{"name": name, "value": values[name]} for name in others],
    )


def placeholders_of(field: str) -> list[str]:
    """The placeholders of a profile field as the catalogue names it: `phone` → clinic_phone,
    `aftercare` → aftercare_transport and aftercare_if_unwell, `hours` → hours_summary."""
    return [
        name
        for name in current_profile().template_values()
        if name in (field, f"clinic_{field}") or name.startswith(f"{field}_")
    ]


def answer(engine: sa.engine.Engine, response: str) -> dict[str, Any]:
    """An answer's page: its topic, the shipped and current texts on each channel, what the
    catalogue allows it to say, the profile fields it can use, and every version."""
    response = check_response(response)
    topic = editable_answers()[response]
    with engine.connect() as connection:
        current = _current(connection, response)
        history = [
            dict(row)
            for row in connection.execute(
                sa.select(versions)
                .where(versions.c.response == response)
                .order_by(versions.c.id.desc())
            ).mappings()
        ]
    for version in history:
        version["segments"] = sms_segments(version["text"])
    own_fields, other_fields = profile_fields(response)
    return {
        "response": response,
        "topic": topic,
        "facts": catalogue_topics()[topic].get("facts", []),
        "now": _now_sent(response, current),
        "current": current,
        "shipped": {channel: shipped_text(response, channel) for channel in CHANNELS},
        "shipped_sms_variant": has_shipped_sms_text(response),
        "history": history,
        "own_fields": own_fields,
        "other_fields": other_fields,
        "profile_values": current_profile().template_values(),  # for the page's live SMS count
        "max_length": MAX_LENGTH,
        "slots": sorted(_domain().get("slots", {})),
    }


def _now_sent(response: str, current: dict[str, str]) -> dict[str, dict[str, Any]]:
    """What the assistant sends now on every channel and on SMS, and where that text is from."""
    if ALL_CHANNELS in current:
        everywhere = {"text": current[ALL_CHANNELS], "source": "the approved new wording"}
    else:
        everywhere = {"text": shipped_text(response, ALL_CHANNELS), "source": "the shipped text"}
    if SMS in current:
        on_sms = {"text": current[SMS], "source": "the approved SMS wording"}
    elif ALL_CHANNELS in current:
        on_sms = {**everywhere, "source": "the approved new wording for every channel"}
    elif has_shipped_sms_text(response):
        on_sms = {"text": shipped_text(response, SMS), "source": "the shipped SMS text"}
    else:
        on_sms = everywhere
    for sent in (everywhere, on_sms):
        sent["segments"] = sms_segments(sent["text"])
    return {ALL_CHANNELS: everywhere, SMS: on_sms}


def propose(
    engine: sa.engine.Engine,
    response: str,
    channel: str,
    text: str,
    by: str,
    now: Optional[dt.datetime] = None,
) -> int:
    """A new text for an answer, kept as a draft until an administrator approves it."""
    response, channel, text = check_response(response), check_channel(channel), check_text(text)
    with engine.begin() as connection:
        return connection.execute(
            versions.insert().values(
                response=response,
                channel=channel,
                text=text,
                status=DRAFT,
                created_by=by,
                created_at=now or utc_now(),
            )
        ).inserted_primary_key[0]


def version(engine: sa.engine.Engine, version_id: int) -> dict[str, Any]:
    with engine.connect() as connection:
        row = (
            connection.execute(sa.select(versions).where(versions.c.id == version_id))
            .mappings()
            .first()
        )
    if row is None:
        raise AnswerError("That version does not exist.")
    return dict(row)


def approve(
    engine: sa.engine.Engine, version_id: int, by: str, now: Optional[dt.datetime] = None
) -> dict[str, Any]:
    """Make a draft the answer's text on its channel (checked again: the profile may have
    changed since it was written)."""
    draft = version(engine, version_id)
    check_response(draft["response"])
    check_text(draft["text"])
    return _decide(engine, draft, APPROVED, by, now or utc_now())


def reject(
    engine: sa.engine.Engine, version_id: int, by: str, now: Optional[dt.datetime] = None
) -> dict[str, Any]:
    return _decide(engine, version(engine, version_id), REJECTED, by, now or utc_now())


def _decide(
    engine: sa.engine.Engine, draft: dict[str, Any], status: str, by: str, now: dt.datetime
) -> dict[str, Any]:
    with engine.begin() as connection:
        decided = connection.execute(
            versions.update()
            .where(versions.c.id == draft["id"], versions.c.status == DRAFT)
            .values(status=status, reviewed_by=by, reviewed_at=now)
        ).rowcount
    if decided != 1:  # decided before, perhaps a moment ago by another administrator
        raise AnswerError("That text was already approved or rejected.")
    return {**draft, "status": status, "reviewed_by": by, "reviewed_at": now}


def revert(
    engine: sa.engine.Engine,
    response: str,
    channel: str,
    by: str,
    now: Optional[dt.datetime] = None,
) -> int:
    """Make the shipped text the answer's on `channel` again: a version of its own, approved."""
    response, channel = check_response(response), check_channel(channel)
    now = now or utc_now()
    with engine.begin() as connection:
        if channel not in _current(connection, response):
            raise AnswerError(
                f"The answer already has its shipped text on {CHANNEL_NAMES[channel]}."
            )
        return connection.execute(
            versions.insert().values(
                response=response,
                channel=channel,
                text=shipped_text(response, channel),
                status=REVERTED,
                created_by=by,
                created_at=now,
                reviewed_by=by,
                reviewed_at=now,
            )
        ).inserted_primary_key[0]

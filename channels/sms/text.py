"""A bot message laid out for SMS: plain GSM-7 text, numbered options, at most two segments.

A segment holds 160 GSM-7 characters or 70 UCS-2 ones (153 and 67 in a multi-part message);
one curly quote or emoji switches the whole message to UCS-2, so text is made GSM-7 first.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Dict, List, Optional, Sequence, Tuple

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

_REPLACEMENTS = {
    "‘": "'",
    "’": "'",
    "‚": "'",
    "‛": "'",
    "′": "'",
    "`": "'",
    "“": '"',
    "”": '"',
    "„": '"',
    "‟": '"',
    "″": '"',
    "«": '"',
    "»": '"',
    "–": "-",
    "—": "-",
    "‒": "-",
    "―": "-",
    "−": "-",
    "‐": "-",
    "‑": "-",
    "…": "...",
    "•": "-",
    "·": "-",
    "\t": " ",
}
_NUMBER_WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_ABBREVIATIONS = (
    "e.g.",
    "i.e.",
    "dr.",
    "mr.",
    "mrs.",
    "ms.",
    "a.m.",
    "p.m.",
    "etc.",
    "vs.",
    "approx.",
    "no.",
    "st.",
)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+")


def is_gsm7(text: str) -> bool:
    return all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text)


def segments(text: str) -> int:
    """How many SMS segments `text` takes."""
    if not text:
        return 0
    if is_gsm7(text):
        septets = sum(2 if char in GSM7_EXTENSION else 1 for char in text)
        return 1 if septets <= 160 else math.ceil(septets / 153)
    units = len(text.encode("utf-16-le")) // 2
    return 1 if units <= 70 else math.ceil(units / 67)


def to_gsm7(text: str) -> str:
    """Replace what would turn a message into UCS-2 with its GSM-7 look-alike, drop symbols.

    Characters of other scripts stay (such a message is UCS-2 whatever we do).
    """
    out = []
    for char in text:
        if char in GSM7_BASIC or char in GSM7_EXTENSION:
            out.append(char)
        elif char in _REPLACEMENTS:
            out.append(_REPLACEMENTS[char])
        elif unicodedata.category(char) == "Zs":
            out.append(" ")
        elif unicodedata.category(char) in ("So", "Sk", "Cf", "Cs", "Mn", "Co"):
            continue  # emoji, variation selectors, joiners
        else:
            base = unicodedata.normalize("NFKD", char)
            stripped = "".join(c for c in base if not unicodedata.combining(c))
            out.append(stripped if stripped and is_gsm7(stripped) else char)
    return re.sub(r"[ ]{2,}", " ", "".join(out)).replace(" \n", "\n").strip()


def strip_markdown(text: str) -> str:
    """Plain text from the little Markdown responses may carry."""
    text = re.sub(r"!\[[^\]]*\]\(([^)\s]+)\)", r"\1", text)
    text = re.sub(
        r"\[([^\]]+)\]\(([^)\s]+)\)",
        lambda m: m.group(2) if m.group(1) == m.group(2) else f"{m.group(1)} ({m.group(2)})",
        text,
    )
    text = re.sub(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1", r"\2", text)
    text = re.sub(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])", r"\1", text)
    text = re.sub(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])", r"\1", text)
    text = re.sub(r"`([^`\n]+)`", r"\1", text)
    text = re.sub(r"^#{1,6}\s+", "", text, flags=re.MULTILINE)
    text = re.sub(r"^(\s*)[*+]\s+", r"\1- ", text, flags=re.MULTILINE)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _sentences(text: str) -> List[str]:
    """Sentences and paragraph ends, with their trailing whitespace kept for re-joining."""
    pieces, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        before = text[start : match.start()]
        last_word = before.rsplit(None, 1)[-1].lower() if before.split() else ""
        if last_word in _ABBREVIATIONS or re.fullmatch(r"[a-z]\.", last_word):
            continue
        pieces.append(text[start : match.end()])
        start = match.end()
    if start < len(text):
        pieces.append(text[start:])
    return pieces


def _fits(text: str, max_segments: int) -> bool:
    return segments(text.strip()) <= max_segments


def _split_words(sentence: str, max_segments: int) -> List[str]:
    """A sentence too long for one message, cut at word boundaries."""
    parts, current = [], ""
    for word in re.findall(r"\S+\s*", sentence):
        if current and not _fits(current + word, max_segments):
            parts.append(current.strip())
            current = ""
        while not _fits(word, max_segments):  # a single endless "word", such as a URL
            cut = len(word)
            while not _fits(word[:cut], max_segments):
                cut -= 1
            parts.append(word[:cut])
            word = word[cut:]
        current += word
    if current.strip():
        parts.append(current.strip())
    return parts


def split_for_sms(text: str, max_segments: int = 2) -> List[str]:
    """SMS bodies of at most `max_segments` segments each, split between sentences."""
    text = text.strip()
    if not text:
        return []
    if _fits(text, max_segments):
        return [text]
    bodies, current = [], ""
    for sentence in _sentences(text):
        if _fits(current + sentence, max_segments):
            current += sentence
            continue
        if current.strip():
            bodies.append(current.strip())
        current = ""
        if _fits(sentence, max_segments):
            current = sentence
        else:
            *whole, current = _split_words(sentence, max_segments)
            bodies.extend(whole)
    if current.strip():
        bodies.append(current.strip())
    return bodies


def number_buttons(text: str, buttons: Sequence[dict]) -> Tuple[str, Dict[str, str]]:
    """The text with "Reply 1 for …" lines, and which payload each number stands for."""
    if not buttons:
        return text, {}
    options = {str(i): button["payload"] for i, button in enumerate(buttons, start=1)}
    lines = [f"Reply {i} for {to_gsm7(button['title'])}" for i, button in enumerate(buttons, 1)]
    return "\n".join([text, *lines]) if text else "\n".join(lines), options


def match_reply(reply: str, options: Dict[str, str]) -> Optional[str]:
    """The payload a reply like "1", "#2", "option 3" or "two" chooses, else None."""
    words = reply.strip().lower()
    match = re.fullmatch(r"(?:option\s*|#\s*)?(\d+|[a-z]+)\s*[.)!]?", words)
    if not match:
        return None
    choice = match.group(1)
    if choice in _NUMBER_WORDS:
        choice = str(_NUMBER_WORDS.index(choice) + 1)
    return options.get(choice)


def format_for_sms(
    text: str, buttons: Optional[Sequence[dict]] = None, max_segments: int = 2
) -> Tuple[List[str], Dict[str, str]]:
    """The SMS bodies of one bot message, options in the last body; and the options."""
    plain = to_gsm7(strip_markdown(text or ""))
    with_options, options = number_buttons(plain, buttons or [])
    if _fits(with_options, max_segments):
        return ([with_options] if with_options else []), options
    option_lines = with_options[len(plain) :].strip()
    bodies = split_for_sms(plain, max_segments)
    if option_lines:
        if bodies and _fits(f"{bodies[-1]}\n{option_lines}", max_segments):
            bodies[-1] = f"{bodies[-1]}\n{option_lines}"
        else:
            bodies.extend(split_for_sms(option_lines, max_segments))
    return bodies, options

"""A person's message made safe for everything after the channel, keeping all they could see.

Two things a public client can put in a JSON string that no person types, and that break what
comes later: control characters (PostgreSQL cannot store NUL; escapes act on whoever reads a
transcript in a terminal) and lone surrogates (a `\\ud800` escape, which spaCy, the crisis
detector and every UTF-8 encoder refuse, so the turn failed with no answer). Line breaks and
tabs stay; a lone surrogate becomes U+FFFD, as a browser shows it.
"""

from __future__ import annotations

import unicodedata

ALLOWED_CONTROLS = frozenset("\n\r\t")
# A message's longest, in characters (REST and web chat; `max_message_chars` in credentials.yml
# changes it for one channel).
MAX_MESSAGE_CHARS = 1000
REPLACEMENT = "\ufffd"


def readable(text: str) -> str:
    """`text` without control characters but line breaks and tabs, lone surrogates replaced."""
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category == "Cs":
            kept.append(REPLACEMENT)
        elif category != "Cc" or char in ALLOWED_CONTROLS:
            kept.append(char)
    return "".join(kept)

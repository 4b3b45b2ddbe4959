"""What staff taught and reworded, as a patch the repository can take in (`git apply`):

- `data/nlu/staff_taught.yml`: the taught examples that are not revoked (as the retraining
  worker trains on them), new or changed against the repository's file;
- `domain.yml`: each FAQ answer with an approved wording, its text replaced (for every channel)
  or its SMS variant (`channel: twilio`) replaced or added. Only those answers' blocks change;
  each is written in the domain's own layout and read back to check it says what was approved.
"""

from __future__ import annotations

import difflib
import textwrap
from typing import Any, Optional

import sqlalchemy as sa
import yaml

from clinic import answers, sms
from clinic.profile import PROJECT_ROOT
from console.teaching import queries as teaching

DOMAIN = "domain.yml"
TAUGHT = "data/nlu/staff_taught.yml"
WIDTH = 96  # the domain's lines


def repository_patch(engine: sa.engine.Engine) -> str:
    """The patch, against the repository this console runs from ("" when there is nothing)."""
    with engine.connect() as connection:
        texts = answers.current_texts(connection)
    domain = (PROJECT_ROOT / DOMAIN).read_text(encoding="utf-8")
    taught_path = PROJECT_ROOT / TAUGHT
    taught_before = taught_path.read_text(encoding="utf-8") if taught_path.is_file() else None
    pairs = teaching.training_examples(engine)
    taught_after = teaching.as_nlu_yaml(pairs) if pairs else taught_before
    return file_diff(DOMAIN, domain, reworded_domain(domain, texts)) + file_diff(
        TAUGHT, taught_before, taught_after
    )


def file_diff(name: str, before: Optional[str], after: Optional[str]) -> str:
    """A git-style diff of one file; None: the file does not exist."""
    if before == after or after is None:
        return ""
    lines = difflib.unified_diff(
        (before or "").splitlines(keepends=True),
        after.splitlines(keepends=True),
        "/dev/null" if before is None else f"a/{name}",
        f"b/{name}",
    )
    header = f"diff --git a/{name} b/{name}\n" + (
        "new file mode 100644\n" if before is None else ""
    )
    return header + "".join(lines)


def reworded_domain(domain: str, texts: dict[tuple[str, str], str]) -> str:
    """`domain` (the file's text) with the approved texts {(response, channel): text} in it."""
    lines = domain.splitlines(keepends=True)
    for response in sorted({response for response, _ in texts}):
        start, end = _block(lines, response)
        entries = _entries("".join(lines[start + 1 : end]))
        changed = _reworded(
            entries, texts.get((response, answers.ALL_CHANNELS)), texts.get((response, answers.SMS))
        )
        if changed == entries:
            continue
        rendered = "".join(_entry_lines(entry) for entry in changed)
        if _entries(rendered) != changed:
            rendered = textwrap.indent(
                yaml.safe_dump(changed, sort_keys=False, width=WIDTH), "    "
            )
        lines[start + 1 : end] = rendered.splitlines(keepends=True)
    return "".join(lines)


def _entries(block: str) -> list[dict[str, Any]]:
    """A response's variants, read from the indented lines under its name."""
    return yaml.safe_load("x:\n" + block)["x"]


def _block(lines: list[str], response: str) -> tuple[int, int]:
    """The lines of `response`'s entries under `responses:`: [start (its name), end)."""
    start = lines.index(f"  {response}:\n")
    end = start + 1
    while end < len(lines) and (lines[end].startswith("   ") or not lines[end].strip()):
        end += 1
    while not lines[end - 1].strip():  # the blank lines after it are not its own
        end -= 1
    return start, end


def _reworded(
    entries: list[dict[str, Any]], every: Optional[str], sms_text: Optional[str]
) -> list[dict[str, Any]]:
    changed = [dict(entry) for entry in entries]
    if every is not None:
        for entry in changed:
            if "channel" not in entry and "condition" not in entry:
                entry["text"] = every
                break
    if sms_text is not None:
        variant = next((e for e in changed if e.get("channel") == sms.CHANNEL), None)
        if variant is None:
            plain = next((e for e in changed if "channel" not in e), {})
            rest = {k: v for k, v in plain.items() if k != "text"}
            changed.insert(0, {"channel": sms.CHANNEL, "text": sms_text, **rest})
        else:
            variant["text"] = sms_text
    return changed


def _entry_lines(entry: dict[str, Any]) -> str:
    """One response variant in the domain's layout: `text: >-` folded at WIDTH, then the rest."""
    out = []
    for key, value in entry.items():
        lead = "    - " if not out else "      "
        if (
            key == "text"
            and isinstance(value, str)
            and "\n" not in value
            and value.strip() == value
        ):
            wrapped = textwrap.wrap(
                value, WIDTH - 8, break_long_words=False, break_on_hyphens=False
            )
            out.append(f"{lead}text: >-\n" + "".join(f"        {line}\n" for line in wrapped))
        else:
            dumped = yaml.safe_dump({key: value}, sort_keys=False, width=WIDTH, allow_unicode=True)
            out.append(lead + textwrap.indent(dumped, "      ")[6:])
    return "".join(out)

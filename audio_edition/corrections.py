"""The editor's corrections to what one issue says: episodes/<slug>/corrections.toml.

The lexicon fixes a word everywhere; a correction fixes one place in one issue ("the 2 models" that
should be "the two models here", a sentence to drop). It is written against the spoken text, exactly
as `audio-edition review` prints it, and applied after normalization and the lexicon on every
rebuild, so it survives a re-fetched feed. A correction that no longer matches anything is reported,
never silently dropped: the newsletter's text changed under it.

    [[correction]]
    find = "the two models"
    say = "both models"
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from . import files
from .errors import SettingsError
from .settings import UNSAFE_CHARACTERS, read_toml

log = logging.getLogger(__name__)

NAME = "corrections.toml"


@dataclass(frozen=True)
class Correction:
    find: str
    say: str


@dataclass(frozen=True)
class Corrections:
    items: tuple[Correction, ...] = ()
    digest: str = ""
    """Of the file as read; the manifest keeps it, so `status` can tell corrections not yet built."""

    def __bool__(self) -> bool:
        return bool(self.items)


def load(folder: Path) -> Corrections:
    """The corrections of the episode in `folder`; none if it has no corrections.toml."""
    path = folder / NAME
    if not path.exists():
        return Corrections()
    data = read_toml(path)
    tables = data.get("correction", [])
    if not isinstance(tables, list) or set(data) - {"correction"}:
        raise SettingsError(f"{path}: write each correction as a [[correction]] table with find and say")
    return Corrections(tuple(_correction(table, n, path) for n, table in enumerate(tables, 1)), file_digest(folder))


def _correction(table: object, n: int, path: Path) -> Correction:
    """One [[correction]] table, checked: find a non-empty string, say a string ("" drops the words)."""
    if not isinstance(table, dict) or set(table) - {"find", "say"} or "find" not in table or "say" not in table:
        raise SettingsError(f"{path}: correction {n} needs find = \"...\" and say = \"...\" (nothing else)")
    for key in ("find", "say"):
        value = table[key]
        if not isinstance(value, str):
            raise SettingsError(f"{path}: correction {n}: {key} must be a string, not {value!r:.40}")
        unsafe = UNSAFE_CHARACTERS.search(value)
        if unsafe:
            raise SettingsError(f"{path}: correction {n}: {key} holds a control character (U+{ord(unsafe.group()):04X})")
    find = _tidy(table["find"])
    if not find:
        raise SettingsError(f"{path}: correction {n} has an empty find")
    return Correction(find, _tidy(table["say"]))


def file_digest(folder: Path) -> str:
    """Of corrections.toml as it is now ("" when there is none)."""
    try:
        return files.digest(folder / NAME)[:16]
    except FileNotFoundError:
        return ""


def apply(text: str, corrections: Corrections) -> tuple[str, set[int]]:
    """The spoken text of one segment corrected, and which corrections (by index) matched in it."""
    used = set()
    for index, correction in enumerate(corrections.items):
        if correction.find in text:
            text = text.replace(correction.find, correction.say)
            used.add(index)
    return _tidy(text), used


def report_unmatched(corrections: Corrections, used: set[int], folder: Path) -> list[str]:
    """The `find` texts that matched nothing, each logged as a warning quoting it."""
    unmatched = [c.find for n, c in enumerate(corrections.items) if n not in used]
    for find in unmatched:
        log.warning("correction %r in %s matches nothing in the script any more: the newsletter's text "
                    "changed under it; fix or remove it (`audio-edition review` shows the text)",
                    find, folder / NAME)
    return unmatched


def _tidy(text: str) -> str:
    """One space between words, and none before punctuation a dropped phrase leaves behind."""
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r" ([,.;:!?])", r"\1", text)

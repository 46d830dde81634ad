"""The editor's pronunciation overrides (voices/lexicon.toml), applied to spoken text at word boundaries,
in the form each engine takes: a respelling for all, exact phonemes where the engine reads them."""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from ..errors import SettingsError
from ..settings import read_toml

log = logging.getLogger(__name__)

_SUFFIX = r"(?P<suffix>'s|’s|s'|s|es)?"
"""A plural or possessive after a word keeps its entry: 'Asya's', 'mesa-optimizers'."""

_LINK = re.compile(r"\[([^\[\]\n]{1,80})\]\(/[^()\n]{1,200}/\)")
"""A word with its exact phonemes, as hibari (misaki) takes it: [word](/phonemes/). Both parts are bounded, so
that text full of unclosed brackets costs time linear in its length."""

MISAKI = {
    # eSpeak's two-letter sounds that misaki writes as one letter
    "oʊ": "O", "eɪ": "A", "aɪ": "I", "aʊ": "W", "ɔɪ": "Y", "dʒ": "ʤ", "tʃ": "ʧ",
    # r-coloured vowels: misaki writes the r
    "ɚ": "əɹ", "ɝ": "ɜɹ", "ɜːɹ": "ɜɹ", "ɜː": "ɜɹ",
    # long vowels: American misaki has no length mark
    "iː": "i", "uː": "u", "ɑː": "ɑ", "ɔː": "ɔ", "ː": "",
    # sounds misaki spells otherwise
    "ɾ": "T", "ʔ": "t", "ɐ": "ə", "ɒ": "ɑ", "g": "ɡ", "r": "ɹ", "ɫ": "l", "l̩": "ᵊl", "n̩": "ᵊn",
    # the same in both
    **{c: c for c in "bdfhjklmnpstvwzðθʃʒŋɡɹ" "iuɑɔəɛɪʊʌæɜᵻ" "ˈˌ "},
}
"""eSpeak IPA (American, as lexicon.toml writes it) -> the misaki alphabet hibari's voices read."""
_MISAKI_LONGEST = max(map(len, MISAKI))


def to_misaki(ipa: str) -> str | None:
    """The IPA in misaki's alphabet, longest sound first; None if it holds a sound the table does not know."""
    out, at = [], 0
    while at < len(ipa):
        for size in range(min(_MISAKI_LONGEST, len(ipa) - at), 0, -1):
            if ipa[at:at + size] in MISAKI:
                out.append(MISAKI[ipa[at:at + size]])
                at += size
                break
        else:
            return None
    return "".join(out)


@dataclass(frozen=True)
class Entry:
    """How one word is said."""

    say: str
    """A respelling, or exact eSpeak IPA in [[ ]]."""
    respell: str = ""
    """With phonemes: letters for the engines that take none (Coqui)."""
    misaki: str = ""
    """With phonemes: hibari's own, where converting the IPA does not give what is wanted."""

    @property
    def ipa(self) -> str:
        return self.say[2:-2].strip() if self.say.startswith("[[") else ""


@dataclass(frozen=True)
class Lexicon:
    """word -> respelling (or exact phonemes); a lower-case word matches any case, others only their own.

    Words are matched whole: 'mesa' is not found in 'mesas' unless as a plural, and a hyphen is a boundary, so
    'mesa' also applies inside 'mesa-optimizer' unless that compound has an entry of its own (the longest wins).
    An entry is a string (the `say` of an Entry) or an Entry.
    """

    entries: tuple[tuple[str, Entry], ...] = ()

    def __post_init__(self) -> None:
        entries = tuple((word, say if isinstance(say, Entry) else Entry(say)) for word, say in self.entries)
        object.__setattr__(self, "entries", entries)

    @staticmethod
    def load(path: Path) -> "Lexicon":
        if not path.exists():
            return Lexicon()
        data = read_toml(path)
        words = data.get("words", {})
        if not isinstance(words, dict):
            raise SettingsError(f"{path}: [words] must be a table of word = \"respelling\"")
        if any(not word.strip() for word in words):
            raise SettingsError(f"{path}: words has an empty word (\"\" = ...), which would match everywhere")
        entries = {word: _entry(say, f"{path}: words.{word}") for word, say in words.items()}
        # Longest first, so "mesa-optimizer" wins over "mesa".
        return Lexicon(tuple(sorted(entries.items(), key=lambda kv: (-len(kv[0]), kv[0]))))

    @cached_property
    def _variants(self) -> tuple[tuple[str, str, Entry], ...]:
        """(form, word, entry): each entry as written and as normalization leaves it ('word2vec' is
        'word two vec' by then)."""
        from .normalize import normalize

        written = dict(self.entries)
        spoken = ((normalize(word), word, entry) for word, entry in self.entries)
        return (tuple((word, word, entry) for word, entry in self.entries)
                + tuple(found for found in spoken if found[0] and found[0] not in written))

    @cached_property
    def _pattern(self) -> re.Pattern[str] | None:
        if not self.entries:
            return None
        words = sorted((form for form, _, _ in self._variants), key=len, reverse=True)
        alternatives = "|".join(
            f"(?i:{re.escape(word)})" if word.islower() else re.escape(word) for word in words
        )
        return re.compile(rf"(?<![\w\[])(?P<word>{alternatives}){_SUFFIX}(?![\w\]])")

    @cached_property
    def _lookup(self) -> dict[str, tuple[str, Entry]]:
        table = {form.lower(): (word, entry) for form, word, entry in self._variants if form.islower()}
        table.update({form: (word, entry) for form, word, entry in self._variants if not form.islower()})
        return table

    def apply(self, text: str, phonemes: str | None = "espeak", unmet: set[str] | None = None) -> str:
        """The text with every entry's word replaced by its pronunciation, in one pass, in the form an engine
        takes: `phonemes` is the alphabet it reads inline ("espeak": Piper's [[ ]]; "misaki": hibari's
        [word](/phonemes/)) or None (letters only: exact pronunciations become their respellings). Entries
        that cannot be said exactly go into `unmet`; without a respelling their word is left as written."""
        if self._pattern is None:
            return text
        return self._pattern.sub(lambda m: self._replace(m, phonemes, unmet), text)

    def _replace(self, m: re.Match[str], phonemes: str | None, unmet: set[str] | None) -> str:
        form, suffix = m.group("word"), m.group("suffix") or ""
        word, entry = self._lookup.get(form) or self._lookup[form.lower()]
        said = _render(entry, form, suffix, phonemes)
        if said is None:
            if unmet is not None:
                unmet.add(word)
            return (entry.respell or form) + suffix
        return said

    def restore(self, text: str) -> str:
        """The inverse, for comparing what was heard with what was meant: each pronunciation back to its word."""
        text = _LINK.sub(lambda m: m.group(1), text)
        for word, entry in self.entries:
            for say in filter(None, (entry.say, entry.respell)):
                text = re.sub(rf"(?<![\w\[]){re.escape(say)}(?![\w\]])", word, text, flags=re.I)
        return text

    def unmet(self, phonemes: str | None) -> dict[str, str]:
        """The entries an engine reading `phonemes` cannot say exactly: word -> what it says instead."""
        return {word: entry.respell or "as written" for word, entry in self.entries
                if _render(entry, word, "", phonemes) is None}

    def digest(self) -> str:
        return hashlib.sha256(repr(self.entries).encode()).hexdigest()[:16]


def _render(entry: Entry, form: str, suffix: str, phonemes: str | None) -> str | None:
    """The entry as an engine reading `phonemes` takes it; None if it cannot say it exactly."""
    if not entry.ipa:
        return entry.say + suffix
    ending = "z" if suffix else ""
    if phonemes == "espeak":
        return f"[[{entry.ipa}{ending}]]"
    sounds = (entry.misaki or to_misaki(entry.ipa)) if phonemes == "misaki" else None
    return f"[{form}{suffix}](/{sounds}{ending}/)" if sounds else None


def _entry(value: object, where: str) -> Entry:
    """A lexicon.toml value: "respelling", "[[phonemes]]", or { say = "[[phonemes]]", respell = "...", misaki = "..." }."""
    table = value if isinstance(value, dict) else {"say": value}
    unknown = sorted(set(table) - {"say", "respell", "misaki"})
    if unknown:
        raise SettingsError(f"{where}: unknown key {unknown[0]!r} (an entry is a string, or a table of say, respell, misaki)")
    for key, text in table.items():
        if not isinstance(text, str) or not text.strip():
            raise SettingsError(f"{where}: {key} must be a non-empty string" + (" (a respelling or [[phonemes]])" if key == "say" else ""))
    entry = Entry(table.get("say", ""), table.get("respell", ""), table.get("misaki", ""))
    if not entry.say:
        raise SettingsError(f"{where}: say is missing (the [[phonemes]] that respell and misaki go with)")
    if entry.say.startswith("[[") != entry.say.endswith("]]"):
        raise SettingsError(f"{where}: phonemes are written [[ like this ]]")
    if not entry.ipa and (entry.respell or entry.misaki):
        raise SettingsError(f"{where}: respell and misaki go with phonemes in say (say = \"[[...]]\")")
    if "[" in entry.respell or "/" in entry.respell:
        raise SettingsError(f"{where}: respell is letters, for engines that read no phonemes")
    return entry

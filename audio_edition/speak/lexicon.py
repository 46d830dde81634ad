"""The editor's pronunciation overrides (voices/lexicon.toml), applied to spoken text at word boundaries."""

from __future__ import annotations

import hashlib
import logging
import re
import tomllib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from ..errors import SettingsError

log = logging.getLogger(__name__)

_SUFFIX = r"(?P<suffix>'s|’s|s'|s|es)?"
"""A plural or possessive after a word keeps its entry: 'Asya's', 'mesa-optimizers'."""


@dataclass(frozen=True)
class Lexicon:
    """word -> respelling (or Piper phonemes in [[ ]]); a lower-case word matches any case, others only their own.

    Words are matched whole: 'mesa' is not found in 'mesas' unless as a plural, and a hyphen is a boundary, so
    'mesa' also applies inside 'mesa-optimizer' unless that compound has an entry of its own (the longest wins).
    """

    entries: tuple[tuple[str, str], ...] = ()

    @staticmethod
    def load(path: Path) -> "Lexicon":
        if not path.exists():
            return Lexicon()
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"{path}: not valid TOML ({exc})") from None
        words = data.get("words", {})
        if not isinstance(words, dict):
            raise SettingsError(f"{path}: [words] must be a table of word = \"respelling\"")
        for word, say in words.items():
            if not isinstance(say, str) or not say.strip():
                raise SettingsError(f"{path}: words.{word} must be a non-empty string (a respelling or [[phonemes]])")
            if say.startswith("[[") != say.endswith("]]"):
                raise SettingsError(f"{path}: words.{word}: phonemes are written [[ like this ]]")
        # Longest first, so "mesa-optimizer" wins over "mesa".
        return Lexicon(tuple(sorted(words.items(), key=lambda kv: (-len(kv[0]), kv[0]))))

    @cached_property
    def _variants(self) -> tuple[tuple[str, str], ...]:
        """Each entry as written and as normalization leaves it ('word2vec' is 'word two vec' by then)."""
        from .normalize import normalize

        spoken = ((normalize(word), say) for word, say in self.entries)
        return self.entries + tuple((word, say) for word, say in spoken if word and word not in dict(self.entries))

    @cached_property
    def _pattern(self) -> re.Pattern[str] | None:
        if not self.entries:
            return None
        words = sorted((word for word, _ in self._variants), key=len, reverse=True)
        alternatives = "|".join(
            f"(?i:{re.escape(word)})" if word.islower() else re.escape(word) for word in words
        )
        return re.compile(rf"(?<![\w\[])(?P<word>{alternatives}){_SUFFIX}(?![\w\]])")

    @cached_property
    def _lookup(self) -> dict[str, str]:
        table = {word.lower(): say for word, say in self._variants if word.islower()}
        table.update({word: say for word, say in self._variants if not word.islower()})
        return table

    def apply(self, text: str) -> str:
        """The text with every entry's word replaced by its pronunciation, in one pass."""
        if self._pattern is None:
            return text
        return self._pattern.sub(self._replace, text)

    def _replace(self, m: re.Match[str]) -> str:
        word, suffix = m.group("word"), m.group("suffix") or ""
        say = self._lookup.get(word) or self._lookup[word.lower()]
        if say.startswith("[["):
            return say[:-2].rstrip() + ("z" if suffix else "") + "]]"
        return say + suffix

    def restore(self, text: str) -> str:
        """The inverse, for comparing what was heard with what was meant: each pronunciation back to its word."""
        for word, say in self.entries:
            text = re.sub(rf"(?<![\w\[]){re.escape(say)}(?![\w\]])", word, text, flags=re.I)
        return text

    def used_by(self, text: str) -> tuple[tuple[str, str], ...]:
        """The entries that change this text: only they belong in its cache key."""
        return tuple((w, s) for w, s in self.entries if Lexicon(((w, s),)).apply(text) != text)

    @property
    def digest(self) -> str:
        return hashlib.sha256(repr(self.entries).encode()).hexdigest()[:16]

"""The editor's pronunciation overrides (voices/lexicon.toml), applied to spoken text at word boundaries."""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..errors import SettingsError


@dataclass(frozen=True)
class Lexicon:
    """word -> respelling (or Piper phonemes in [[ ]]); a lower-case entry matches any case."""

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
        if not all(isinstance(v, str) for v in words.values()):
            raise SettingsError(f"{path}: every entry under [words] must be a string")
        # Longest first, so "mesa-optimizer" wins over "mesa".
        return Lexicon(tuple(sorted(words.items(), key=lambda kv: -len(kv[0]))))

    def apply(self, text: str) -> str:
        for word, say in self.entries:
            flags = re.IGNORECASE if word.islower() else 0
            text = re.sub(rf"(?<![\w-]){re.escape(word)}(?![\w-])", lambda _: say, text, flags=flags)
        return text

    def used_by(self, text: str) -> tuple[tuple[str, str], ...]:
        """The entries that change this text: only they belong in its cache key."""
        return tuple((w, s) for w, s in self.entries if Lexicon(((w, s),)).apply(text) != text)

    @property
    def digest(self) -> str:
        return hashlib.sha256(repr(self.entries).encode()).hexdigest()[:16]

"""Voice profiles (voices/*.toml): which engine and settings speak each role, loaded once per build."""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..errors import SettingsError, VoiceError
from ..model import Role

log = logging.getLogger(__name__)


class Voice(Protocol):
    """What the pipeline needs of a speech engine: a rate, an identity for the cache, and speech."""

    sample_rate: int

    @property
    def identity(self) -> str:
        """Engine, engine version, model and settings: anything that changes the sound changes this."""

    def speak(self, text: str) -> np.ndarray:
        """One sentence of spoken text as mono int16 samples at `sample_rate`."""


@dataclass(frozen=True)
class Profile:
    """A voice per role, plus what the show notes credit."""

    name: str
    credit: str
    licence: str = ""
    voices: dict[Role, Voice] = field(default_factory=dict)
    sentence_silence: float = 0.25

    def voice(self, role: Role) -> Voice:
        return self.voices.get(role) or self.voices[Role.NARRATOR]


ENGINES = ("piper", "coqui")


def load_profile(voices_dir: Path, name: str) -> Profile:
    """Read voices/<name>.toml; role tables inherit the narrator's settings and override some."""
    path = Path(name) if name.endswith(".toml") else voices_dir / f"{name}.toml"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in voices_dir.glob("*.toml") if p.stem != "lexicon"))
        raise SettingsError(f"voice profile {name!r} not found in {voices_dir} (profiles: {known or 'none'})")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML ({exc})") from None
    narrator = data.get("narrator")
    if not isinstance(narrator, dict):
        raise SettingsError(f"{path}: a voice profile needs a [narrator] table")
    loaded: dict[str, Voice] = {}
    voices: dict[Role, Voice] = {}
    for role in Role:
        table = {**narrator, **data.get(role.value, {})} if role != Role.NARRATOR else narrator
        if role != Role.NARRATOR and role.value not in data:
            continue
        if table.get("engine", "piper") != narrator.get("engine", "piper"):
            table = dict(data[role.value])  # another engine: the narrator's settings mean nothing to it
        key = repr(sorted(table.items()))
        if key not in loaded:
            loaded[key] = _engine(table, path.parent, f"{path.name} [{role.value}]")
        voices[role] = loaded[key]
    return Profile(
        name=str(data.get("name", path.stem)),
        credit=str(data.get("credit", "")),
        licence=str(data.get("licence", "")),
        voices=voices,
        sentence_silence=float(data.get("sentence_silence", 0.25)),
    )


def _engine(table: dict[str, Any], base: Path, where: str) -> Voice:
    engine = table.get("engine", "piper")
    options = {k: v for k, v in table.items() if k != "engine"}
    if engine == "piper":
        from .piper import PiperVoice

        return PiperVoice.from_options(options, base, where)
    if engine == "coqui":
        try:
            from .coqui import CoquiVoice
        except ImportError:
            raise VoiceError(f"{where}: the coqui engine is not available in this install") from None
        return CoquiVoice.from_options(options, base, where)
    raise SettingsError(f"{where}: unknown engine {engine!r} (known: {', '.join(ENGINES)})")

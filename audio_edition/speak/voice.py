"""Voice profiles (voices/*.toml): which engine and settings speak each role, loaded once per build."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

import numpy as np

from ..errors import SettingsError, VoiceError
from ..model import Role
from ..settings import read_toml

log = logging.getLogger(__name__)


class Speaker(Protocol):
    """What the pipeline needs of whoever speaks a role (an engine, its voice model and settings): a rate, an
    identity for the cache, and speech."""

    sample_rate: int

    @property
    def identity(self) -> str:
        """Engine, engine version, model and settings: anything that changes the sound changes this."""

    def speak(self, text: str) -> np.ndarray:
        """One sentence of spoken text as mono int16 samples at `sample_rate`."""


@dataclass(frozen=True)
class Engine:
    """What the pipeline knows of an engine beyond its speakers."""

    load: Callable[[dict[str, Any], Path, str], Speaker]
    """A role's settings (without `engine`), the profile's folder, and where they were read -> its speaker."""
    phonemes: str | None
    """The phoneme alphabet its text may carry inline (see lexicon.Lexicon.apply), or None: letters only."""
    parallel: bool
    """Whether one speaker may speak several sentences at once, from several threads."""
    memory: float = 0.0
    """MB of working memory an inference needs for each character of its sentence (see synthesis.MEMORY_AT_ONCE)."""


@dataclass(frozen=True)
class Credit:
    """One voice as the show notes credit it."""

    voice: str
    licence: str = ""


@dataclass(frozen=True)
class Profile:
    """A speaker per role, the engine each one runs on, plus what the show notes credit."""

    name: str
    credit: str
    licence: str = ""
    speakers: dict[Role, Speaker] = field(default_factory=dict)
    sentence_silence: float = 0.25
    engines: dict[Role, str] = field(default_factory=dict)
    """The engine's name for each role in `speakers` (a role missing here is taken to be Piper's)."""
    credits: tuple[Credit, ...] = ()
    """Each voice with its licence, when the profile has more than one ([[credits]] tables)."""

    def speaker(self, role: Role) -> Speaker:
        return self.speakers.get(role) or self.speakers[Role.NARRATOR]

    def engine(self, role: Role) -> str:
        """The name of the engine that speaks `role`."""
        return self.engines.get(role if role in self.speakers else Role.NARRATOR, "piper")

    def phonemes(self, role: Role) -> str | None:
        """The phoneme alphabet the role's engine takes inline, for the lexicon."""
        return ENGINES[self.engine(role)].phonemes

    def memory(self, role: Role) -> float:
        """MB of working memory the role's engine needs per character of a sentence."""
        return ENGINES[self.engine(role)].memory

    @property
    def parallel(self) -> bool:
        """Whether every speaker may speak several sentences at once (see synthesis.synthesize)."""
        return all(ENGINES[self.engine(role)].parallel for role in self.speakers)


def load_profile(voices_dir: Path, name: str) -> Profile:
    """Read voices/<name>.toml; role tables inherit the narrator's settings and override some."""
    path = Path(name) if name.endswith(".toml") else voices_dir / f"{name}.toml"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in voices_dir.glob("*.toml") if p.stem != "lexicon"))
        raise SettingsError(f"voice profile {name!r} not found in {voices_dir} (profiles: {known or 'none'})")
    data = read_toml(path)
    silence = data.get("sentence_silence", 0.25)
    if isinstance(silence, bool) or not isinstance(silence, (int, float)) or silence < 0:
        raise SettingsError(f"{path}: sentence_silence must be a number of seconds, 0 or more, not {silence!r:.40}")
    narrator = data.get("narrator")
    if not isinstance(narrator, dict):
        raise SettingsError(f"{path}: a voice profile needs a [narrator] table")
    loaded: dict[str, Speaker] = {}
    speakers: dict[Role, Speaker] = {}
    engines: dict[Role, str] = {}
    for role in Role:
        table = {**narrator, **data.get(role.value, {})} if role != Role.NARRATOR else narrator
        if role != Role.NARRATOR and role.value not in data:
            continue
        if table.get("engine", "piper") != narrator.get("engine", "piper"):
            table = dict(data[role.value])  # another engine: the narrator's settings mean nothing to it
        key = repr(sorted(table.items()))
        if key not in loaded:
            loaded[key] = _speaker(table, path.parent, f"{path.name} [{role.value}]")
        speakers[role] = loaded[key]
        engines[role] = table.get("engine", "piper")
    return Profile(
        name=str(data.get("name", path.stem)),
        credit=str(data.get("credit", "")),
        licence=str(data.get("licence", "")),
        speakers=speakers,
        sentence_silence=float(silence),
        engines=engines,
        credits=_credits(data.get("credits", []), path),
    )


def _speaker(table: dict[str, Any], base: Path, where: str) -> Speaker:
    name = table.get("engine", "piper")
    if name not in ENGINES:
        raise SettingsError(f"{where}: unknown engine {name!r} (known: {', '.join(ENGINES)})")
    return ENGINES[name].load({k: v for k, v in table.items() if k != "engine"}, base, where)


def _credits(tables: Any, path: Path) -> tuple[Credit, ...]:
    if not isinstance(tables, list) or not all(isinstance(t, dict) and isinstance(t.get("voice"), str) for t in tables):
        raise SettingsError(f'{path}: each [[credits]] table needs voice = "..." (and may say licence = "...")')
    return tuple(Credit(t["voice"], str(t.get("licence", ""))) for t in tables)


def _piper(options: dict[str, Any], base: Path, where: str) -> Speaker:
    from .piper import PiperSpeaker

    return PiperSpeaker.from_options(options, base, where)


def _hibari(options: dict[str, Any], base: Path, where: str) -> Speaker:
    import importlib.util

    if importlib.util.find_spec("hibari") is None:
        raise VoiceError(f"{where}: the hibari engine needs hibari-tts, which is not installed (pip install hibari-tts)")
    from .hibari import HibariSpeaker

    return HibariSpeaker.from_options(options, base, where)


def _coqui(options: dict[str, Any], base: Path, where: str) -> Speaker:
    try:
        from .coqui import CoquiSpeaker
    except ImportError:
        raise VoiceError(f"{where}: the coqui engine is not available in this install") from None
    return CoquiSpeaker.from_options(options, base, where)


ENGINES: dict[str, Engine] = {
    "piper": Engine(_piper, phonemes="espeak", parallel=True, memory=1.3),
    "hibari": Engine(_hibari, phonemes="misaki", parallel=True, memory=0.2),
    "coqui": Engine(_coqui, phonemes=None, parallel=False),
}
"""Every engine a profile may name. Piper reads eSpeak IPA in [[ ]]; hibari the misaki alphabet in
[word](/phonemes/); Coqui's models read letters only (those that phonemize do it themselves)."""

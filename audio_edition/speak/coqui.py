"""The Coqui TTS engine (the maintained coqui-tts fork), for users' own VITS, XTTS and multi-speaker models.

Optional: it brings torch, so it is the `coqui` extra and is imported only when a profile names it.
A model is a Coqui model-zoo name (downloaded by Coqui on first use, where the network allows) or a
local checkpoint with its config. Everything Coqui would otherwise fail on deep inside (a wrong
speaker, a missing language, a licence prompt, no network) is checked at load time and said in one line.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SettingsError, VoiceError
from ..files import fingerprint
from .plan import split_text

log = logging.getLogger(__name__)

SETTINGS = ("model", "model_path", "config_path", "speaker", "language", "speaker_wav", "speed", "max_chars")
INSTALL = "pip install 'audio-edition[coqui]' (or `make test-coqui`, which installs it into .venv-coqui)"
CLAUSE_PAUSE = 0.12
"""Seconds between the pieces of a sentence that was too long for the model in one call."""
CPML = "https://coqui.ai/cpml"


@dataclass
class CoquiSpeaker:
    where: str
    model: str | None = None
    """A model-zoo name (tts_models/<language>/<dataset>/<model>), or None for a local checkpoint."""
    model_path: Path | None = None
    config_path: Path | None = None
    speaker: str | None = None
    language: str | None = None
    speaker_wav: Path | None = None
    speed: float = 1.0
    max_chars: int | None = None
    sample_rate: int = 0
    _tts: Any = None
    _limit: int | None = None
    _kwargs: dict[str, Any] = field(default_factory=dict)
    _identity: str = ""

    @staticmethod
    def from_options(options: dict[str, Any], base: Path, where: str) -> "CoquiSpeaker":
        _require_coqui(where)
        options = dict(options)
        unknown = sorted(set(options) - set(SETTINGS))
        if unknown:
            raise SettingsError(f"{where}: unknown coqui setting {unknown[0]!r} (known: {', '.join(SETTINGS)})")
        if "model" in options and "model_path" in options:
            raise SettingsError(f"{where}: set model (a Coqui model-zoo name) or model_path (a local checkpoint), not both")
        if "model" not in options and "model_path" not in options:
            raise SettingsError(f"{where}: a coqui voice needs model (a Coqui model-zoo name, like "
                                "tts_models/en/vctk/vits) or model_path (a local checkpoint)")
        voice = CoquiSpeaker(
            where=where,
            model=_text(options, "model", where),
            model_path=_path(options, "model_path", base),
            config_path=_path(options, "config_path", base),
            speaker=_text(options, "speaker", where),
            language=_text(options, "language", where),
            speaker_wav=_path(options, "speaker_wav", base),
            speed=_number(options, "speed", 1.0, where),
            max_chars=_max_chars(options, where),
        )
        voice.check_files()
        voice.load()
        return voice

    def check_files(self) -> None:
        if self.model_path is not None:
            if not self.model_path.exists():
                raise VoiceError(f"{self.where}: Coqui checkpoint {self.model_path} does not exist")
            if self.config_path is None:  # Coqui's API would fail on a missing config_path; its files sit together
                folder = self.model_path if self.model_path.is_dir() else self.model_path.parent
                self.config_path = folder / "config.json"
            if not self.config_path.exists():
                raise VoiceError(f"{self.where}: Coqui model config {self.config_path} does not exist "
                                 "(set config_path; the default is config.json beside the checkpoint)")
        elif self.config_path is not None:
            raise SettingsError(f"{self.where}: config_path goes with model_path; a zoo model brings its own config")
        if self.speaker_wav is not None and not self.speaker_wav.is_file():
            raise VoiceError(f"{self.where}: speaker_wav {self.speaker_wav} does not exist")

    def load(self) -> None:
        _quiet_coqui()
        self._tts = self._open_zoo() if self.model else self._open_checkpoint()
        synthesizer = self._tts.synthesizer
        self._check_language()
        self._check_speaker()
        self._check_reference()
        self._set_speed()
        self.sample_rate = int(synthesizer.output_sample_rate)
        self._limit = self.max_chars or _model_limit(synthesizer.tts_model, self.language)
        self._identity = "|".join(
            [
                "coqui",
                importlib.metadata.version("coqui-tts"),
                "torch " + importlib.metadata.version("torch"),
                self.model or "",
                *(_digest(Path(p)) for p in (synthesizer.tts_checkpoint, synthesizer.tts_config_path,
                                              synthesizer.vocoder_checkpoint, synthesizer.vocoder_config) if str(p)),
                _digest(self.speaker_wav) if self.speaker_wav else "",
                repr([(name, getattr(self, name)) for name in ("speaker", "language", "speed", "max_chars")]),
            ]
        )
        log.debug("Coqui voice %s: %d Hz, at most %s characters a call", self.model or self.model_path,
                  self.sample_rate, self._limit or "any")

    @property
    def identity(self) -> str:
        return self._identity

    def speak(self, text: str) -> np.ndarray:
        from TTS.utils.synthesizer import PAD_SILENCE_SAMPLES

        gap = np.zeros(int(self.sample_rate * CLAUSE_PAUSE), dtype=np.float32)
        pieces: list[np.ndarray] = []
        for chunk in split_text(text, self._limit):
            try:
                wav = self._tts.tts(chunk, speaker=self.speaker, language=self.language, split_sentences=False,
                                    speaker_wav=str(self.speaker_wav) if self.speaker_wav else None, **self._kwargs)
            except Exception as exc:  # torch and the model raise their own types for text they cannot take
                raise VoiceError(f"{self.where}: Coqui could not speak {chunk[:60]!r}: {_first_line(exc)}") from None
            samples = np.asarray(wav, dtype=np.float32)
            # Coqui appends PAD_SILENCE_SAMPLES of silence after every call; the pipeline sets its own pauses.
            if len(samples) >= PAD_SILENCE_SAMPLES and not samples[-PAD_SILENCE_SAMPLES:].any():
                samples = samples[:-PAD_SILENCE_SAMPLES]
            pieces += [gap, samples] if pieces else [samples]
        return _int16(np.concatenate(pieces)) if pieces else np.zeros(0, dtype=np.int16)

    def _open_checkpoint(self) -> Any:
        from TTS.api import TTS

        log.debug("loading Coqui model %s (config %s)", self.model_path, self.config_path)
        try:
            return TTS(model_path=str(self.model_path), config_path=str(self.config_path), progress_bar=False)
        except Exception as exc:  # torch, coqpit and the model classes raise their own types for a bad checkpoint
            raise VoiceError(f"{self.where}: cannot load Coqui model {self.model_path}: {_first_line(exc)}") from None

    def _open_zoo(self) -> Any:
        """Download (or find) the model, then load it; the two failures get different advice."""
        from TTS.api import TTS
        from TTS.utils.manage import ModelManager

        manager = ModelManager(progress_bar=False)
        item = _zoo_item(manager, self.model, self.where)
        folder = manager.output_prefix / self.model.replace("/", "--")
        if not manager.tos_agreed(item, folder):  # Coqui would stop and ask on stdin
            raise VoiceError(f"{self.where}: Coqui model {self.model} is under the Coqui Public Model License; "
                             f"read {CPML}, then set COQUI_TOS_AGREED=1 to accept it")
        try:
            with _silenced("TTS.utils.manage"):  # it logs the failure with a traceback; the one line below says it
                for name in (self.model, item.get("default_vocoder")):
                    if name:
                        manager.download_model(name)
        except Exception as exc:  # requests, huggingface_hub, zipfile: whatever the network did
            raise VoiceError(
                f"{self.where}: cannot download Coqui model {self.model} here ({_first_line(_root(exc))}); Coqui keeps "
                f"its models in {manager.output_prefix} (TTS_HOME moves it): download it there where the network "
                "allows, or set model_path and config_path to a local copy"
            ) from None
        try:
            return TTS(self.model, progress_bar=False)
        except Exception as exc:
            raise VoiceError(f"{self.where}: cannot load Coqui model {self.model}: {_first_line(exc)}") from None

    def _check_language(self) -> None:
        known = self._tts.languages
        name = self.model or self.model_path
        if not known:
            if self.language:
                raise SettingsError(f"{self.where}: Coqui model {name} speaks one language; remove language")
        elif not self.language:
            raise SettingsError(f"{self.where}: Coqui model {name} is multilingual: set language to one of "
                                f"{', '.join(known)}")
        elif self.language not in known:
            raise SettingsError(f"{self.where}: Coqui model {name} does not speak language {self.language!r} "
                                f"(languages: {', '.join(known)})")

    def _check_speaker(self) -> None:
        model = self._tts.synthesizer.tts_model
        name = self.model or self.model_path
        if self.speaker_wav and not model.config.supports_cloning:
            raise SettingsError(f"{self.where}: Coqui model {name} cannot clone a voice; remove speaker_wav")
        if not self._tts.is_multi_speaker:
            if self.speaker:
                raise SettingsError(f"{self.where}: Coqui model {name} has one voice; remove speaker")
            return
        known = self._tts.speakers or []
        if self.speaker_wav:
            return  # cloning: `speaker`, if set, names the cloned voice for Coqui's voice cache
        if not self.speaker:
            raise SettingsError(f"{self.where}: Coqui model {name} has several speakers: set speaker to one of "
                                f"{', '.join(known)}" + ("" if not model.config.supports_cloning
                                                          else ", or speaker_wav to clone a voice"))
        if self.speaker not in known:
            raise SettingsError(f"{self.where}: Coqui model {name} has no speaker {self.speaker!r} "
                                f"(speakers: {', '.join(known)})")

    def _check_reference(self) -> None:
        """Coqui reads speaker_wav with torchaudio, whose decoder (torchcodec) needs FFmpeg's shared libraries."""
        if self.speaker_wav is None:
            return
        import torchaudio

        try:
            torchaudio.load(str(self.speaker_wav))
        except Exception as exc:  # torchcodec's RuntimeError for missing libraries, or the decoder's for the file
            raise VoiceError(f"{self.where}: cannot read speaker_wav {self.speaker_wav} ({_first_line(exc)}); "
                             "Coqui reads it with torchaudio, which needs FFmpeg's libraries (apt install ffmpeg)") from None

    def _set_speed(self) -> None:
        """XTTS takes `speed` per call; VITS, Glow-TTS and FastPitch scale their durations by `length_scale`."""
        if self.speed == 1.0:
            return
        synthesizer = self._tts.synthesizer
        model = synthesizer.tts_model
        if synthesizer.tts_config.model == "xtts":
            self._kwargs["speed"] = self.speed
        elif isinstance(getattr(model, "length_scale", None), (int, float)):
            model.length_scale = float(model.length_scale) / self.speed
        else:
            raise SettingsError(f"{self.where}: Coqui model {self.model or self.model_path} "
                                f"({synthesizer.tts_config.model}) has no speed control; remove speed")


def _model_limit(model: Any, language: str | None) -> int | None:
    """XTTS knows how many characters per language it takes (its tokenizer's char_limits); others take a sentence."""
    limits = getattr(getattr(model, "tokenizer", None), "char_limits", None)
    if not isinstance(limits, dict):
        return None
    return int(limits.get((language or "en").split("-")[0], 250))


def _zoo_item(manager: Any, name: str, where: str) -> dict[str, Any]:
    """The zoo's entry for a model name (Coqui builds one for Meta's fairseq VITS models, which it does not list)."""
    parts = name.split("/")
    if len(parts) == 4 and parts[0] == "tts_models":
        if parts[2] == "fairseq":
            return {"model_name": name, "model_type": "tts_models"}
        item = manager.models_dict["tts_models"].get(parts[1], {}).get(parts[2], {}).get(parts[3])
        if item is not None:
            return item
    raise SettingsError(
        f"{where}: {name!r} is not a Coqui text-to-speech model (names look like tts_models/en/vctk/vits; "
        "`tts --list_models` lists them); for a local checkpoint set model_path instead"
    )


def _require_coqui(where: str) -> None:
    try:
        import TTS.api  # noqa: F401  (torch and the model code come with it)
    except ImportError as exc:
        raise VoiceError(f"{where}: the coqui engine needs Coqui TTS, which is not installed "
                         f"({exc}): {INSTALL}") from None


def _quiet_coqui() -> None:
    """Coqui logs every call's input and real-time factor at INFO; keep that for --verbose."""
    coqui = logging.getLogger("TTS")
    if coqui.level == logging.NOTSET and not log.isEnabledFor(logging.DEBUG):
        coqui.setLevel(logging.WARNING)


def _int16(samples: np.ndarray) -> np.ndarray:
    """Peak-normalized per sentence, as Piper does and as Coqui's own tts_to_file does (the same 0.01 floor),
    so that engines and models meet the mastering, and sit against the jingles, at the same level."""
    peak = max(0.01, float(np.max(np.abs(samples))))
    return (np.clip(samples / peak, -1.0, 1.0) * 32767).astype(np.int16)


def _digest(path: Path) -> str:
    """A checkpoint may be a folder (XTTS): then every file in it counts."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
        return hashlib.sha256("".join(f"{p.relative_to(path)}={fingerprint(p)};" for p in files).encode()).hexdigest()[:16]
    return fingerprint(path)


def _first_line(exc: BaseException) -> str:
    """Coqui's messages can run over lines and start with a ' [!]' marker; the first sentence says it."""
    text = str(exc).strip().strip("'\"") or type(exc).__name__
    line = re.sub(r"^\[!\]\s*", "", text.splitlines()[0].strip())
    if len(line) > 160:
        line = line.split(". ")[0] if ". " in line[:160] else line[:157] + "..."
    return line


def _root(exc: BaseException) -> BaseException:
    """The innermost cause: for a failed download, what the network said (no such host, refused)."""
    while (exc.__cause__ or exc.__context__) is not None:
        exc = exc.__cause__ or exc.__context__
    return exc


@contextmanager
def _silenced(name: str):
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        logger.setLevel(level)


def _text(options: dict[str, Any], key: str, where: str) -> str | None:
    value = options.get(key)
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise SettingsError(f"{where}: {key} must be a non-empty string, not {value!r}")
    return value


def _path(options: dict[str, Any], key: str, base: Path) -> Path | None:
    value = options.get(key)
    if value is None:
        return None
    path = Path(str(value)).expanduser()
    return path if path.is_absolute() else (base / path).resolve()


def _number(options: dict[str, Any], key: str, default: float, where: str) -> float:
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise SettingsError(f"{where}: {key} must be a positive number, not {value!r}")
    return float(value)


def _max_chars(options: dict[str, Any], where: str) -> int | None:
    value = options.get("max_chars")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 20):
        raise SettingsError(f"{where}: max_chars must be a whole number of at least 20, not {value!r}")
    return value

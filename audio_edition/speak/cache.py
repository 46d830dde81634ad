"""Synthesized speech on disk, keyed by what shapes the sound, so a rebuild re-synthesizes only what changed."""

from __future__ import annotations

import json
import logging
import os
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Speech:
    """A segment's audio and, per sentence, how many samples it took (for exact transcript times)."""

    samples: np.ndarray
    sample_rate: int
    sentence_samples: tuple[int, ...]


@dataclass
class SpeechCache:
    folder: Path
    hits: int = 0
    misses: int = 0

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.wav"

    def get(self, key: str) -> Speech | None:
        path = self._path(key)
        meta = path.with_suffix(".json")
        if not (path.exists() and meta.exists()):
            self.misses += 1
            return None
        try:
            with wave.open(str(path), "rb") as wav:
                rate = wav.getframerate()
                samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
            lengths = tuple(json.loads(meta.read_text())["sentence_samples"])
        except (OSError, EOFError, wave.Error, ValueError, KeyError) as exc:
            log.warning("ignoring a damaged cache entry %s (%s)", path.name, exc)
            self.misses += 1
            return None
        self.hits += 1
        return Speech(samples, rate, lengths)

    def put(self, key: str, speech: Speech, text: str) -> None:
        """Metadata first, audio last: an entry counts only once its WAV is whole."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {"sentence_samples": list(speech.sentence_samples), "text": text}
        _atomic_write(path.with_suffix(".json"), json.dumps(meta).encode())
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        os.close(fd)
        try:
            with wave.open(tmp, "wb") as wav:
                wav.setnchannels(1)
                wav.setsampwidth(2)
                wav.setframerate(speech.sample_rate)
                wav.writeframes(speech.samples.astype(np.int16).tobytes())
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def keys(self) -> set[str]:
        return {p.stem for p in self.folder.glob("*/*.wav")}

    def prune(self, keep: set[str]) -> int:
        """Delete entries no episode uses; returns how many went."""
        removed = 0
        for wav in self.folder.glob("*/*.wav"):
            if wav.stem not in keep:
                wav.unlink(missing_ok=True)
                wav.with_suffix(".json").unlink(missing_ok=True)
                removed += 1
        return removed


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)

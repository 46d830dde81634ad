"""Synthesized speech on disk, keyed by what shapes the sound, so a rebuild re-synthesizes only what changed.

An entry is `<key[:2]>/<key>.wav` (the speech) and `<key>.json` beside it (per-sentence sample counts
and the spoken text). The key is computed by `speak.plan` from the voice's identity (engine, engine
version, model, settings), the pause between sentences and the spoken text after normalization and
the lexicon: whatever changes the sound changes the key, and nothing else does.
"""

from __future__ import annotations

import io
import logging
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ..store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Speech:
    """A segment's audio and, per sentence, how many samples it took (for exact transcript times)."""

    samples: np.ndarray
    sample_rate: int
    sentence_samples: tuple[int, ...]


@dataclass
class SpeechCache:
    """The speech cache folder and what this run did with it: the counters a build reports."""

    folder: Path
    hits: int = 0
    """Entries read back (speech not synthesized again)."""
    misses: int = 0
    """Lookups that found nothing usable (missing or damaged)."""
    written: int = 0
    """Entries stored."""
    pruned: int = 0
    """Entries deleted by `prune`."""

    @property
    def store(self) -> Store:
        return Store(self.folder, ".wav")

    def has(self, key: str) -> bool:
        """Whether an entry looks whole, without reading it (and without counting a hit or a miss)."""
        path = self.store.path(key)
        return path.exists() and path.with_suffix(".json").exists()

    def get(self, key: str) -> Speech | None:
        record = self.store.read(key, "speech cache entry")
        speech = _speech(self.store.path(key), record) if record else None
        if speech is None:
            self.misses += 1
            return None
        self.hits += 1
        return speech

    def put(self, key: str, speech: Speech, text: str) -> None:
        audio = io.BytesIO()
        write_wav(audio, speech.samples, speech.sample_rate)
        self.store.write(key, {"sentence_samples": list(speech.sentence_samples), "text": text}, audio.getvalue())
        self.written += 1

    def keys(self) -> set[str]:
        return self.store.keys()

    def prune(self, keep: set[str], dry_run: bool = False) -> int:
        """Delete every entry not in `keep`, and what interrupted writes left; returns how many entries go."""
        removed = self.store.prune(keep, dry_run)
        self.pruned += 0 if dry_run else removed
        return removed


def _speech(path: Path, record: dict) -> Speech | None:
    """A cache entry's audio, if it holds the samples its record says its sentences took."""
    try:
        with wave.open(str(path), "rb") as wav:
            rate = wav.getframerate()
            samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
        lengths = tuple(int(n) for n in record["sentence_samples"])
        if sum(lengths) != len(samples):
            raise ValueError(f"{len(samples)} samples where the sentences add up to {sum(lengths)}")
    except (OSError, EOFError, wave.Error, ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring a damaged speech cache entry %s (%s)", path.name, exc)
        return None
    return Speech(samples, rate, lengths)


def write_wav(target: Path | BinaryIO, samples: np.ndarray, rate: int) -> None:
    """Mono 16-bit PCM as a WAV file (a path or an open binary file): how every WAV of the project is written."""
    with wave.open(str(target) if isinstance(target, Path) else target, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(np.asarray(samples).astype("<i2").tobytes())

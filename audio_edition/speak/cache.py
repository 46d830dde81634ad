"""Synthesized speech on disk, keyed by what shapes the sound, so a rebuild re-synthesizes only what changed.

An entry is `<key[:2]>/<key>.wav` (the speech) and `<key>.json` beside it (per-sentence sample counts
and the spoken text). The key is computed by `speak.plan` from the voice's identity (engine, engine
version, model, settings), the pause between sentences and the spoken text after normalization and
the lexicon: whatever changes the sound changes the key, and nothing else does.
"""

from __future__ import annotations

import io
import json
import logging
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .. import store
from ..files import atomic_write
from ..manifest import all_episodes

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Speech:
    """A segment's audio and, per sentence, how many samples it took (for exact transcript times)."""

    samples: np.ndarray
    sample_rate: int
    sentence_samples: tuple[int, ...]


@dataclass
class SpeechCache:
    """The cache folder and what this run did with it: the counters a build reports."""

    folder: Path
    hits: int = 0
    """Entries read back (speech not synthesized again)."""
    misses: int = 0
    """Lookups that found nothing usable (missing or damaged)."""
    written: int = 0
    """Entries stored."""
    pruned: int = 0
    """Entries deleted by `prune`."""

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.wav"

    def has(self, key: str) -> bool:
        """Whether an entry looks whole, without reading it (and without counting a hit or a miss)."""
        path = self._path(key)
        return path.exists() and path.with_suffix(".json").exists()

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
            if sum(lengths) != len(samples):
                raise ValueError(f"{len(samples)} samples where the sentences add up to {sum(lengths)}")
        except (OSError, EOFError, wave.Error, ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring a damaged cache entry %s (%s)", path.name, exc)
            self.misses += 1
            return None
        self.hits += 1
        return Speech(samples, rate, lengths)

    def put(self, key: str, speech: Speech, text: str) -> None:
        """Metadata first, audio last: an entry counts only once its WAV is whole."""
        path = self._path(key)
        meta = {"sentence_samples": list(speech.sentence_samples), "text": text}
        atomic_write(path.with_suffix(".json"), json.dumps(meta).encode(), durable=False)
        audio = io.BytesIO()
        write_wav(audio, speech.samples, speech.sample_rate)
        atomic_write(path, audio.getvalue(), durable=False)
        self.written += 1

    def keys(self) -> set[str]:
        return store.keys(self.folder, ".wav")

    def prune(self, keep: set[str], dry_run: bool = False) -> int:
        """Delete every entry not in `keep`, and what interrupted writes left; returns how many entries go."""
        removed = store.prune(self.folder, keep, ".wav", dry_run)
        self.pruned += 0 if dry_run else removed
        return removed


def write_wav(target: Path | BinaryIO, samples: np.ndarray, rate: int) -> None:
    """Mono 16-bit PCM as a WAV file (a path or an open binary file): how every WAV of the project is written."""
    with wave.open(str(target) if isinstance(target, Path) else target, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(np.asarray(samples).astype("<i2").tobytes())


def used_keys(episodes: Path) -> tuple[set[str], set[str]]:
    """What every built episode uses, as its manifest records it: its speech, and the blocks its MP3 is made of."""
    speech: set[str] = set()
    blocks: set[str] = set()
    for _, episode in all_episodes(episodes):
        speech.update(episode.record.speech.segments)
        blocks.update(episode.record.mastering.blocks)
    return speech, blocks

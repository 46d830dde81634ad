"""Stitch the intro, each segment with its pause, and the outro into the episode's MP3, mastered to the
loudness target: block by block (see `mp3`), so a rebuild encodes only the blocks whose speech changed.

Blocks are encoded as the speech arrives, at a gain known in advance (what the last build needed), and
measured as published: the integrated loudness is gated, as BS.1770 does, over the 400 ms windows of
every block, and the true peak is the loudest block's. Only if the episode misses the target are its
blocks encoded again, at the corrected gain, from the speech cache.

The timeline (cues and chapters) is computed from sample counts, the blocks' frames included, so the
transcript and chapters are exact, not estimated.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import subprocess
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import warnings

import numpy as np

with warnings.catch_warnings():
    # pydub looks for ffmpeg on PATH at import; we hand it the one we found instead.
    warnings.simplefilter("ignore", RuntimeWarning)
    from pydub import AudioSegment

from . import mp3, opus
from .files import digest
from .errors import AudioError
from .model import Chapter, Cue, Episode, Segment, TimedChapter, Timeline
from .speak import Sentence, SpeechCache, Spoken
from .progress import track

log = logging.getLogger(__name__)

FIRST_GUESS = -28.0
"""Loudness (LUFS) to expect of speech after the compressor, when no episode has been built yet: Piper's
peak-normalized sentences come out near -27.4, and the limiter and the encoder take about 0.6 more;
hibari's sentences are leveled to meet it (speak.hibari.PEAK_DB): the default profile's #66 needs 12.0 dB.
Only the starting point; the MP3 is measured and corrected either way."""

TOLERANCE = 0.5
"""How far (LU) the MP3's integrated loudness may be from the target before it is encoded again."""


@dataclass(frozen=True)
class Mastering:
    loudness: float
    """Integrated loudness target, LUFS."""
    true_peak: float
    """Ceiling, dBTP, before encoding; the MP3 may exceed it by at most half a dB (the encoder's overshoot)."""
    bitrate: int
    sample_rate: int


@dataclass(frozen=True)
class Mixed:
    """A mastered episode: where everything landed, and what the MP3 measures as published."""

    timeline: Timeline
    gain: float
    """dB applied after the compressor."""
    loudness: float
    true_peak: float
    encodes: int
    """1 when the gain guessed in advance was right; more when the MP3 had to be encoded again."""
    blocks: tuple[str, ...]
    """The block keys the MP3 is made of, in order (kept in the manifest, so pruning spares them)."""
    music: tuple[bool, ...]
    """Which of `blocks` are the intro's and the outro's music."""
    encoded: int
    """Blocks encoded by this build, in every pass."""
    reused: int
    """Blocks found in the block cache instead."""


def expected_gain(episodes: Iterable[Episode], number: int, loudness: float) -> float:
    """The gain this episode will need: what it took last time, else the newest episode's, else a first guess."""
    recorded = [(e.number == number, e.record.built, e.record.mastering) for e in episodes if e.record.mastering.encodes]
    if recorded:
        last = max(recorded, key=lambda r: (r[0], r[1]))[2]
        return last.gain + loudness - last.loudness
    return loudness - FIRST_GUESS


@dataclass(frozen=True)
class Part:
    """One block of the episode: where its sound comes from, and what the timeline needs of it."""

    source: str
    """The speech cache key of a segment's speech, or 'intro' / 'outro'."""
    rate: int
    pause: int
    """Samples of silence (at `rate`) after the sound, before the next block's encoder delay."""
    segment: Segment | None = None
    sentences: tuple[Sentence, ...] = ()
    sentence_samples: tuple[int, ...] = ()


def produce(spoken: Iterable[Spoken], chapters: tuple[Chapter, ...], intro: Path, outro: Path, out: Path,
            mastering: Mastering, gain: float, blocks: mp3.BlockCache, speech: SpeechCache,
            workers: int = 0, speaking: bool = True, alternate: opus.Coder | None = None) -> Mixed:
    """Stitch and master into `out`, encoding each block as its speech arrives (or reusing it), and with each
    block encoded its Opus block (`alternate`), from the same run's decoded samples.
    `speaking` says that the speech is being synthesized meanwhile: then one block at a time is encoded,
    since the cores are the voice's and one ffmpeg keeps up with it; else `workers` at once."""
    workers = workers if workers > 0 else (os.cpu_count() or 1)
    gain = round(gain, 2)  # as the manifest keeps it, so that the next build asks for the same blocks
    coder = _Coder(blocks, mastering, workers, 1 if speaking else workers, _files(intro, outro), alternate)
    try:
        parts, measured = coder.stream(_sources(spoken, mastering.sample_rate), gain, 0.0)
        heard, peak = integrated(m for b in measured for m in b.momentary), max(b.peak for b in measured)
        log.debug("mixed at %+.2f dB: the MP3 measures %.2f LUFS, %.2f dBTP", gain, heard, peak)
        gain, limit_down, encodes = gain, 0.0, 1
        while not _on_target(heard, peak, mastering, TOLERANCE) and encodes < 3:
            gain = round(gain + mastering.loudness - heard, 2)
            limit_down += max(0.0, peak - _ceiling(mastering) + 0.1)
            measured = coder.again(parts, SpeechCache(speech.folder), gain, limit_down)
            heard, peak = integrated(m for b in measured for m in b.momentary), max(b.peak for b in measured)
            encodes += 1
            log.debug("encoded again at %+.2f dB: %.2f LUFS, %.2f dBTP", gain, heard, peak)
    finally:
        coder.close()
    if not _on_target(heard, peak, mastering, 1.0):
        raise AudioError(f"could not master to {mastering.loudness} LUFS under {_ceiling(mastering)} dBTP "
                         f"(the MP3 measures {heard:.1f} LUFS, {peak:.1f} dBTP)")
    keys = [coder.key(part, gain, limit_down) for part in parts]
    mp3.join([(blocks.path(key), block) for key, block in zip(keys, measured)], out)
    timeline = _timeline(parts, measured, chapters, mastering.sample_rate)
    return Mixed(timeline, gain, round(heard, 2), round(peak, 2), encodes, tuple(keys),
                 tuple(part.segment is None for part in parts), coder.encoded, blocks.reused)


def integrated(momentary: Iterable[float]) -> float:
    """Integrated loudness (LUFS) from the loudness of 400 ms windows every 100 ms, gated as BS.1770
    says: windows below -70 LUFS are left out, then those 10 LU below the mean of the rest."""
    values = np.array([m for m in momentary if m > -70.0])
    if not len(values):
        return float("-inf")
    energy = 10 ** ((values + 0.691) / 10)
    relative = -0.691 + 10 * np.log10(energy.mean()) - 10
    return float(-0.691 + 10 * np.log10(energy[values > relative].mean()))


def _on_target(heard: float, peak: float, mastering: Mastering, tolerance: float) -> bool:
    return abs(heard - mastering.loudness) <= tolerance and peak <= _ceiling(mastering)


def _ceiling(mastering: Mastering) -> float:
    """The true peak the MP3 may measure: the ceiling plus half a dB for the encoder's overshoot."""
    return mastering.true_peak + 0.5


def _sources(spoken: Iterable[Spoken], out_rate: int) -> Iterator[tuple[Part, np.ndarray | None]]:
    """The episode's blocks in order, each with its sound (None for the intro and outro, which the coder
    reads itself). A segment's pause is shortened by the next block's encoder delay, so that the silence
    a listener hears between two segments is the pause the script asks for."""
    yield Part("intro", out_rate, 0), None
    for item in spoken:
        rate = item.speech.sample_rate
        wanted = int(rate * item.segment.pause_after)
        pause = max(0, wanted - round(mp3.PRIMING * rate / out_rate)) if wanted else 0
        samples = item.speech.samples.astype(np.int16, copy=False)
        yield Part(item.key, rate, pause, item.segment, item.sentences, item.speech.sentence_samples), samples
    yield Part("outro", out_rate, 0), None


class _Coder:
    """Encodes blocks on a few threads (each runs one ffmpeg), or finds them in the block cache."""

    def __init__(self, blocks: mp3.BlockCache, mastering: Mastering, workers: int, streaming: int,
                 files: dict[str, Path], alternate: opus.Coder | None) -> None:
        self.blocks, self.mastering, self.files, self.alternate = blocks, mastering, files, alternate
        self.ffmpeg = mp3.ffmpeg()
        stat = os.stat(self.ffmpeg)
        self.identity = f"{self.ffmpeg}:{stat.st_size}:{stat.st_mtime_ns}"
        self.digests = {name: digest(path) for name, path in files.items()}
        self.streaming = ThreadPoolExecutor(streaming, thread_name_prefix="encode")
        self.in_flight = 2 * streaming + 2
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="encode-all")
        self.encoded = 0

    def key(self, part: Part, gain: float, limit_down: float) -> str:
        m = self.mastering
        return mp3.block_key(self.digests.get(part.source, part.source), part.rate, part.pause,
                             self._chain(gain, limit_down), m.sample_rate, m.bitrate, mp3.LAME_QUALITY,
                             mp3.meter(m.sample_rate), self.identity)

    def _chain(self, gain: float, limit_down: float) -> str:
        # Limit with 1 dB kept for inter-sample peaks and the MP3 encoder's overshoot.
        limit = 10 ** ((self.mastering.true_peak - 1.0 - limit_down) / 20)
        return mp3.chain(gain, self.mastering.sample_rate, limit)

    def stream(self, sources: Iterable[tuple[Part, np.ndarray | None]], gain: float,
               limit_down: float) -> tuple[list[Part], list[mp3.Block]]:
        """Each block as its sound arrives: reused if the cache has it, else encoded while the next arrive."""
        parts: list[Part] = []
        done: list[mp3.Block | Future] = []
        running: deque[Future] = deque()
        for part, samples in sources:
            parts.append(part)
            key = self.key(part, gain, limit_down)
            found = self.blocks.get(key)
            if found:
                self.blocks.reused += 1
                done.append(found)
                continue
            job = self.streaming.submit(self._encode, key, part, samples, gain, limit_down)
            done.append(job)
            running.append(job)
            while len(running) > self.in_flight:  # a few blocks' sound in memory, never the episode's
                running.popleft().result()
        if len(parts) <= 2:
            raise AudioError("nothing to mix: the script has no speech")
        return parts, [item.result() if isinstance(item, Future) else item for item in done]

    def again(self, parts: list[Part], speech: SpeechCache, gain: float, limit_down: float) -> list[mp3.Block]:
        """Every block encoded anew at another gain, its sound read back from the speech cache by the
        thread that encodes it (so that only the blocks being encoded are in memory)."""
        def encode(part: Part) -> mp3.Block:
            samples = None
            if part.segment is not None:
                found = speech.get(part.source)
                if found is None:
                    raise AudioError(f"the speech of segment {part.segment.id} left the cache during the build")
                samples = found.samples
            return self._encode(self.key(part, gain, limit_down), part, samples, gain, limit_down)

        rate = self.mastering.sample_rate
        return list(track(self.pool.map(encode, parts), len(parts), "encoding", lambda block: block.samples / rate))

    def _encode(self, key: str, part: Part, samples: np.ndarray | None, gain: float, limit_down: float) -> mp3.Block:
        if samples is None:
            samples = _load(self.files[part.source], part.rate)
        pcm = np.concatenate([samples, np.zeros(part.pause, dtype=np.int16)]).astype("<i2").tobytes()
        m = self.mastering
        with self._alongside(key, part) as alongside:
            encoded = mp3.encode(self.ffmpeg, pcm, part.rate, self._chain(gain, limit_down), m.sample_rate, m.bitrate,
                                 alongside.branch if alongside else None)
            if alongside:
                alongside.keep(encoded.block.samples)
        self.blocks.put(key, encoded.data, encoded.block)
        self.encoded += 1
        return encoded.block

    def _alongside(self, key: str, part: Part) -> contextlib.AbstractContextManager[opus.Alongside | None]:
        """The Opus block to make in the block's ffmpeg run, if there is an Opus rendering."""
        if self.alternate is None:
            return contextlib.nullcontext()
        return self.alternate.alongside(key, part.segment is None, self.mastering.sample_rate)

    def close(self) -> None:
        for pool in (self.streaming, self.pool):
            pool.shutdown(wait=True, cancel_futures=True)


def _files(intro: Path, outro: Path) -> dict[str, Path]:
    for path in (intro, outro):
        if not path.is_file():
            raise AudioError(f"cannot read {path}: no such file")
    return {"intro": intro, "outro": outro}


def _timeline(parts: list[Part], measured: list[mp3.Block], chapters: tuple[Chapter, ...], out_rate: int) -> Timeline:
    """Where each sentence and chapter lands: a segment's speech starts after its block's encoder delay."""
    cues: list[Cue] = []
    starts: dict[int, float] = {0: 0.0}
    position = 0
    for part, block in zip(parts, measured):
        if part.segment is not None:
            onset = position + mp3.PRIMING
            starts.setdefault(part.segment.chapter, onset / out_rate)
            ratio, said = out_rate / part.rate, 0
            for sentence, length in zip(part.sentences, part.sentence_samples):
                start, said = onset + round(said * ratio), said + length
                cues.append(Cue(start / out_rate, (onset + round(said * ratio)) / out_rate, sentence.written,
                                part.segment.id))
        position += block.samples
    duration = position / out_rate
    return Timeline(duration, tuple(cues), _chapters(chapters, starts, duration))


def _load(path: Path, rate: int) -> np.ndarray:
    """Intro/outro audio in any format pydub reads, as mono int16 at the mix rate."""
    AudioSegment.converter = mp3.ffmpeg()
    try:
        sound = AudioSegment.from_file(path)
    except (OSError, IndexError, Exception) as exc:  # pydub raises CouldntDecodeError and friends
        raise AudioError(f"cannot read {path}: {exc}") from None
    sound = sound.set_channels(1).set_sample_width(2).set_frame_rate(rate)
    return np.frombuffer(sound.raw_data, dtype=np.int16)


def _chapters(chapters: tuple[Chapter, ...], starts: dict[int, float], duration: float) -> tuple[TimedChapter, ...]:
    present = sorted((start, index) for index, start in starts.items())
    timed = []
    for n, (start, index) in enumerate(present):
        end = present[n + 1][0] if n + 1 < len(present) else duration
        timed.append(TimedChapter(chapters[index], round(start, 3), round(end, 3)))
    return tuple(timed)


def measure(path: Path, true_peak: bool = True, before: str = "") -> tuple[float, float]:
    """Integrated loudness (LUFS) and true peak (dBTP) of an audio file, as a listener's player meets it."""
    chain = (before + "," if before else "") + "ebur128=framelog=verbose" + (":peak=true" if true_peak else "")
    result = subprocess.run([mp3.ffmpeg(), "-hide_banner", "-nostdin", "-i", str(path), "-af", chain, "-f", "null", "-"],
                            capture_output=True, text=True)
    if result.returncode != 0:
        tail = result.stderr.strip().splitlines()[-1:] or ["no output"]
        raise AudioError(f"ffmpeg failed: {tail[0]}")
    loudness = _loudness(result.stderr, str(path))
    return loudness, (_peak(result.stderr) if true_peak else float("nan"))


def _loudness(output: str, what: str) -> float:
    found = re.findall(r"I:\s+(-?[\d.]+|-inf) LUFS", output)
    if not found:
        raise AudioError(f"ffmpeg did not report the loudness of {what}")
    return float(found[-1])


def _peak(output: str) -> float:
    found = re.findall(r"Peak:\s+(-?[\d.]+|-inf) dBFS", output)
    if not found:
        raise AudioError("ffmpeg did not report the true peak")
    return float(found[-1])

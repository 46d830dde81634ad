"""Speech: a Script's segments become audio, sentence by sentence, through the profile's voices and the cache."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import threading
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from .. import corrections as corrections_stage
from ..corrections import Corrections
from ..model import Script, Segment
from .cache import Speech, SpeechCache, used_keys
from .lexicon import Lexicon
from .normalize import normalize, sentences
from .voice import Profile, Voice, load_profile

log = logging.getLogger(__name__)

__all__ = [
    "Line", "Spoken", "Lexicon", "Profile", "SpeechCache", "load_profile", "plan", "synthesize",
    "spoken_text", "tune", "used_keys",
]


@dataclass(frozen=True)
class Line:
    """One sentence: as written (for the transcript) and as spoken (for the voice)."""

    written: str
    spoken: str


@dataclass(frozen=True)
class Planned:
    segment: Segment
    lines: tuple[Line, ...]
    key: str
    corrected: tuple[int, ...] = ()
    """The editor's corrections (indexes into the issue's Corrections) that changed what this segment says."""

    @property
    def text(self) -> str:
        return " ".join(line.spoken for line in self.lines)


@dataclass(frozen=True)
class Spoken:
    segment: Segment
    lines: tuple[Line, ...]
    speech: Speech
    key: str
    cached: bool


def spoken_lines(text: str, lexicon: Lexicon) -> tuple[Line, ...]:
    lines = []
    for sentence in sentences(text):
        spoken = lexicon.apply(normalize(sentence))
        if spoken:
            lines.append(Line(sentence, spoken))
    return tuple(lines)


def spoken_text(segment: Segment, lexicon: Lexicon) -> str:
    return " ".join(line.spoken for line in spoken_lines(segment.text, lexicon))


def plan(script: Script, profile: Profile, lexicon: Lexicon, corrections: Corrections = Corrections()) -> list[Planned]:
    """What each segment will say and its cache key; no synthesis yet, so it costs milliseconds.

    The editor's corrections come last, after normalization and the lexicon, because they are written
    against the spoken text as `review` shows it. A segment a correction empties is not spoken."""
    planned = []
    for segment in script.segments:
        lines = spoken_lines(segment.text, lexicon)
        lines, used = _correct(lines, corrections)
        if used and not lines:
            continue
        voice = profile.voice(segment.role)
        # The pause between sentences shapes only a segment that has more than one.
        pause = [f"silence={profile.sentence_silence}"] if len(lines) > 1 else []
        material = "\n".join([voice.identity, *pause] + [l.spoken for l in lines])
        planned.append(Planned(segment, lines, hashlib.sha256(material.encode()).hexdigest(), tuple(sorted(used))))
    return planned


def _correct(lines: tuple[Line, ...], corrections: Corrections) -> tuple[tuple[Line, ...], set[int]]:
    """Corrections apply to the segment's whole spoken text (a `find` may cross sentences); a corrected
    segment is split into sentences again, and the transcript shows what is now said, except for
    sentences the correction left as they were."""
    if not corrections:
        return lines, set()
    text, used = corrections_stage.apply(" ".join(line.spoken for line in lines), corrections)
    if not used:
        return lines, used
    kept = {line.spoken: line.written for line in lines}
    return tuple(Line(kept.get(sentence, sentence), sentence) for sentence in sentences(text)), used


LOOKAHEAD = 16
"""Segments read or in synthesis ahead of the one being yielded: enough to keep every thread busy."""

FEW = 6
"""Fewer sentences to synthesize than this many per core are spoken one at a time, on the engine's own threads."""

CHARACTERS_AT_ONCE = 800
"""Most characters of text in synthesis at the same time; one sentence of any length may always run
alone. An inference's working memory grows with its sentence (about 1.3 MB a character for Piper's
medium voices: 650 MB for a 30-second sentence), so two long sentences never run together. Measured
on #66 (whose longest sentences have 492 and 439 characters), engine alone: 500 characters 49 s and
0.97 GB; 800, 41 s and 0.98 GB (two 400-character sentences may pair); no limit, 44 s and 1.02 GB."""


def synthesize(planned: list[Planned], profile: Profile, cache: SpeechCache, threads: int = 0) -> Iterator[Spoken]:
    """Yield each segment's speech in order: from the cache when it is there, else spoken now.

    Sentences are spoken by `threads` threads at once (0: one per core), all sharing one engine
    session (see `tune`); segments come out in script order whatever order they finish in, and only
    a few segments ahead of the one being yielded are in memory. A build that finds everything in
    the cache never touches the engines.
    """
    if not _all_piper(profile):
        yield from _one_by_one(planned, profile, cache)
        return
    todo = _to_speak(planned, cache)
    workers = threads if threads > 0 else (os.cpu_count() or 1)
    few = len(todo) < FEW * workers
    if few:
        workers = 1  # a handful of sentences: one at a time, each on all the engine's threads, is quicker
    if todo:
        tune(profile, 1 if workers > 1 else 0)
    queue: deque[tuple[Planned, Speech | None, list[Future]]] = deque()
    pool = ThreadPoolExecutor(workers, thread_name_prefix="speak")
    budget = _Budget(CHARACTERS_AT_ONCE)
    early = _start(todo, planned, profile, pool, budget, every=few)
    underway: set[str] = set()
    try:
        for index, item in enumerate(planned):
            speech, jobs = None, []
            if item.key not in underway:  # else said earlier in the script: read back once that is stored
                speech = cache.get(item.key)
            if speech is None and item.key not in underway:
                underway.add(item.key)
                voice = profile.voice(item.segment.role)
                jobs = [early.pop((index, n), None) or pool.submit(_say, voice, line.spoken, budget)
                        for n, line in enumerate(item.lines)]
            queue.append((item, speech, jobs))
            while queue:
                if _ready(queue[0]):
                    yield _finish(queue.popleft(), profile, cache)
                elif len(queue) > LOOKAHEAD or len(running := _running(queue)) > 2 * workers:
                    wait(running, return_when=FIRST_COMPLETED)
                else:
                    break
        while queue:
            yield _finish(queue.popleft(), profile, cache)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _all_piper(profile: Profile) -> bool:
    """Only Piper voices are known to speak several sentences at once safely (another engine may keep state)."""
    from .piper import PiperVoice

    return all(isinstance(voice, PiperVoice) for voice in profile.voices.values())


def _one_by_one(planned: list[Planned], profile: Profile, cache: SpeechCache) -> Iterator[Spoken]:
    """Each segment in turn, in this thread: for engines other than Piper."""
    for item in planned:
        speech = cache.get(item.key)
        if speech is None:
            voice = profile.voice(item.segment.role)
            sentences = [voice.speak(line.spoken) for line in item.lines]
            speech = _assemble(sentences, voice.sample_rate, profile.sentence_silence)
            cache.put(item.key, speech, item.text)
            yield Spoken(item.segment, item.lines, speech, item.key, False)
        else:
            yield Spoken(item.segment, item.lines, speech, item.key, True)


def _to_speak(planned: list[Planned], cache: SpeechCache) -> list[tuple[int, int, int]]:
    """(length, segment, sentence) of every sentence not in the cache; a segment said twice, once."""
    first = {item.key: index for index, item in reversed(list(enumerate(planned)))}
    return [(len(line.spoken), index, n) for key, index in first.items() if not cache.has(key)
            for n, line in enumerate(planned[index].lines)]


def _start(todo: list[tuple[int, int, int]], planned: list[Planned], profile: Profile, pool: ThreadPoolExecutor,
           budget: "_Budget", every: bool) -> dict[tuple[int, int], Future]:
    """Start on the longest sentence to synthesize, or on all of them if they are few.

    The engine's memory arena then grows once, to the size the longest sentence needs, and later ones
    fit in it (grown piecemeal it ends up fragmented, and larger). A few sentences (an edited item)
    are all spoken before anything is yielded: nothing else then competes with the engine for the
    cores, and the encoder that stitching feeds gets them to itself afterwards.
    """
    chosen = sorted(todo, reverse=True) if every else sorted(todo)[-1:]
    started = {(index, n): pool.submit(_say, profile.voice(planned[index].segment.role),
                                       planned[index].lines[n].spoken, budget)
               for _, index, n in chosen}
    if every:
        wait(started.values())
        log.debug("spoke the %d sentences to synthesize", len(started))
    return started


def _ready(entry: tuple[Planned, Speech | None, list[Future]]) -> bool:
    return all(job.done() for job in entry[2])


def _running(queue: deque) -> list[Future]:
    return [job for _, _, jobs in queue for job in jobs if not job.done()]


def _finish(entry: tuple[Planned, Speech | None, list[Future]], profile: Profile, cache: SpeechCache) -> Spoken:
    item, speech, jobs = entry
    if speech is None and not jobs:
        speech = cache.get(item.key)
    if speech is not None:
        return Spoken(item.segment, item.lines, speech, item.key, True)
    voice = profile.voice(item.segment.role)
    results = [job.result() for job in jobs] or [voice.speak(line.spoken) for line in item.lines]
    speech = _assemble(results, voice.sample_rate, profile.sentence_silence)
    cache.put(item.key, speech, item.text)
    return Spoken(item.segment, item.lines, speech, item.key, False)


class _Budget:
    """A weighted semaphore for characters in synthesis at once: first come, first served (a long sentence
    is not overtaken by short ones forever), and a sentence of any length may run alone."""

    def __init__(self, limit: int) -> None:
        self.limit, self.taken = limit, 0
        self.waiting: deque[object] = deque()
        self.changed = threading.Condition()

    def take(self, amount: int) -> None:
        ticket = object()
        with self.changed:
            self.waiting.append(ticket)
            self.changed.wait_for(
                lambda: self.waiting[0] is ticket and (not self.taken or self.taken + amount <= self.limit))
            self.waiting.popleft()
            self.taken += amount
            self.changed.notify_all()

    def give(self, amount: int) -> None:
        with self.changed:
            self.taken -= amount
            self.changed.notify_all()


def _say(voice: Voice, text: str, budget: _Budget) -> np.ndarray:
    budget.take(len(text))
    try:
        return voice.speak(text)
    finally:
        budget.give(len(text))


def _assemble(sentences: list[np.ndarray], rate: int, silence: float) -> Speech:
    """A segment's sentences with the profile's silence between them, and where each one ends."""
    gap = np.zeros(int(rate * silence), dtype=np.int16)
    pieces, lengths = [], []
    for index, audio in enumerate(sentences):
        if index < len(sentences) - 1:
            audio = np.concatenate([audio, gap])
        pieces.append(audio)
        lengths.append(len(audio))
    samples = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int16)
    return Speech(samples, rate, tuple(lengths))


def tune(profile: Profile, threads: int = 1) -> None:
    """Make the profile's Piper voices share one ONNX session per model file, with `threads` intra-op threads.

    The roles of a profile differ only in synthesis settings, which Piper takes per call, so one
    session serves them all: one copy of the weights and one memory arena. `synthesize` runs one
    inference per core at once on that session, each on one thread (`threads=1`): measured on two
    cores, that speaks an issue about 10% faster than one inference at a time on onnxruntime's own
    threads, and, unlike worker processes, keeps one copy of the model and one memory arena (~650 MB
    for a 30-second sentence; `engine` keeps it from growing further). `threads=0` is onnxruntime's
    default. Sound and cache keys are unchanged; other engines are left as they
    are. Calling it again with the same `threads` changes nothing.
    """
    _share_engines(profile, threads)
    _give_back_memory()


def _share_engines(profile: Profile, threads: int) -> None:
    from .piper import PiperVoice

    engines: dict[tuple[str, str], object] = {}
    for role, voice in list(profile.voices.items()):
        if not isinstance(voice, PiperVoice):
            continue
        where = (str(voice.model), str(voice.config))
        shared = engines.get(where) or _shared_engine(voice, threads)
        engines[where] = shared
        if voice._voice is not shared:
            profile.voices[role] = dataclasses.replace(voice, _voice=shared)


def _shared_engine(voice, threads: int):
    """The voice's own engine if it already runs as asked, else a new one (see `engine`)."""
    from . import engine

    return voice._voice if engine.suits(voice._voice, threads) else engine.load(voice.model, voice.config, threads)


def _give_back_memory() -> None:
    """Hand the replaced sessions' memory back to the system, and keep audio buffers from piling up.

    glibc keeps freed memory for reuse: ~150 MB of replaced sessions, and, as sentences of every length
    come and go in several threads, a growing heap of audio buffers (its threshold for giving large
    blocks their own mappings rises with the largest block freed). A fixed 1 MB threshold returns
    every buffer larger than that as soon as it is freed: 50-100 MB less at the peak, same speed.
    """
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
        libc.mallopt(_M_MMAP_THRESHOLD, 1 << 20)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


_M_MMAP_THRESHOLD = -3

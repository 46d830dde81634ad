"""Synthesis: planned segments become speech, in script order, sentences spoken side by side on the cores."""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from ..model import Segment
from .cache import Speech, SpeechCache
from .plan import Planned, Sentence
from .voice import Profile, Speaker

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Spoken:
    segment: Segment
    sentences: tuple[Sentence, ...]
    speech: Speech
    key: str
    cached: bool



LOOKAHEAD = 16
"""Segments read or in synthesis ahead of the one being yielded: enough to keep every thread busy."""

FEW = 6
"""Fewer sentences to synthesize than this many per core are spoken one at a time, on the engine's own threads."""

MEMORY_AT_ONCE = 300
"""Most megabytes of working memory in synthesis at the same time; one sentence of any length may always
run alone. An inference's working memory grows with its text, by its engine's `memory` figure (Piper's
medium voices about 1.3 MB a character, counted on the longest part Piper speaks a sentence in, at most
piper.MAX_CHARS; hibari's 0.2, and it cuts a sentence of more than 400 phonemes into pieces), so two long
Piper parts never run together, while hibari's sentences run beside all but the longest. Measured on #66
with the default profile (2 December 2026): synthesis alone peaked at 600 MB with 300 and Piper's parts
(at 730 to 770 MB with 400 and whole sentences), in the same CPU time and 0.5 to 2 s more wall time."""


def synthesize(planned: list[Planned], profile: Profile, cache: SpeechCache, threads: int = 0) -> Iterator[Spoken]:
    """Yield each segment's speech in order: from the cache when it is there, else spoken now.

    Sentences are spoken by `threads` threads at once (0: one per core), all sharing one engine
    session (see `tune`); segments come out in script order whatever order they finish in, and only
    a few segments ahead of the one being yielded are in memory. A build that finds everything in
    the cache never touches the engines.
    """
    if not profile.parallel:
        yield from _one_by_one(planned, profile, cache)
        return
    todo = _to_speak(planned, cache)
    workers = threads if threads > 0 else (os.cpu_count() or 1)
    few = len(todo) < FEW * workers
    if few:
        workers = 1  # a handful of sentences: one at a time, each on all the engine's threads, is quicker
    if todo:
        profile = tune(profile, 1 if workers > 1 else 0)
    queue: deque[tuple[Planned, Speech | None, list[Future]]] = deque()
    pool = ThreadPoolExecutor(workers, thread_name_prefix="speak")
    budget = _Budget(MEMORY_AT_ONCE)
    early = _start(todo, planned, profile, pool, budget, every=few)
    underway: set[str] = set()
    try:
        for index, item in enumerate(planned):
            speech, jobs = None, []
            if item.key not in underway:  # else said earlier in the script: read back once that is stored
                speech = cache.get(item.key)
            if speech is None and item.key not in underway:
                underway.add(item.key)
                speaker = profile.speaker(item.segment.role)
                jobs = [early.pop((index, n), None)
                        or pool.submit(_say, speaker, sentence.spoken, budget, profile.memory(item.segment.role))
                        for n, sentence in enumerate(item.sentences)]
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


def _one_by_one(planned: list[Planned], profile: Profile, cache: SpeechCache) -> Iterator[Spoken]:
    """Each segment in turn, in this thread: for engines that may keep state between sentences (Coqui)."""
    for item in planned:
        speech = cache.get(item.key)
        if speech is None:
            speaker = profile.speaker(item.segment.role)
            said = [speaker.speak(sentence.spoken) for sentence in item.sentences]
            speech = _assemble(said, speaker.sample_rate, profile.sentence_silence)
            cache.put(item.key, speech, item.text)
            yield Spoken(item.segment, item.sentences, speech, item.key, False)
        else:
            yield Spoken(item.segment, item.sentences, speech, item.key, True)


def _to_speak(planned: list[Planned], cache: SpeechCache) -> list[tuple[int, int, int]]:
    """(length, segment, sentence) of every sentence not in the cache; a segment said twice, once."""
    first = {item.key: index for index, item in reversed(list(enumerate(planned)))}
    return [(len(sentence.spoken), index, n) for key, index in first.items() if not cache.has(key)
            for n, sentence in enumerate(planned[index].sentences)]


def _start(todo: list[tuple[int, int, int]], planned: list[Planned], profile: Profile, pool: ThreadPoolExecutor,
           budget: "_Budget", every: bool) -> dict[tuple[int, int], Future]:
    """Start on each engine's longest sentence to synthesize, or on all of them if they are few.

    Each engine's memory arena then grows once, to the size its longest sentence needs, and later ones
    fit in it (grown piecemeal it ends up fragmented, and larger: on #66, starting on hibari's longest
    sentence alone left Piper's arena 150 MB larger). A few sentences (an edited item) are all spoken
    before anything is yielded: nothing else then competes with the engine for the cores, and the
    encoder that stitching feeds gets them to itself afterwards.
    """
    longest = {profile.engine(planned[index].segment.role): (length, index, n) for length, index, n in sorted(todo)}
    chosen = sorted(todo, reverse=True) if every else sorted(longest.values(), reverse=True)
    started = {(index, n): pool.submit(_say, profile.speaker(planned[index].segment.role),
                                       planned[index].sentences[n].spoken, budget,
                                       profile.memory(planned[index].segment.role))
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
        return Spoken(item.segment, item.sentences, speech, item.key, True)
    speaker = profile.speaker(item.segment.role)
    results = [job.result() for job in jobs] or [speaker.speak(sentence.spoken) for sentence in item.sentences]
    speech = _assemble(results, speaker.sample_rate, profile.sentence_silence)
    cache.put(item.key, speech, item.text)
    return Spoken(item.segment, item.sentences, speech, item.key, False)


class _Budget:
    """A weighted semaphore for megabytes of working memory in synthesis at once: first come, first served (a long sentence
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


def _say(speaker: Speaker, text: str, budget: _Budget, per_character: float) -> np.ndarray:
    """One sentence, once the memory it needs (`per_character` MB for each character of its longest inference) is free."""
    cost = round(_inference_length(speaker, text) * per_character)
    budget.take(cost)
    try:
        return speaker.speak(text)
    finally:
        budget.give(cost)


def _inference_length(speaker: Speaker, text: str) -> int:
    """Characters of the longest inference that speaking `text` takes: a speaker that speaks a long sentence clause by
    clause (PiperSpeaker.clauses) holds one clause's working memory at a time."""
    clauses = getattr(speaker, "clauses", None)
    return max(map(len, clauses(text)), default=0) if clauses else len(text)


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


def tune(profile: Profile, threads: int = 1) -> Profile:
    """The profile with its Piper voices sharing one ONNX session per model file, with `threads` intra-op threads.

    The roles of a profile differ only in synthesis settings, which Piper takes per call, so one
    session serves them all: one copy of the weights and one memory arena. `synthesize` runs one
    inference per core at once on that session, each on one thread (`threads=1`): measured on two
    cores, that speaks an issue about 10% faster than one inference at a time on onnxruntime's own
    threads, and, unlike worker processes, keeps one copy of the model and one memory arena (~650 MB
    for a 30-second sentence; `engine` keeps it from growing further). `threads=0` is onnxruntime's
    default. Sound and cache keys are unchanged; other engines are left as they are. A voice whose
    engine already runs as asked keeps it.
    """
    from .piper import PiperSpeaker

    engines: dict[tuple[str, str], object] = {}
    speakers = dict(profile.speakers)
    for role, speaker in profile.speakers.items():
        if isinstance(speaker, PiperSpeaker):
            where = (str(speaker.model), str(speaker.config))
            engines[where] = engines.get(where) or speaker.engine_for(threads)
            speakers[role] = speaker.on(engines[where])
    _give_back_memory()
    return dataclasses.replace(profile, speakers=speakers)


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

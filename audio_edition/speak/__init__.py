"""Speech: a Script's segments become audio, sentence by sentence, through the profile's voices and the cache."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from ..model import Script, Segment
from .cache import Speech, SpeechCache
from .lexicon import Lexicon
from .normalize import normalize, sentences
from .voice import Profile, Voice, load_profile

log = logging.getLogger(__name__)

__all__ = ["Spoken", "Lexicon", "Profile", "SpeechCache", "load_profile", "plan", "synthesize", "spoken_text"]


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


def plan(script: Script, profile: Profile, lexicon: Lexicon) -> list[Planned]:
    """What each segment will say and its cache key; no synthesis yet, so it costs milliseconds."""
    planned = []
    for segment in script.segments:
        lines = spoken_lines(segment.text, lexicon)
        voice = profile.voice(segment.role)
        material = "\n".join([voice.identity, f"silence={profile.sentence_silence}"] + [l.spoken for l in lines])
        planned.append(Planned(segment, lines, hashlib.sha256(material.encode()).hexdigest()))
    return planned


def synthesize(planned: list[Planned], profile: Profile, cache: SpeechCache) -> Iterator[Spoken]:
    """Yield each segment's speech in order, from the cache when it is there."""
    for item in planned:
        speech = cache.get(item.key)
        cached = speech is not None
        if speech is None:
            speech = _speak(item, profile.voice(item.segment.role), profile.sentence_silence)
            cache.put(item.key, speech, " ".join(l.spoken for l in item.lines))
        yield Spoken(item.segment, item.lines, speech, item.key, cached)


def _speak(item: Planned, voice: Voice, silence: float) -> Speech:
    gap = np.zeros(int(voice.sample_rate * silence), dtype=np.int16)
    pieces, lengths = [], []
    for index, line in enumerate(item.lines):
        audio = voice.speak(line.spoken)
        if index < len(item.lines) - 1:
            audio = np.concatenate([audio, gap])
        pieces.append(audio)
        lengths.append(len(audio))
    samples = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int16)
    return Speech(samples, voice.sample_rate, tuple(lengths))

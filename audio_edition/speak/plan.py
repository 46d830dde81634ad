"""What each segment will say, sentence by sentence, and its speech cache key: planned before any synthesis."""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from typing import Iterator

from .. import corrections as corrections_stage
from ..corrections import Corrections
from ..model import Script, Segment
from .lexicon import Lexicon
from .normalize import normalize, sentences
from .voice import Profile

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sentence:
    """One sentence: as written (for the transcript) and as spoken (for the voice)."""

    written: str
    spoken: str


@dataclass(frozen=True)
class Planned:
    segment: Segment
    sentences: tuple[Sentence, ...]
    key: str
    corrected: tuple[int, ...] = ()
    """The editor's corrections (indexes into the issue's Corrections) that changed what this segment says."""

    @property
    def text(self) -> str:
        return " ".join(sentence.spoken for sentence in self.sentences)


def spoken_sentences(text: str, lexicon: Lexicon, phonemes: str | None = "espeak",
                     unmet: set[str] | None = None) -> tuple[Sentence, ...]:
    """A text's sentences, each as written and as the voice will say it (normalized, then the lexicon in the
    form the voice's engine takes: see Lexicon.apply)."""
    found = []
    for written in sentences(text):
        spoken = lexicon.apply(normalize(written), phonemes, unmet)
        if spoken:
            found.append(Sentence(written, spoken))
    return tuple(found)


def spoken_text(segment: Segment, lexicon: Lexicon, phonemes: str | None = "espeak") -> str:
    return " ".join(sentence.spoken for sentence in spoken_sentences(segment.text, lexicon, phonemes))


def plan(script: Script, profile: Profile, lexicon: Lexicon, corrections: Corrections = Corrections()) -> list[Planned]:
    """What each segment will say and its cache key; no synthesis yet, so it costs milliseconds.

    The editor's corrections come last, after normalization and the lexicon, because they are written
    against the spoken text as `review` shows it. A segment a correction empties is not spoken."""
    planned = []
    unmet: dict[str, set[str]] = {}
    for segment in script.segments:
        engine = profile.engine(segment.role)
        said = spoken_sentences(segment.text, lexicon, profile.phonemes(segment.role), unmet.setdefault(engine, set()))
        said, used = _correct(said, corrections)
        if used and not said:
            continue
        speaker = profile.speaker(segment.role)
        # The pause between sentences shapes only a segment that has more than one.
        pause = [f"silence={profile.sentence_silence}"] if len(said) > 1 else []
        material = "\n".join([speaker.identity, *pause] + [sentence.spoken for sentence in said])
        planned.append(Planned(segment, said, hashlib.sha256(material.encode()).hexdigest(), tuple(sorted(used))))
    _report_unmet(unmet, lexicon)
    return planned


def _report_unmet(unmet: dict[str, set[str]], lexicon: Lexicon) -> None:
    """One line naming the lexicon entries an engine of the profile said otherwise than the lexicon says."""
    said = {word: entry.respell for word, entry in lexicon.entries}
    parts = [f"{engine}: " + ", ".join(f"{word} ({'as ' + repr(said[word]) if said[word] else 'as written'})"
                                      for word in sorted(words))
             for engine, words in sorted(unmet.items()) if words]
    if parts:
        log.info("lexicon entries these engines cannot say exactly, said otherwise: %s", "; ".join(parts))


def _correct(said: tuple[Sentence, ...], corrections: Corrections) -> tuple[tuple[Sentence, ...], set[int]]:
    """Corrections apply to the segment's whole spoken text (a `find` may cross sentences); a corrected
    segment is split into sentences again, and the transcript shows what is now said, except for
    sentences the correction left as they were."""
    if not corrections:
        return said, set()
    text, used = corrections_stage.apply(" ".join(sentence.spoken for sentence in said), corrections)
    if not used:
        return said, used
    kept = {sentence.spoken: sentence.written for sentence in said}
    return tuple(Sentence(kept.get(spoken, spoken), spoken) for spoken in sentences(text)), used


def split_text(text: str, limit: int | None) -> list[str]:
    """Pieces of at most `limit` characters for an engine that speaks a long sentence in parts (Coqui's
    `max_chars`, Piper's MAX_CHARS), each as long as it may be: cut at clause boundaries (after a comma,
    semicolon, colon or dash) if possible, else before a word that starts a clause, else between words."""
    text = " ".join(text.split())
    if not text:
        return []
    if limit is None or len(text) <= limit:
        return [text]
    chunks: list[str] = []
    current = ""
    for piece in _pieces(text, limit):
        joined = f"{current} {piece}" if current else piece
        if len(joined) <= limit or not current:
            current = joined
        else:
            chunks.append(current)
            current = piece
    return chunks + [current]


_CLAUSE = re.compile(r"(?<=[,;:\u2014\u2013)])\s+|(?<=\s-)\s+|\s+(?=\()")
_BEFORE = (frozenset("and but or nor yet because since although though while whereas which who whom whose that what "
                     "where when whether how why if unless until rather".split()),
           frozenset("for with from into about over through without between against after before during by "
                     "to of in on at than like".split()))
"""Words before which a clause too long to speak at once is cut (`_cut`), best first: those that start a clause,
then those that start a phrase."""


def _pieces(text: str, limit: int) -> Iterator[str]:
    """Clauses, and a clause too long on its own in parts (`_cut`)."""
    for clause in _CLAUSE.split(text):
        while len(clause) > limit:
            cut = _cut(clause, limit)
            yield clause[:cut]
            clause = clause[cut + 1:]
        if clause:
            yield clause


def _cut(clause: str, limit: int) -> int:
    """Where a clause longer than `limit` is cut (a space's index): before the last word within the limit that
    starts a clause ("which", "because", "and"...), else a phrase ("for", "with"...), if it leaves a third of the
    limit or more in front; else at the last space within it; a word longer than the limit is kept whole."""
    spaces = [n for n, char in enumerate(clause[:limit + 1]) if char == " "]
    if not spaces:
        after = clause.find(" ", limit)
        return after if after > 0 else len(clause)
    for words in _BEFORE:
        before = [n for n in spaces if n >= limit // 3 and clause[n + 1:].split(" ", 1)[0].lower() in words]
        if before:
            cut = before[-1]
            earlier = clause.rfind(" ", 0, cut)  # "for | what": the phrase starts a word earlier, "| for what"
            return earlier if earlier >= limit // 3 and clause[earlier + 1:cut].lower() in _BEFORE[1] else cut
    return spaces[-1]

"""The episode's timeline as the files podcast apps read: the transcript (WebVTT, SRT and Podcasting 2.0 JSON),
JSON chapters, and the soundbite apps offer as a preview."""

from __future__ import annotations

import json
import logging

from .model import Soundbite, Timeline
from .urls import publishable

log = logging.getLogger(__name__)


def _clock(seconds: float) -> str:
    millis = int(round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def webvtt(timeline: Timeline) -> str:
    """One cue per sentence, as written (the transcript shows '$40,000', the voice says the words)."""
    lines = ["WEBVTT", ""]
    for n, cue in enumerate(timeline.cues, 1):
        # WebVTT cue text is markup: '&' and '<' must be escaped, and '-->' never appear; and it is one
        # line, since a blank line would end the cue and let the text that follows pose as another.
        text = " ".join(cue.text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").splitlines())
        lines += [str(n), f"{_clock(cue.start)} --> {_clock(cue.end)}", text, ""]
    return "\n".join(lines)


def chapters_json(timeline: Timeline, title: str) -> str:
    """https://github.com/Podcastindex-org/podcast-namespace/blob/main/chapters/jsonChapters.md
    A chapter's `url` is there only when `urls.publishable` accepts its link."""
    chapters = []
    for timed in timeline.chapters:
        entry: dict = {"startTime": round(timed.start, 3), "endTime": round(timed.end, 3), "title": timed.chapter.title}
        if url := publishable(timed.chapter.url):
            entry["url"] = url
        if not timed.chapter.toc:
            entry["toc"] = False
        chapters.append(entry)
    return json.dumps({"version": "1.2.0", "title": title, "chapters": chapters}, indent=2, ensure_ascii=False) + "\n"


def transcript_json(timeline: Timeline) -> str:
    """The Podcasting 2.0 JSON transcript: a segment per sentence, with its exact start and end.
    https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/examples/transcripts/transcripts.md"""
    segments = [{"startTime": round(cue.start, 3), "endTime": round(cue.end, 3), "body": " ".join(cue.text.split())}
                for cue in timeline.cues]
    return json.dumps({"version": "1.0.0", "segments": segments}, indent=2, ensure_ascii=False) + "\n"


SRT_LINE = 32
"""Characters in a line of an SRT card, and two lines a card, as the Podcasting 2.0 transcript guide asks."""


def srt(timeline: Timeline) -> str:
    """SRT captions: each sentence in cards of at most two lines of 32 characters. A sentence's own start and
    end are exact; a card inside a long sentence is timed by its share of the sentence's characters."""
    blocks, n = [], 0
    for cue in timeline.cues:
        cards = _cards(" ".join(cue.text.replace("-->", "->").split()))
        total = sum(len(card) for card in cards) or 1
        start, said = cue.start, 0
        for card in cards:
            said += len(card)
            end = cue.start + (cue.end - cue.start) * said / total
            n += 1
            blocks.append(f"{n}\n{_srt_clock(start)} --> {_srt_clock(end)}\n{card}\n")
            start = end
    return "\n".join(blocks)


def _cards(text: str) -> list[str]:
    """The sentence in lines of at most SRT_LINE characters (a longer word stands alone), two lines a card."""
    lines: list[str] = []
    for word in text.split(" "):
        if lines and len(lines[-1]) + 1 + len(word) <= SRT_LINE:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return ["\n".join(lines[i:i + 2]) for i in range(0, len(lines), 2)] if text else []


def _srt_clock(seconds: float) -> str:
    return _clock(seconds).replace(".", ",")


SOUNDBITE = (30.0, 60.0, 90.0)
"""Seconds: the shortest soundbite, the length aimed at, and the longest (apps suggest 15 to 120)."""


def soundbite(timeline: Timeline, item: tuple[int, int]) -> Soundbite:
    """The opening of the item's chapter (the Highlights' first paper) in whole sentences from its first: as many
    as fit in a minute without leaving the chapter, or, if the chapter is shorter than 30 seconds, the fewest
    that reach 30; none (duration 0) if the item has no chapter or no such stretch of at most 90 seconds exists."""
    chapter = next((timed for timed in timeline.chapters if timed.chapter.item == item), None)
    cues = [cue for cue in timeline.cues if chapter and cue.start >= chapter.start - 0.001]
    if not cues:
        return Soundbite()
    shortest, aim, longest = SOUNDBITE
    start = cues[0].start
    inside = [cue.end - start for cue in cues if cue.end <= chapter.end + 0.001 and cue.end - start <= aim]
    length = inside[-1] if inside and inside[-1] >= shortest else next(
        (cue.end - start for cue in cues if cue.end - start >= shortest), 0.0)
    if not shortest <= length <= longest:
        return Soundbite()
    return Soundbite(round(start, 3), round(length, 3), chapter.chapter.title[:128])

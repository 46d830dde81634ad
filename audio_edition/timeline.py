"""The episode's timeline as the files podcast apps read: a WebVTT transcript and Podcasting 2.0 JSON chapters."""

from __future__ import annotations

import json

from .model import Timeline


def _clock(seconds: float) -> str:
    millis = int(round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def clock(seconds: float) -> str:
    """A time as show notes and the editor's listing write it: '04:12', or '1:02:03' past an hour.
    Rounded down, so a tap on it in a podcast app lands at (never after) the time."""
    whole = int(max(0.0, seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def webvtt(timeline: Timeline) -> str:
    """One cue per sentence, as written (the transcript shows '$40,000', the voice says the words)."""
    lines = ["WEBVTT", ""]
    for n, cue in enumerate(timeline.cues, 1):
        # WebVTT cue text is markup: '&' and '<' must be escaped, and '-->' never appear.
        text = cue.text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        lines += [str(n), f"{_clock(cue.start)} --> {_clock(cue.end)}", text, ""]
    return "\n".join(lines)


def chapters_json(timeline: Timeline, title: str) -> str:
    """https://github.com/Podcastindex-org/podcast-namespace/blob/main/chapters/jsonChapters.md"""
    chapters = []
    for timed in timeline.chapters:
        entry: dict = {"startTime": round(timed.start, 3), "endTime": round(timed.end, 3), "title": timed.chapter.title}
        if timed.chapter.url:
            entry["url"] = timed.chapter.url
        if not timed.chapter.toc:
            entry["toc"] = False
        chapters.append(entry)
    return json.dumps({"version": "1.2.0", "title": title, "chapters": chapters}, indent=2, ensure_ascii=False) + "\n"

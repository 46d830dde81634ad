"""What the editor reviews: a built episode's segments, where each starts, and the audio of any one of them.

The build records its segments (episodes/<slug>/segments.json) with their start times and cache
keys, so `review` needs neither the feed nor the voice, and `segment` plays a segment straight from
the speech cache: hearing one sentence costs no synthesis.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from .clock import position
from .errors import EditionError
from .model import Script, Timeline

log = logging.getLogger(__name__)

NAME = "segments.json"


@dataclass(frozen=True)
class Row:
    id: str
    start: float
    chapter: str
    role: str
    text: str
    """As spoken, after normalization, the lexicon and the editor's corrections: what a correction's `find` matches."""
    corrected: bool
    key: str


def segments_json(planned: Sequence, script: Script, timeline: Timeline) -> str:
    """The build's record of its segments (speak.Planned), with start times from the mixed timeline."""
    starts: dict[str, float] = {}
    for cue in timeline.cues:
        starts.setdefault(cue.segment, cue.start)
    rows = [
        {
            "id": item.segment.id,
            "start": round(starts.get(item.segment.id, 0.0), 3),
            "chapter": script.chapters[item.segment.chapter].title,
            "role": item.segment.role.value,
            "text": item.text,
            "corrected": bool(item.corrected),
            "key": item.key,
        }
        for item in planned
        if item.sentences
    ]
    return json.dumps(rows, indent=1, ensure_ascii=False) + "\n"


def read(folder: Path) -> list[Row]:
    path = folder / NAME
    try:
        return [Row(**row) for row in json.loads(path.read_text(encoding="utf-8"))]
    except FileNotFoundError:
        raise EditionError(f"{folder} has no {NAME}; rebuild it with `make episode` to review it") from None
    except (ValueError, TypeError) as exc:
        raise EditionError(f"{path} is not readable ({exc}); rebuild the episode") from None


def listing(rows: Sequence[Row], chapter: str | None = None) -> str:
    """One line per segment: id, start time, chapter, '*' if corrected, then the spoken text."""
    chosen = [row for row in rows if not chapter or chapter.lower() in row.chapter.lower()]
    lines = []
    for row in chosen:
        mark = "*" if row.corrected else " "
        who = "" if row.role == "narrator" else f"[{row.role}] "
        lines.append(f"{row.id}  {position(row.start):>8}  {_short(row.chapter, 28):<28} {mark} {who}{row.text}")
    return "\n".join(lines)


def find(rows: Sequence[Row], segment_id: str) -> Row:
    """A segment by its id, or by an unambiguous prefix of it."""
    matches = [row for row in rows if row.id.startswith(segment_id.strip())]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise EditionError(f"no segment {segment_id!r} in this episode; `audio-edition review` lists them")
    raise EditionError(f"{segment_id!r} names {len(matches)} segments; give more of the id")


PLAYERS = (["ffplay", "-nodisp", "-autoexit", "-loglevel", "error"], ["paplay"], ["aplay", "-q"], ["afplay"])


def play(path: Path) -> str | None:
    """Play a WAV with the first player this machine has; the player's name, or None if it has none."""
    for command in PLAYERS:
        if shutil.which(command[0]):
            subprocess.run([*command, str(path)], check=False)
            return command[0]
    return None


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"

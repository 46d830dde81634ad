"""How times, lengths and dates are written for people: one way, wherever a listener or the editor reads one.

(Machine formats, such as a WebVTT cue's `00:04:12.345`, belong to the file format that needs them.)
"""

from __future__ import annotations

import logging
from datetime import datetime

log = logging.getLogger(__name__)

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
"""In English whatever the machine's locale: the newsletter is in English."""


def position(seconds: float) -> str:
    """A moment in an episode: '04:12', or '1:02:03' past an hour (show notes, web page, the editor's listing).
    Rounded down, so a tap on it in a podcast app lands at, never after, the moment."""
    whole = int(max(0.0, seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def duration(seconds: float) -> str:
    """A length of time: '42 s', '4 min 12 s' (under ten minutes), '15 min', '1 h 5 min'."""
    whole = int(round(max(0.0, seconds)))
    if whole < 60:
        return f"{whole} s"
    if whole < 600:
        minutes, secs = divmod(whole, 60)
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(int(round(whole / 60)), 60)
    return (f"{hours} h {minutes} min" if minutes else f"{hours} h") if hours else f"{minutes} min"


def date(when: datetime) -> str:
    """A day as the show writes it: 'October 2, 2019'."""
    return f"{MONTHS[when.month - 1]} {when.day}, {when.year}"

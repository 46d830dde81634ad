"""ID3v2 tags on the MP3: what a player shows (title, show, cover) and where it can jump (chapters)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from mutagen.id3 import (
    APIC, CHAP, COMM, CTOC, ID3, TALB, TCON, TDRC, TIT2, TPE1, TRCK, WXXX, CTOCFlags, PictureType,
)

from .model import TimedChapter
from .urls import publishable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Tags:
    title: str
    show: str
    artist: str
    number: int
    date: datetime
    comment: str
    """The issue's web address, which players show as the comment; left out unless `urls.publishable`."""
    cover: Path
    chapters: tuple[TimedChapter, ...]


def write(path: Path, tags: Tags) -> None:
    id3 = ID3()
    id3.add(TIT2(encoding=3, text=tags.title))
    id3.add(TALB(encoding=3, text=tags.show))
    id3.add(TPE1(encoding=3, text=tags.artist))
    id3.add(TRCK(encoding=3, text=str(tags.number)))
    id3.add(TDRC(encoding=3, text=tags.date.strftime("%Y-%m-%d")))
    id3.add(TCON(encoding=3, text="Podcast"))
    if comment := publishable(tags.comment):
        id3.add(COMM(encoding=3, lang="eng", desc="", text=comment))
    mime = "image/png" if tags.cover.suffix.lower() == ".png" else "image/jpeg"
    id3.add(APIC(encoding=3, mime=mime, type=PictureType.COVER_FRONT, desc="Cover", data=tags.cover.read_bytes()))
    ids = []
    for index, timed in enumerate(tags.chapters):
        element = f"chp{index}"
        ids.append(element)
        sub = [TIT2(encoding=3, text=timed.chapter.title)]
        if url := publishable(timed.chapter.url):
            sub.append(WXXX(encoding=3, desc="", url=url))
        id3.add(
            CHAP(
                element_id=element,
                start_time=round(timed.start * 1000),
                end_time=round(timed.end * 1000),
                start_offset=0xFFFFFFFF,
                end_offset=0xFFFFFFFF,
                sub_frames=sub,
            )
        )
    id3.add(
        CTOC(
            element_id="toc",
            flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
            child_element_ids=ids,
            sub_frames=[TIT2(encoding=3, text="Chapters")],
        )
    )
    # ID3v2.3, as podcast producers write chapters: libavformat (ffprobe, VLC, mpv) reads the sizes of
    # a CHAP frame's sub-frames as plain integers, so in v2.4 (where they are syncsafe) any title or
    # link longer than 127 bytes loses its chapter. In v2.3 they are plain integers for every reader.
    id3.save(path, v2_version=3)

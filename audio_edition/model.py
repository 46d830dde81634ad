"""The plain data that flows between the stages: issue in, script through the middle, episode out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum


class BlockKind(str, Enum):
    PARAGRAPH = "paragraph"
    LIST = "list"
    QUOTE = "quote"
    TABLE = "table"
    IMAGE = "image"
    """An image's description (its alt text); the one line is the description."""


@dataclass(frozen=True)
class Block:
    """A unit of written text: a paragraph, or a list/quote/table whose `lines` are its entries.

    An ordered list's entries start with their number ('1. '); a table's lines are its rows, cells
    separated by ' | ', the first row its header.
    """

    kind: BlockKind
    lines: tuple[str, ...]

    @staticmethod
    def paragraph(text: str) -> "Block":
        return Block(BlockKind.PARAGRAPH, (text,))


@dataclass(frozen=True)
class Opinion:
    who: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Link:
    title: str
    url: str | None = None


@dataclass(frozen=True)
class Item:
    """One summarized paper or post: 'Title (Authors) (summarized by X): summary', then opinions."""

    title: str
    link: str | None = None
    authors: str | None = None
    summarizer: str | None = None
    blocks: tuple[Block, ...] = ()
    opinions: tuple[Opinion, ...] = ()
    read_more: tuple[Link, ...] = ()


@dataclass(frozen=True)
class Section:
    """A heading and the items under it; level 1 is a top-level heading ("Technical AI alignment")."""

    title: str
    level: int
    items: tuple[Item, ...] = ()


@dataclass(frozen=True)
class Entry:
    """An issue as the newsletter feed lists it, before its content is parsed."""

    number: int
    title: str
    link: str
    guid: str
    published: datetime
    content: str
    """The issue's HTML (or flattened text)."""


@dataclass(frozen=True)
class Issue:
    number: int
    title: str
    """The issue's headline, without the '[AN #66]:' prefix."""
    link: str
    published: datetime
    preamble: tuple[Block, ...] = ()
    sections: tuple[Section, ...] = ()

    @property
    def words(self) -> int:
        texts = [line for block in self.preamble for line in block.lines]
        for section in self.sections:
            for item in section.items:
                texts.append(item.title)
                texts += [line for block in item.blocks for line in block.lines]
                texts += [line for op in item.opinions for block in op.blocks for line in block.lines]
        return sum(len(text.split()) for text in texts)


class Role(str, Enum):
    """Who speaks a segment; each role may have its own voice in the profile."""

    NARRATOR = "narrator"
    OPINION = "opinion"
    QUOTE = "quote"


@dataclass(frozen=True)
class Chapter:
    """A place a listener can jump to. `toc` is false for a chapter that only announces a section;
    `item` is the (section, item) index in the Issue of the paper it reads, if it reads one."""

    title: str
    url: str | None = None
    toc: bool = True
    item: tuple[int, int] | None = None


@dataclass(frozen=True)
class Segment:
    """One stretch of speech: a heading, a title line, a paragraph. The unit of synthesis and caching."""

    id: str
    text: str
    """Written text, as a careful reader would say it before normalization (no markup, no URLs)."""
    chapter: int
    """Index into Script.chapters."""
    role: Role = Role.NARRATOR
    pause_after: float = 0.0
    """Seconds of silence after the segment."""


@dataclass(frozen=True)
class Script:
    number: int
    title: str
    chapters: tuple[Chapter, ...]
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class Cue:
    """A stretch of the episode's timeline: one sentence as heard, with exact times in seconds."""

    start: float
    end: float
    text: str
    segment: str = ""


@dataclass(frozen=True)
class TimedChapter:
    chapter: Chapter
    start: float
    end: float


@dataclass(frozen=True)
class Timeline:
    """Where everything landed in the mixed audio; cues and chapters come from real sample counts."""

    duration: float
    cues: tuple[Cue, ...]
    chapters: tuple[TimedChapter, ...]


@dataclass(frozen=True)
class Episode:
    """A built episode as its manifest (episodes/<slug>/episode.json) records it."""

    number: int
    title: str
    guid: str
    published: datetime
    slug: str
    link: str
    description: str
    audio: str
    script: str
    transcript: str
    chapters: str
    duration: float
    audio_bytes: int
    source_hash: str = ""
    notes: str = ""
    """File name of the show notes (HTML) in the episode's folder."""
    art: str = ""
    """File name of the episode's own cover in the episode's folder."""
    waiting: bool = False
    """Built by the scheduled job in review mode and not yet approved: kept out of the feed."""
    extra: dict = field(default_factory=dict)

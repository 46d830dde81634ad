"""The plain data that flows between the stages: issue in, script through the middle, episode out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum


class PassageKind(str, Enum):
    PARAGRAPH = "paragraph"
    LIST = "list"
    QUOTE = "quote"
    TABLE = "table"
    IMAGE = "image"
    """An image's description (its alt text); the one line is the description."""


@dataclass(frozen=True)
class Passage:
    """A unit of written text: a paragraph, or a list/quote/table whose `lines` are its entries.

    An ordered list's entries start with their number ('1. '); a table's lines are its rows, cells
    separated by ' | ', the first row its header.
    """

    kind: PassageKind
    lines: tuple[str, ...]

    @staticmethod
    def paragraph(text: str) -> "Passage":
        return Passage(PassageKind.PARAGRAPH, (text,))


@dataclass(frozen=True)
class Opinion:
    who: str
    passages: tuple[Passage, ...]


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
    passages: tuple[Passage, ...] = ()
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
    comments: str = ""
    """Where the issue is discussed, as the feed's <comments> link gives it (empty if it gives none)."""


@dataclass(frozen=True)
class Issue:
    number: int
    title: str
    """The issue's headline, without the '[AN #66]:' prefix."""
    link: str
    published: datetime
    preamble: tuple[Passage, ...] = ()
    sections: tuple[Section, ...] = ()

    @property
    def words(self) -> int:
        texts = [line for block in self.preamble for line in block.lines]
        for section in self.sections:
            for item in section.items:
                texts.append(item.title)
                texts += [line for passage in item.passages for line in passage.lines]
                texts += [line for op in item.opinions for passage in op.passages for line in passage.lines]
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
class InputsRecord:
    """What an episode was built from."""

    digest: str = ""
    """Everything the build read (inputs.digest): an exact match means the episode stands as built."""
    source_hash: str = ""
    """The newsletter's title and text, hashed: a change means the issue was edited after it was built."""
    voice: str = ""
    """The voice profile's name."""


@dataclass(frozen=True)
class SpeechRecord:
    """The episode's speech: the speech cache keys of its segments, in script order (pruning spares them)."""

    segments: tuple[str, ...] = ()
    synthesized: int = 0
    """Segments synthesized by the build that made this record; the rest came from the cache."""
    reused: int = 0


@dataclass(frozen=True)
class MasteringRecord:
    """How the MP3 was mastered, and what it measures; the next build of any episode starts from this gain."""

    gain: float = 0.0
    """dB applied after the compressor."""
    loudness: float = 0.0
    """The target, LUFS integrated."""
    measured: float = 0.0
    true_peak: float = 0.0
    encodes: int = 0
    """1 when the gain guessed in advance was right; more when the MP3 had to be encoded again."""
    blocks: tuple[str, ...] = ()
    """The block cache keys the MP3 is made of, in order (pruning spares them)."""
    encoded: int = 0
    reused: int = 0


@dataclass(frozen=True)
class CorrectionsRecord:
    """The editor's corrections as the build found them: `status` tells when the file changed since."""

    digest: str = ""
    count: int = 0
    applied: int = 0
    unmatched: tuple[str, ...] = ()
    """Each `find` that matched nothing in this build."""


@dataclass(frozen=True)
class OpusRecord:
    """How the Opus rendering was made: its blocks (pruning spares them), and why it was left out, if it was."""

    blocks: tuple[str, ...] = ()
    encoded: int = 0
    reused: int = 0
    shift: float = 0.0
    """The largest distance (seconds) between a block's place in the Opus file and in the MP3."""
    refused: str = ""
    """Why the build left the Opus rendering out (it did not decode to the MP3's length or loudness ...)."""


@dataclass(frozen=True)
class BuildRecord:
    """What a build learned, kept in the manifest beside the episode itself."""

    built: str = ""
    """When, as an ISO 8601 UTC time."""
    inputs: InputsRecord = InputsRecord()
    speech: SpeechRecord = SpeechRecord()
    mastering: MasteringRecord = MasteringRecord()
    corrections: CorrectionsRecord = CorrectionsRecord()
    outputs: tuple[tuple[str, int, int], ...] = ()
    """(file name, size, mtime in ns) of each file the build wrote: a file changed since means build again."""
    opus: OpusRecord = OpusRecord()


@dataclass(frozen=True)
class Soundbite:
    """A stretch of the episode apps may offer as a preview or a share (podcast:soundbite); none if duration is 0."""

    start: float = 0.0
    duration: float = 0.0
    title: str = ""


@dataclass(frozen=True)
class Alternate:
    """The episode's smaller rendering (podcast:alternateEnclosure): an Opus file in its folder; none if `audio`
    is empty."""

    audio: str = ""
    audio_bytes: int = 0
    type: str = ""
    """Its MIME type (audio/ogg)."""
    codecs: str = ""
    bitrate: int = 0
    """Average bits per second."""
    duration: float = 0.0
    """Seconds, as ffmpeg decodes it: the MP3's within one 20 ms frame."""
    loudness: float = 0.0
    """LUFS integrated, as ffmpeg's ebur128 measures it decoded: the MP3's within 1 LU."""


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
    notes: str = ""
    """File name of the show notes (HTML) in the episode's folder."""
    art: str = ""
    """File name of the episode's own cover in the episode's folder."""
    waiting: bool = False
    """Built by the scheduled job in review mode and not yet approved: kept out of the feed."""
    transcript_json: str = ""
    """File name of the Podcasting 2.0 JSON transcript, beside the WebVTT one."""
    transcript_srt: str = ""
    """File name of the SRT captions."""
    summarizers: tuple[str, ...] = ()
    """Who summarized the issue's items, as the newsletter names them, each once, in order of appearance."""
    discussion: str = ""
    """Where the issue is discussed (its feed entry's <comments> link), if `urls.publishable` accepts it."""
    soundbite: Soundbite = Soundbite()
    alternate: Alternate = Alternate()
    record: BuildRecord = BuildRecord()

    @property
    def source_hash(self) -> str:
        return self.record.inputs.source_hash

"""Write what the narrator says for an Issue: the order, the framing words, the pauses and the chapters."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass

from .model import Block, BlockKind, Chapter, Issue, Item, Role, Script, Segment


@dataclass(frozen=True)
class Pauses:
    """Seconds of silence after a section heading, an item, and a paragraph."""

    section: float = 1.6
    item: float = 1.2
    paragraph: float = 0.6


def write(issue: Issue, newsletter: str = "Alignment Newsletter", pauses: Pauses = Pauses()) -> Script:
    """The Script of an issue: intro, each section announced, each item read in full, outro."""
    lines: list[tuple[str, int, Role, float]] = []
    chapters: list[Chapter] = [Chapter("Introduction")]

    def say(text: str, pause: float, role: Role = Role.NARRATOR) -> None:
        if text.strip():
            lines.append((text.strip(), len(chapters) - 1, role, pause))

    say(_intro(issue, newsletter), pauses.section)
    for section in issue.sections:
        if section.level == 1 or len(chapters) == 1:
            chapters.append(Chapter(section.title or "Summaries", url=None))
        if section.title:
            say(_sentence(section.title), pauses.section)
        for item in section.items:
            for text, role, pause in _item(item, pauses):
                say(text, pause, role)
    say(_outro(issue, newsletter), 0.0)
    return Script(issue.number, issue.title, tuple(chapters), _segments(lines))


def _intro(issue: Issue, newsletter: str) -> str:
    date = f"{issue.published:%B} {issue.published.day}, {issue.published.year}"
    return (
        f"This is the audio edition of the {newsletter}, number {issue.number}: "
        f"{_sentence(issue.title)} It was published on {date}."
    )


def _outro(issue: Issue, newsletter: str) -> str:
    return (
        f"That's all for number {issue.number} of the {newsletter}. "
        "The links to every paper are in the show notes. Thanks for listening."
    )


def _item(item: Item, pauses: Pauses) -> list[tuple[str, Role, float]]:
    out: list[tuple[str, Role, float]] = []
    header = _sentence(item.title) if item.title else ""
    if item.authors:
        header += f" By {_sentence(item.authors)}"
    if item.summarizer:
        header += f" Summarized by {_sentence(item.summarizer)}"
    if header:
        out.append((header.strip(), Role.NARRATOR, pauses.paragraph))
    out += _blocks(item.blocks, Role.NARRATOR, pauses)
    for opinion in item.opinions:
        out.append((f"{opinion.who}'s opinion.", Role.NARRATOR, pauses.paragraph / 2))
        out += _blocks(opinion.blocks, Role.OPINION, pauses)
    for link in item.read_more:
        out.append((f"Read more: {_sentence(link.title)}", Role.NARRATOR, pauses.paragraph))
    if out:
        text, role, _ = out[-1]
        out[-1] = (text, role, pauses.item)
    return out


def _blocks(blocks: tuple[Block, ...], role: Role, pauses: Pauses) -> list[tuple[str, Role, float]]:
    out: list[tuple[str, Role, float]] = []
    for block in blocks:
        if block.kind == BlockKind.LIST:
            for line in block.lines:
                out.append((_sentence(line), role, pauses.paragraph / 2))
            if out:
                out[-1] = (out[-1][0], role, pauses.paragraph)
        elif block.kind == BlockKind.QUOTE:
            quoted = " ".join(_sentence(line) for line in block.lines)
            out.append((f"Quote: {quoted} End quote.", Role.QUOTE, pauses.paragraph))
        elif block.kind == BlockKind.TABLE:
            rows = len(block.lines)
            out.append((f"A table with {rows} rows is omitted here; it is in the show notes.", role, pauses.paragraph))
        else:
            out.append((_sentence(" ".join(block.lines)), role, pauses.paragraph))
    return out


def _sentence(text: str) -> str:
    """Close a line with a full stop so the voice lands it, unless it already ends a sentence."""
    text = text.strip()
    return text if not text or text[-1] in ".?!:;" else text + "."


def _segments(lines: list[tuple[str, int, Role, float]]) -> tuple[Segment, ...]:
    """Stable ids: the same text in the same role gets the same id on every rebuild."""
    seen: Counter[str] = Counter()
    segments = []
    for text, chapter, role, pause in lines:
        key = f"{role.value}\n{text}"
        seen[key] += 1
        digest = hashlib.sha1(f"{key}\n{seen[key]}".encode()).hexdigest()[:8]
        segments.append(Segment(digest, text, chapter, role, pause))
    return tuple(segments)

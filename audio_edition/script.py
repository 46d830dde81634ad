"""Write what the narrator says for an Issue: the order, the framing words, the pauses and the chapters."""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from dataclasses import dataclass

from .model import Passage, PassageKind, Chapter, Issue, Item, Role, Script, Segment
from .urls import publishable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pauses:
    """Seconds of silence after a section heading, an item, and a paragraph."""

    section: float = 1.6
    item: float = 1.2
    paragraph: float = 0.6


def write(issue: Issue, newsletter: str = "Alignment Newsletter", pauses: Pauses = Pauses()) -> Script:
    """The Script of an issue: intro, each section announced, each item read in full, outro.

    Chapters follow the newsletter at item level, so a listener can skip to a paper and an app can
    show that paper's link while it is being read."""
    lines: list[tuple[str, int, Role, float]] = []
    chapters: list[Chapter] = [Chapter("Introduction")]

    def say(text: str, pause: float, role: Role = Role.NARRATOR) -> None:
        if text.strip():
            lines.append((text.strip(), len(chapters) - 1, role, pause))

    say(_intro(issue, newsletter), pauses.section)
    for s, section in enumerate(issue.sections):
        if section.title:
            # A heading is a place to jump to, but not an entry of the table of contents: the papers are.
            chapters.append(Chapter(section.title, toc=False))
            say(_sentence(section.title), pauses.section)
        for i, item in enumerate(section.items):
            if item.title:
                chapters.append(Chapter(item.title, url=publishable(item.link), item=(s, i)))
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
    out += _passages(item.passages, Role.NARRATOR, pauses)
    for opinion in item.opinions:
        out.append((f"{opinion.who}'s opinion.", Role.NARRATOR, pauses.paragraph / 2))
        out += _passages(opinion.passages, Role.OPINION, pauses)
    for link in item.read_more:
        out.append((f"Read more: {_sentence(link.title)}", Role.NARRATOR, pauses.paragraph))
    if out:
        text, role, _ = out[-1]
        out[-1] = (text, role, pauses.item)
    return out


TABLE_ROWS_READ = 5
"""A table with at most this many rows (after its header) and TABLE_COLUMNS_READ columns is read row by row."""
TABLE_COLUMNS_READ = 4


def _passages(passages: tuple[Passage, ...], role: Role, pauses: Pauses) -> list[tuple[str, Role, float]]:
    out: list[tuple[str, Role, float]] = []
    for passage in passages:
        if passage.kind == PassageKind.LIST:
            # One segment per entry, a short pause after each; an ordered entry keeps its number ("1. ...").
            lines = [(_sentence(line), role, pauses.paragraph / 2) for line in passage.lines]
        elif passage.kind == PassageKind.QUOTE:
            quoted = " ".join(_sentence(line) for line in passage.lines)
            lines = [(f"Quote: {quoted} End quote.", Role.QUOTE, pauses.paragraph)]
        elif passage.kind == PassageKind.TABLE:
            lines = [(text, role, pauses.paragraph / 2) for text in _table(passage.lines)]
        elif passage.kind == PassageKind.IMAGE:
            lines = [(f"Image: {_sentence(passage.lines[0])}", role, pauses.paragraph)]
        else:
            lines = [(_sentence(" ".join(passage.lines)), role, pauses.paragraph)]
        if lines:
            text, who, _ = lines[-1]
            lines[-1] = (text, who, pauses.paragraph)
        out += lines
    return out


def _table(rows: tuple[str, ...]) -> list[str]:
    """A small table row by row, each cell with its column's header; a large one is announced, not read.

    A listener can follow a few rows of results read as sentences ("GPT-2: accuracy 63%"), but not a
    grid read cell by cell, so larger tables are left to the written newsletter.
    """
    cells = [[cell.strip() for cell in row.split(" | ")] for row in rows]
    header, body = cells[0], cells[1:]
    if not body:
        return [_sentence(", ".join(c for c in header if c))]
    if len(body) > TABLE_ROWS_READ or len(header) > TABLE_COLUMNS_READ:
        return [f"A table of {len(body)} rows is not read out here; it is in the written newsletter."]
    values = [_lower(h) for h in header[1:] if h] or ["values"]
    said = [f"A table of {_join(values)}, by {_lower(header[0]) or 'row'}:"]
    for row in body:
        pairs = [(h, c) for h, c in zip(header[1:], row[1:]) if c]
        if len(pairs) == 1:
            said.append(_sentence(f"{row[0]}: {pairs[0][1]}"))
        else:
            said.append(_sentence(f"{row[0]}: " + ", ".join(f"{h} {c}".strip() for h, c in pairs)))
    return said


def _lower(header: str) -> str:
    """A header inside a sentence: 'Median forecast' -> 'median forecast', but 'GPT-2 score' stays."""
    return header if header[:2].isupper() else header[:1].lower() + header[1:]


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


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

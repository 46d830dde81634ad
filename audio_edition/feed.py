"""Read the newsletter's feed (a URL, fetched by fetch.py, or a path) into issue entries with clean titles."""

from __future__ import annotations

import calendar
import io
import logging
import re
import unicodedata
from datetime import datetime, timezone
from pathlib import Path
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree
import feedparser
import lxml.html
from defusedxml import DefusedXmlException
from lxml import etree

from . import fetch
from .errors import FeedError
from .model import Entry

log = logging.getLogger(__name__)

MAX_TITLE = 200
"""Characters of a headline kept; podcast apps show far fewer."""
_UNSPOKEN_TAGS = ["script", "style", "iframe", "noscript", "object", "embed", "template", "svg", "math", "head"]


def read_entries(source: str, issue_pattern: str, policy: fetch.Policy = fetch.Policy()) -> list[Entry]:
    """All issues the feed lists, oldest first."""
    return parse_entries(load(source, policy), issue_pattern, source)


def is_url(source: str) -> bool:
    return re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", source) is not None


def load(source: str, policy: fetch.Policy = fetch.Policy()) -> bytes:
    """The feed's bytes, from a URL (through fetch, polite and bounded) or a path."""
    if is_url(source):
        return fetch.get(source, policy).body or b""
    path = Path(source)
    try:
        if path.stat().st_size > policy.max_bytes:
            raise FeedError(f"feed {source} is larger than {policy.max_bytes} bytes (watch.max_feed_bytes)")
        return path.read_bytes()
    except OSError as exc:
        raise FeedError(f"cannot read feed {source}: {exc.strerror or exc}") from None


def parse_entries(data: bytes, issue_pattern: str, source: str = "feed") -> list[Entry]:
    """Issues in a feed document; entries whose title does not match the pattern are not issues."""
    _refuse_non_feed(data, source)
    _refuse_unsafe_xml(data, source)
    parsed = feedparser.parse(io.BytesIO(data))  # a stream: feedparser opens a str or bytes that names a file or URL
    if parsed.bozo and not parsed.entries:
        raise FeedError(f"{source} is not a readable RSS or Atom feed ({parsed.bozo_exception})")
    pattern = re.compile(issue_pattern)
    entries: dict[int, Entry] = {}
    for raw in parsed.entries:
        title = clean_title(raw.get("title", ""))
        match = pattern.search(title)
        if not match:
            log.info("skipping feed entry %r: not an issue", title[:80])
            continue
        entry = _entry(raw, title, int(match.group("number")), match)
        if entry.number in entries:
            log.warning("the feed lists issue #%d twice; keeping the first", entry.number)
            continue
        entries[entry.number] = entry
    return sorted(entries.values(), key=lambda e: e.number)


def _refuse_non_feed(data: bytes, source: str) -> None:
    """Name the usual ways a server answers with something else than a feed."""
    if not data.strip():
        raise FeedError(f"{source} is empty")
    if re.match(rb"\s*(<!--.*?-->\s*)*<(!doctype\s+html|html)\b", data[:4096], re.I | re.S):
        raise FeedError(f"{source} is an HTML page, not a feed (an error page?)")
    declared = re.match(rb"\s*<\?xml[^>]*?encoding=[\"']([A-Za-z0-9._-]+)[\"']", data[:200])
    if declared:
        encoding = declared.group(1).decode("ascii")
        try:
            data.decode(encoding)
        except LookupError:
            raise FeedError(f"{source} declares an unknown encoding, {encoding}") from None
        except UnicodeDecodeError as exc:
            raise FeedError(f"{source} is not valid {encoding}, the encoding it declares (byte {exc.start})") from None


def _refuse_unsafe_xml(data: bytes, source: str) -> None:
    """Entity declarations (billion laughs, XXE) are refused before feedparser sees the document."""
    try:
        defusedxml.ElementTree.fromstring(data)
    except DefusedXmlException as exc:
        raise FeedError(f"{source} declares XML entities, which are refused ({type(exc).__name__})") from None
    except ParseError as exc:
        raise FeedError(f"{source} is not well-formed XML ({exc})") from None


def _entry(raw: feedparser.FeedParserDict, title: str, number: int, match: re.Match) -> Entry:
    headline = _shorten(title[match.end():].lstrip(" :\u2013\u2014-").strip() or f"Issue {number}")
    content = ""
    if raw.get("content"):
        content = raw.content[0].value
    content = _strip_controls(content or raw.get("summary", ""), keep="\t\n\r")
    when = raw.get("published_parsed") or raw.get("updated_parsed")
    published = (
        datetime.fromtimestamp(calendar.timegm(when), tz=timezone.utc)
        if when
        else datetime(1970, 1, 1, tzinfo=timezone.utc)
    )
    return Entry(
        number=number,
        title=headline,
        link=raw.get("link", ""),
        guid=raw.get("id", "") or raw.get("link", "") or f"issue-{number}",
        published=published,
        content=content,
    )


def clean_title(title: str) -> str:
    """A title as plain, one-line text: markup read as HTML (scripts and frames dropped), no control
    or direction-override characters, whitespace collapsed. Emoji and every script's letters stay."""
    if re.search(r"<[A-Za-z!/?]", title):
        title = _html_text(title)
    return " ".join(_strip_controls(title, keep="").split())


def _html_text(markup: str) -> str:
    try:
        root = lxml.html.fragment_fromstring(markup, create_parent="div")
    except (etree.ParserError, ValueError):
        return markup
    for unspoken in [el for el in root.iter(*_UNSPOKEN_TAGS)]:
        unspoken.drop_tree()
    return root.text_content()


def _strip_controls(text: str, keep: str) -> str:
    """Without C0/C1 controls (but `keep`) and format characters (Cf: right-to-left overrides and
    isolates, zero-width spaces, soft hyphens), which can disguise a title or hide text."""
    out = []
    for char in text:
        kind = unicodedata.category(char)
        if char in keep or char == "\u200d":  # the zero-width joiner holds emoji sequences together
            out.append(char)
        elif kind in ("Cc", "Zl", "Zp"):
            out.append(" ")
        elif kind not in ("Cf", "Cs"):
            out.append(char)
    return "".join(out)


def _shorten(headline: str) -> str:
    if len(headline) <= MAX_TITLE:
        return headline
    return headline[: MAX_TITLE - 1].rsplit(" ", 1)[0].rstrip(" ,;:-") + "\u2026"


def select(entries: list[Entry], issue: str | int) -> Entry:
    """The entry for an issue number, or the newest for 'latest'."""
    if not entries:
        raise FeedError("the feed lists no issues")
    if str(issue) == "latest":
        return entries[-1]
    try:
        number = int(issue)
    except ValueError:
        raise FeedError(f"issue must be a number or 'latest', not {issue!r}") from None
    for entry in entries:
        if entry.number == number:
            return entry
    numbers = ", ".join(f"#{e.number}" for e in entries)
    raise FeedError(f"issue #{number} is not in the feed (it lists {numbers})")

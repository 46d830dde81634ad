"""Read the newsletter's feed (a URL or a path) into issue entries; the only stage that reads the network."""

from __future__ import annotations

import calendar
import logging
import re
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree
import feedparser
from defusedxml import DefusedXmlException

from . import __version__
from .errors import FeedError
from .model import Entry

log = logging.getLogger(__name__)

USER_AGENT = f"audio-edition/{__version__} (+https://github.com/audio-edition)"
MAX_FEED_BYTES = 20 * 1024 * 1024
TIMEOUT = 20.0


def read_entries(source: str, issue_pattern: str) -> list[Entry]:
    """All issues the feed lists, oldest first."""
    return parse_entries(load(source), issue_pattern, source)


def load(source: str, timeout: float = TIMEOUT, max_bytes: int = MAX_FEED_BYTES) -> bytes:
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", source):
        return _fetch(source, timeout, max_bytes)
    path = Path(source)
    try:
        if path.stat().st_size > max_bytes:
            raise FeedError(f"feed {source} is larger than {max_bytes} bytes")
        return path.read_bytes()
    except OSError as exc:
        raise FeedError(f"cannot read feed {source}: {exc.strerror or exc}") from None


def _fetch(url: str, timeout: float, max_bytes: int) -> bytes:
    if not url.lower().startswith(("http://", "https://")):
        raise FeedError(f"feed URL {url} is neither http nor https")
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            data = response.read(max_bytes + 1)
    except urllib.error.HTTPError as exc:
        raise FeedError(f"feed {url} answered HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FeedError(f"cannot fetch feed {url}: {reason}") from None
    if len(data) > max_bytes:
        raise FeedError(f"feed {url} is larger than {max_bytes} bytes")
    return data


def parse_entries(data: bytes, issue_pattern: str, source: str = "feed") -> list[Entry]:
    """Issues in a feed document; entries whose title does not match the pattern are not issues."""
    _refuse_unsafe_xml(data, source)
    parsed = feedparser.parse(data)
    if parsed.bozo and not parsed.entries:
        raise FeedError(f"{source} is not a readable RSS or Atom feed ({parsed.bozo_exception})")
    pattern = re.compile(issue_pattern)
    entries: dict[int, Entry] = {}
    for raw in parsed.entries:
        match = pattern.search(raw.get("title", ""))
        if not match:
            log.info("skipping feed entry %r: not an issue", raw.get("title", "")[:80])
            continue
        entry = _entry(raw, int(match.group("number")), match)
        if entry.number in entries:
            log.warning("the feed lists issue #%d twice; keeping the first", entry.number)
            continue
        entries[entry.number] = entry
    return sorted(entries.values(), key=lambda e: e.number)


def _refuse_unsafe_xml(data: bytes, source: str) -> None:
    """Entity declarations (billion laughs, XXE) are refused before feedparser sees the document."""
    try:
        defusedxml.ElementTree.fromstring(data)
    except DefusedXmlException as exc:
        raise FeedError(f"{source} declares XML entities, which are refused ({type(exc).__name__})") from None
    except ParseError as exc:
        raise FeedError(f"{source} is not well-formed XML ({exc})") from None


def _entry(raw: feedparser.FeedParserDict, number: int, match: re.Match) -> Entry:
    title = raw.get("title", "")
    headline = title[match.end():].lstrip(" :\u2013\u2014-").strip() or title.strip()
    content = ""
    if raw.get("content"):
        content = raw.content[0].value
    content = content or raw.get("summary", "")
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

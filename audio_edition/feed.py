"""Read the newsletter's feed (a URL, fetched by fetch.py, or a path) into issue entries with clean titles."""

from __future__ import annotations

import calendar
import io
import logging
import re
import unicodedata
from datetime import datetime, timedelta, timezone
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
from .settings import UNSAFE_CHARACTERS, issue_regex

log = logging.getLogger(__name__)

MAX_TITLE = 200
"""Characters of a headline kept; podcast apps show far fewer."""
MAX_ISSUE = 99_999
"""The largest plausible issue number (the newsletter publishes one a week); a larger one is refused."""
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
"""The date of an entry whose date is missing or impossible."""
_CHARACTER_REFERENCE = re.compile(r"&#(?:[xX]([0-9A-Fa-f]+)|([0-9]+));?")
"""A numeric character reference in HTML (&#1; &#xFFFF;): it may name a character XML cannot carry."""
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
            raise FeedError(f"feed {source} is larger than {policy.max_bytes} bytes (fetch.max_feed_bytes)")
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
    pattern = issue_regex(issue_pattern)
    entries: dict[int, Entry] = {}
    for raw in parsed.entries:
        title = clean_title(raw.get("title", ""), html="html" in raw.get("title_detail", {}).get("type", ""))
        match = pattern.search(title)
        if not match:
            log.info("skipping feed entry %r: not an issue", title[:80])
            continue
        number = _issue_number(match.group("number") or "", title)
        if number is None:
            continue
        entry = _entry(raw, title, number, match)
        if entry.number in entries:
            log.warning("the feed lists issue #%d twice; keeping the first", entry.number)
            continue
        entries[entry.number] = entry
    return sorted(entries.values(), key=lambda e: e.number)


def _issue_number(digits: str, title: str) -> int | None:
    """The issue number a title gives, or None (logged) if it is not a plausible one: never an int() of
    hundreds of digits for the slug, the episode number and the words that say it."""
    if not (digits.isascii() and digits.isdigit()):
        log.warning("skipping feed entry %r: its issue number %r is not a number (newsletter.issue_pattern)",
                    title[:80], digits[:20])
        return None
    if len(digits.lstrip("0")) > len(str(MAX_ISSUE)) or int(digits) > MAX_ISSUE:
        log.warning("skipping feed entry %r: issue number %s (%d digits) is not plausible (at most %d)",
                    title[:80], digits[:12] + ("..." if len(digits) > 12 else ""), len(digits), MAX_ISSUE)
        return None
    return int(digits)


def _refuse_non_feed(data: bytes, source: str) -> None:
    """Name the usual ways a server answers with something else than a feed."""
    if not data.strip():
        raise FeedError(f"{source} is empty")
    if re.match(rb"<(!doctype\s+html|html)\b", data[_after_comments(data[:4096]):4096], re.I):
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


def _after_comments(head: bytes) -> int:
    """Where a document's first markup is, past leading whitespace and comments: one pass, each comment
    skipped by a search for its end (a regular expression here once took minutes on a few hundred bytes)."""
    at = 0
    while True:
        at = len(head) - len(head[at:].lstrip())
        if not head.startswith(b"<!--", at):
            return at
        end = head.find(b"-->", at + 4)
        if end < 0:
            return at
        at = end + 3


def _refuse_unsafe_xml(data: bytes, source: str) -> None:
    """Entity declarations (billion laughs, XXE) are refused before feedparser sees the document."""
    try:
        defusedxml.ElementTree.fromstring(data)
    except DefusedXmlException as exc:
        raise FeedError(f"{source} declares XML entities, which are refused ({type(exc).__name__})") from None
    except ParseError as exc:
        raise FeedError(f"{source} is not well-formed XML ({exc})") from None


def _entry(raw: feedparser.FeedParserDict, title: str, number: int, match) -> Entry:
    """An issue's entry, every text in it cleaned here, once, of what XML cannot carry."""
    headline = _shorten(title[match.end():].lstrip(" :\u2013\u2014-").strip() or f"Issue {number}")
    content = ""
    if raw.get("content"):
        content = raw.content[0].value
    link, guid = _one_line(raw.get("link", "")), _one_line(raw.get("id", ""))
    return Entry(
        number=number,
        title=headline,
        link=link,
        guid=guid or link or f"issue-{number}",
        published=_published(raw, title),
        content=_clean_content(content or raw.get("summary", "")),
        comments=_one_line(raw.get("comments", "")),
    )


def _published(raw: feedparser.FeedParserDict, title: str) -> datetime:
    """When the entry was published; EPOCH when the feed does not say, or names a date that cannot be
    (year 10000) or is more than a day ahead, which would hold the episode at the top of every app."""
    when = raw.get("published_parsed") or raw.get("updated_parsed")
    if not when:
        return EPOCH
    try:
        published = datetime.fromtimestamp(calendar.timegm(when), tz=timezone.utc)
    except (ValueError, OverflowError, OSError):
        log.warning("feed entry %r has an impossible date (%04d-%02d-%02d); taking it as undated", title[:80], *when[:3])
        return EPOCH
    if published > datetime.now(timezone.utc) + timedelta(days=1):
        log.warning("feed entry %r is dated %s, in the future; taking it as undated", title[:80], published.date())
        return EPOCH
    return published


def clean_title(title: str, html: bool = False) -> str:
    """A title as plain, one-line text: markup read as HTML (scripts and frames dropped; always when the feed
    says the title is HTML, as its entities are), no control, direction-override or other character XML cannot
    carry, whitespace collapsed. Emoji and every script's letters stay."""
    if html or re.search(r"<[A-Za-z!/?]", title):
        title = _html_text(_clean_content(title))
    return " ".join(_strip_controls(title, keep="").split())


def _clean_content(markup: str) -> str:
    """An issue's HTML (or text) without the characters XML cannot carry, written as they are or as
    numeric character references (`&#1;`, `&#xFFFF;`) that a parser would turn into them: each becomes a
    space. Direction overrides and other invisible format characters go too."""
    return _CHARACTER_REFERENCE.sub(_safe_reference, _strip_controls(markup, keep="\t\n\r"))


def _safe_reference(m: re.Match[str]) -> str:
    """The reference as written if the character it names would be kept as text, else a space."""
    digits = (m.group(1) or m.group(2)).lstrip("0") or "0"
    if len(digits) > 7:  # past U+10FFFF, however it is written (and never an int() of thousands of digits)
        return " "
    code = int(digits, 16 if m.group(1) else 10)
    if code > 0x10FFFF:
        return " "
    return m.group() if _strip_controls(chr(code), keep="\t\n\r") == chr(code) else " "


def _one_line(text: str) -> str:
    """A link or guid as one line of text XML can carry, without surrounding space."""
    return " ".join(_strip_controls(text, keep="").split())


def _html_text(markup: str) -> str:
    try:
        root = lxml.html.fragment_fromstring(markup, create_parent="div")
    except (etree.ParserError, ValueError):
        return markup
    for unspoken in [el for el in root.iter(*_UNSPOKEN_TAGS)]:
        unspoken.drop_tree()
    return root.text_content()


def _strip_controls(text: str, keep: str) -> str:
    """Without C0/C1 controls (but `keep`), format characters (Cf: right-to-left overrides and isolates,
    zero-width spaces, soft hyphens), which can disguise a title or hide text, and the rest of what XML
    cannot carry (surrogates, U+FFFE, U+FFFF and the other noncharacters of settings.UNSAFE_CHARACTERS)."""
    out = []
    for char in text:
        if char.isascii() and (char.isprintable() or char in keep):
            out.append(char)  # the common case, decided without a table lookup
            continue
        kind = unicodedata.category(char)
        if char in keep or char == "\u200d":  # the zero-width joiner holds emoji sequences together
            out.append(char)
        elif kind in ("Cc", "Zl", "Zp"):
            out.append(" ")
        elif kind not in ("Cf", "Cs") and not UNSAFE_CHARACTERS.match(char):
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

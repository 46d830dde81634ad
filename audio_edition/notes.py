"""Show notes for an episode: the issue's papers with their start times and links, safe to put in a feed.

Everything that comes from the newsletter is treated as plain text and escaped; the only links are
those `urls.publishable` accepts (and the feedback address); and `clean()` re-reads the finished HTML
with an allow-list, so a mistake in the first pass still cannot put a script, a frame, an event
handler or a link of another kind in a podcast app.
"""

from __future__ import annotations

import html
import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import lxml.html
from lxml import etree

from .model import Issue, Item, TimedChapter
from .clock import position
from .urls import publishable

log = logging.getLogger(__name__)

DESCRIPTION_LIMIT = 4000
"""Characters Apple Podcasts accepts in an episode's description."""
ALLOWED_TAGS = frozenset({"p", "h3", "ul", "ol", "li", "a", "strong", "em"})
"""The only elements show notes may contain; podcast apps render them all the same way."""
_UNTITLED_WORDS = 12
"""Words of its first paragraph that stand in for an item without a title."""
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,63}")


@dataclass(frozen=True)
class Credits:
    """Who and what made the episode, as the show notes credit them (settings give the wording)."""

    voice: str
    """The voice, e.g. 'Joe (Piper voice en_US-joe-medium)'."""
    voice_licence: str
    """The voice's licence, shown as given."""
    music: str
    """A sentence crediting the intro and outro music."""
    feedback: str
    """An email address or an http(s) URL; it becomes a mailto: or web link (anything else, plain text)."""


def description(issue: Issue, newsletter: str) -> str:
    """Short plain text for the feed item's <description>: the issue's title and its items' titles,
    cut at a word with an ellipsis to fit Apple's limit. Podcast apps show it in lists, so no markup."""
    text = f"{_plain(newsletter)} #{issue.number}: {_sentence(_plain(issue.title))}"
    titles = [title for section in issue.sections for item in section.items if (title := _plain(item.title))]
    if titles:
        text += " In this issue: " + "; ".join(titles) + "."
    return _shorten(text, DESCRIPTION_LIMIT)


def show_notes(issue: Issue, chapters: Sequence[TimedChapter], credits: Credits, newsletter: str) -> str:
    """HTML for content:encoded: a link to the issue, each section's papers with the time their chapter
    starts (apps turn '04:12' into a seek link), and the credits. Same inputs, same bytes."""
    starts = _item_starts(chapters)
    parts = [_heading_paragraph(issue, newsletter)]
    for s, section in enumerate(issue.sections):
        title = _escape(_plain(section.title) or "Summaries")
        if section.level > 1 and section.items:
            parts.append(f"<p><strong>{title}</strong></p>")  # a subsection, under the last <h3>
        elif section.level <= 1 and _has_papers(issue, s):
            parts.append(f"<h3>{title}</h3>")
        if not section.items:
            continue
        parts.append("<ul>")
        parts += [_item_entry(item, starts.get((s, i))) for i, item in enumerate(section.items)]
        parts.append("</ul>")
    parts.append(_credits_paragraph(credits))
    return clean("\n".join(parts))


def _has_papers(issue: Issue, s: int) -> bool:
    """Whether a top-level section has items, itself or in the subsections that follow it."""
    if issue.sections[s].items:
        return True
    for section in issue.sections[s + 1:]:
        if section.level <= 1:
            return False
        if section.items:
            return True
    return False


def clean(markup: str) -> str:
    """The allow-list pass: only ALLOWED_TAGS survive (any other element is replaced by its text),
    only an <a>'s href survives and only when it is http(s) or a plain mailto: address; comments go.
    The result never holds ']]>', so it can sit inside the feed's CDATA."""
    if not markup.strip():
        return ""
    try:
        root = lxml.html.fragment_fromstring(markup, create_parent="div")
    except (etree.ParserError, ValueError):
        log.warning("show notes could not be read as HTML; kept as escaped text")
        return _escape(markup)
    for node in list(root.iterdescendants()):
        if not isinstance(node.tag, str):
            node.drop_tree()  # comments and processing instructions, keeping what follows them
            continue
        tag = node.tag.lower()
        for name in list(node.attrib):
            if not (tag == "a" and name == "href" and linkable(node.attrib[name])):
                del node.attrib[name]
        if tag not in ALLOWED_TAGS or (tag == "a" and "href" not in node.attrib):
            node.drop_tag()
    root.attrib.clear()
    out = lxml.html.tostring(root, encoding="unicode")
    out = out[len("<div>"):-len("</div>")]
    return out.replace("]]>", "]]&gt;")


# --- the parts of the notes ------------------------------------------------------------------------


def _item_starts(chapters: Sequence[TimedChapter]) -> dict[tuple[int, int], float]:
    """When each item's chapter starts; the earliest wins if two chapters read the same item."""
    starts: dict[tuple[int, int], float] = {}
    for timed in chapters:
        key = timed.chapter.item
        if key is not None and (key not in starts or timed.start < starts[key]):
            starts[key] = timed.start
    return starts


def _heading_paragraph(issue: Issue, newsletter: str) -> str:
    head = f"<strong>{_escape(f'{_plain(newsletter)} #{issue.number}: {_plain(issue.title)}')}</strong>"
    url = publishable(issue.link)
    if url is None:
        return f"<p>{head}</p>"
    return f'<p>{head}. <a href="{_attr(url)}">Read the original issue</a>.</p>'


def _item_entry(item: Item, start: float | None) -> str:
    """'04:12 Title (Authors), summarized by X', the title linked when the link is a web address."""
    title = _plain(item.title) or _first_words(item) or "Untitled"
    url = publishable(item.link)
    text = f'<a href="{_attr(url)}">{_escape(title)}</a>' if url else _escape(title)
    if start is not None:
        text = f"{position(start)} {text}"
    if authors := _plain(item.authors):
        text += f" ({_escape(authors)})"
    if summarizer := _plain(item.summarizer):
        text += f", summarized by {_escape(summarizer)}"
    return f"<li>{text}</li>"


def _first_words(item: Item) -> str:
    lines = [line for passage in item.passages for line in passage.lines if _plain(line)]
    if not lines:
        return ""
    words = _plain(lines[0]).split()
    return " ".join(words[:_UNTITLED_WORDS]) + ("\u2026" if len(words) > _UNTITLED_WORDS else "")


def _credits_paragraph(credits: Credits) -> str:
    sentences = []
    if voice := _plain(credits.voice):
        licence = _plain(credits.voice_licence)
        sentences.append(_escape(_sentence(f"Read by {voice}" + (f"; {licence}" if licence else ""))))
    if music := _plain(credits.music):
        sentences.append(_escape(_sentence(music)))
    if feedback := _plain(credits.feedback):
        sentences.append(f"Feedback is welcome: {_feedback_link(feedback)}.")
    return f"<p>{' '.join(sentences)}</p>" if sentences else ""


def _feedback_link(feedback: str) -> str:
    if _EMAIL.fullmatch(feedback):
        return f'<a href="{_attr("mailto:" + feedback)}">{_escape(feedback)}</a>'
    url = publishable(feedback)
    if url:
        return f'<a href="{_attr(url)}">{_escape(url)}</a>'
    return _escape(feedback)


# --- text and links ------------------------------------------------------------------------------


def _plain(text: str | None) -> str:
    """One line of text without control, format or non-XML characters (a right-to-left override
    can disguise a title; a NUL would make the feed unwritable); the zero-width joiner of emoji stays."""
    if not text:
        return ""
    out = []
    for char in text:
        kind = unicodedata.category(char)
        if char == "\u200d":
            out.append(char)
        elif kind in ("Cc", "Zl", "Zp"):
            out.append(" ")
        elif kind not in ("Cf", "Cs") and char not in "\ufffe\uffff":
            out.append(char)
    return " ".join("".join(out).split())


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def _attr(text: str) -> str:
    return html.escape(text, quote=True)


def linkable(href: str) -> bool:
    """Whether an href may stay in show notes: a URL `publishable` passes unchanged, or a plain
    mailto: address (publish.validate asks this again of the finished feed)."""
    if href.lower().startswith("mailto:"):
        return _EMAIL.fullmatch(href[len("mailto:"):]) is not None
    return publishable(href) == href  # exactly: an href with surrounding spaces is not passed on


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text[-1] in ".!?\u2026" else text + "."


def _shorten(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word and ended with an ellipsis when it had to be cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-\u2013\u2014") + "\u2026"

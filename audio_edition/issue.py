"""Turn an issue's content (the feed's HTML, or the flattened plain text of an email) into an Issue."""

from __future__ import annotations

import copy
import html
import logging
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field

import lxml.html
from lxml import etree

from .errors import IssueError
from .model import Passage, PassageKind, Entry, Issue, Item, Link, Opinion, Section
from .urls import publishable

log = logging.getLogger(__name__)

# The newsletter's own headings; the plain-text form only has these words to go by.
TOP_HEADINGS = (
    "Highlights",
    "Technical AI alignment",
    "Near-term concerns",
    "AI strategy and policy",
    "Other progress in AI",
    "News",
)
SUB_HEADINGS = (
    "Iterated amplification", "Mesa optimization", "Agent foundations", "Adversarial examples",
    "Learning human intent", "Preventing bad behavior", "Interpretability", "Verification",
    "Robustness", "Forecasting", "Field building", "Critiques (Alignment)", "Critiques (AI)",
    "Miscellaneous (Alignment)", "Miscellaneous (AI)", "Handling groups of agents",
    "Value learning sequence", "Embedded agency sequence", "Fairness and bias",
    "Privacy and security", "Machine ethics", "Reinforcement learning", "Deep learning",
    "Hierarchical RL", "Meta learning", "Unsupervised learning", "Exploration", "Applications",
    "Technical agendas and prioritization", "Reward learning theory", "AI governance",
    "Malicious use of AI", "Other progress in AI", "Scaling laws",
)
ACRONYMS = {"AI", "RL", "HRL", "ML", "AGI", "NLP", "GPT", "MIRI", "CHAI", "FHI", "GAN", "GANS"}

_OPINION = re.compile(r"^(?P<who>[^:]{1,60}?)['\u2019]s? opinions?\s*:?$", re.I)
_READ_MORE = re.compile(r"^read more\s*:?$", re.I)
_HEADER = re.compile(
    r"""^\s*(?:\((?P<first>(?:[^()]|\([^()]*\))*)\))?
        \s*(?:\((?:summarized|summarised)\s+by\s+(?P<by>[^)]*)\))?
        \s*:?\s*(?P<body>.*)$""",
    re.X | re.S,
)
_FOOTER = re.compile(
    r"unsubscribe|update your preferences|\u00a9|copyright \d{4}|all rights reserved|you are receiving this|"
    r"our mailing address|forward to a friend|was this (?:email )?forwarded to you",
    re.I,
)
"""Where an email's footer starts: nothing from there on is part of the issue."""
_BOILERPLATE = re.compile(
    _FOOTER.pattern + r"|view this email in your browser|podcast version of|audio version|sign up|subscribe",
    re.I,
)
"""Paragraphs that belong to the newsletter's frame rather than to an issue."""
_FOOTNOTES = re.compile(r"\bfootnotes?\b|\bfn-?list\b", re.I)
_BLOCK_TAGS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "blockquote", "table", "pre", "img"}
_DROP_TAGS = ["script", "style", "iframe", "noscript", "object", "embed", "form", "svg", "head", "template"]


class NotAnIssue(IssueError):
    """The entry carries no summaries: an announcement or another post that is not an issue."""


def parse(entry: Entry) -> Issue:
    """The Issue an entry carries; HTML when it has tags, else the flattened text of an email."""
    content = entry.content or ""
    if not content.strip():
        raise NotAnIssue(f"issue #{entry.number} has no content")
    if re.search(r"<(p|h[1-6]|div|ul|ol|br|strong|b|table|blockquote)\b", content, re.I):
        preamble, sections = parse_html(content)
    else:
        preamble, sections = parse_text(html.unescape(content))  # the feed's text is HTML-escaped
    issue = Issue(entry.number, entry.title, entry.link, entry.published, preamble, sections)
    if not any(section.items for section in sections):
        raise NotAnIssue(
            f"entry #{entry.number} ({entry.title[:60]!r}) has no summaries: it is an announcement, not an issue"
        )
    return issue


# --- HTML ----------------------------------------------------------------------------------------


@dataclass
class _Builder:
    """Accumulates passages into sections and items in reading order."""

    preamble: list[Passage] = field(default_factory=list)
    sections: list[dict] = field(default_factory=list)
    item: dict | None = None
    target: list[Passage] | None = None
    closed_items: bool = False
    """Whether any item was closed into a section (asked after every block: kept, not searched for)."""

    def heading(self, title: str, level: int) -> None:
        self._close_item()
        self.sections.append({"title": title, "level": level, "items": []})
        self.target = None

    def start_item(self, title: str, link: str | None, authors: str | None, by: str | None) -> None:
        self._close_item()
        if not self.sections:
            self.sections.append({"title": "", "level": 1, "items": []})
        self.item = dict(title=title, link=link, authors=authors, summarizer=by, passages=[], opinions=[], read_more=[])
        self.target = self.item["passages"]

    def opinion(self, who: str) -> None:
        if self.item is None:
            self.start_item("", None, None, None)
        passages: list[Passage] = []
        self.item["opinions"].append((who, passages))
        self.target = passages

    def read_more(self, links: list[Link]) -> None:
        if self.item is not None:
            self.item["read_more"].extend(links)

    def block(self, block: Passage) -> None:
        if self.target is not None:
            self.target.append(block)
        elif not self.sections:
            self.preamble.append(block)
        else:
            self.start_item("", None, None, None)
            self.target.append(block)

    @property
    def has_items(self) -> bool:
        return self.item is not None or self.closed_items

    def _close_item(self) -> None:
        if self.item is not None:
            item = self.item
            opinions = tuple(Opinion(who, tuple(passages)) for who, passages in item.pop("opinions"))
            self.sections[-1]["items"].append(
                Item(
                    passages=tuple(item.pop("passages")),
                    opinions=opinions,
                    read_more=tuple(item.pop("read_more")),
                    **item,
                )
            )
            self.closed_items = True
        self.item = None
        self.target = None

    def finish(self) -> tuple[tuple[Passage, ...], tuple[Section, ...]]:
        self._close_item()
        sections = [Section(s["title"], s["level"], tuple(s["items"])) for s in self.sections]
        return tuple(self.preamble), _without_empty(_strip_footer(tuple(sections)))


def _without_empty(sections: tuple[Section, ...]) -> tuple[Section, ...]:
    """A heading with nothing under it is not announced; a top heading whose subsections have items is kept.

    One pass from the end: `below[level]` says whether a section after this one, before the next heading
    of that level or higher, has items (a thousand empty headings cost a thousand steps, not a million)."""
    kept: list[Section] = []
    below = [False] * 8  # heading levels are 1 to 6
    for section in reversed(sections):
        level = min(section.level, 7)
        if section.items or below[level]:
            kept.append(section)
        below = [(found or bool(section.items)) if outer < level else False for outer, found in enumerate(below)]
    return tuple(reversed(kept))


def parse_html(content: str) -> tuple[tuple[Passage, ...], tuple[Section, ...]]:
    try:
        root = lxml.html.fragment_fromstring(content, create_parent="div")
    except (etree.ParserError, ValueError) as exc:
        raise IssueError(f"the issue's HTML cannot be read ({exc})") from None
    for bad in root.iter(*_DROP_TAGS):
        bad.drop_tree()
    for footnotes in [el for el in root.iter() if isinstance(el.tag, str) and _FOOTNOTES.search(_classes(el))]:
        footnotes.drop_tree()
    elements = list(_blocks(root))
    heading_levels = sorted({int(el.tag[1]) for el in elements if re.fullmatch(r"h[1-6]", el.tag)})
    builder = _Builder()
    for el in elements:
        if builder.has_items and _FOOTER.search(_text(el)):
            log.debug("the footer starts at %r", _text(el)[:60])
            break
        _read_block(el, builder, heading_levels)
    return builder.finish()


def _classes(el) -> str:
    return f"{el.get('class', '')} {el.get('id', '')}"


def _blocks(root: lxml.html.HtmlElement):
    """Passage-level elements in reading order, descending through wrappers (div, td, section, layout tables)."""
    for child in root:
        if not isinstance(child.tag, str):
            continue
        tag = child.tag.lower()
        if tag == "figure":
            yield from _figure(child)
        elif tag == "img":
            if _alt(child):
                yield child
        elif tag == "table" and not _has_blocks(child):
            yield child
        elif tag in _BLOCK_TAGS and tag != "table":
            yield child
        elif tag in ("br", "hr"):
            continue
        elif _has_blocks(child):
            yield from _blocks(child)
        elif _text(child):
            yield child


def _figure(figure):
    """A figure is described by its image's alt text, else by its caption; 'Figure 1 of the paper' says nothing."""
    described = [img for img in figure.iter("img") if _alt(img)]
    if described:
        yield from described
        return
    for caption in figure.iter("figcaption"):
        if re.sub(r"(?i)^(?:fig(?:ure)?\.?\s*\d+\s*[:.]?\s*)", "", _text(caption)).strip(" .") and not re.fullmatch(
            r"(?i)fig(?:ure)?\.?\s*\d+(?: of the (?:paper|post))?\.?", _text(caption)
        ):
            yield caption


def _has_blocks(el) -> bool:
    return any(isinstance(d.tag, str) and d.tag.lower() in _BLOCK_TAGS for d in el.iterdescendants())


def _alt(img) -> str:
    """An image's description, unless it is empty or only a file name."""
    alt = tidy(img.get("alt") or "")
    if not alt or re.fullmatch(r"(?i)[\w\s-]*\.(?:png|jpe?g|gif|svg|webp)|image|figure|img|photo|picture", alt):
        return ""
    return alt


def _read_block(el, builder: _Builder, heading_levels: list[int]) -> None:
    tag = el.tag.lower()
    if re.fullmatch(r"h[1-6]", tag):
        title = _text(el)
        if title:
            builder.heading(heading_case(title), _known_level(title) or heading_levels.index(int(tag[1])) + 1)
        return
    if tag in ("ul", "ol"):
        lines = tuple(_list_entries(el))
        if lines:
            builder.block(Passage(PassageKind.LIST, lines))
        return
    if tag == "blockquote":
        text = " ".join(t for child in _blocks_or_self(el) if (t := _text(child)))
        if text:
            builder.block(Passage(PassageKind.QUOTE, (text,)))
        return
    if tag == "table":
        rows = tuple(
            " | ".join(_text(cell) for cell in row if isinstance(cell.tag, str) and cell.tag.lower() in ("td", "th"))
            for row in el.iter("tr")
        )
        rows = tuple(r for r in rows if r.strip(" |"))
        if rows:
            builder.block(Passage(PassageKind.TABLE, rows))
        return
    if tag == "img":
        builder.block(Passage(PassageKind.IMAGE, (_alt(el),)))
        return
    if tag == "figcaption":
        builder.block(Passage(PassageKind.IMAGE, (re.sub(r"(?i)^fig(?:ure)?\.?\s*\d+\s*[:.]\s*", "", _text(el)),)))
        return
    _read_paragraph(el, builder)


def _blocks_or_self(el):
    inner = list(_blocks(el))
    return inner or [el]


def _list_entries(el):
    """Each entry of a list, nested lists flattened after their parent entry; ordered entries numbered."""
    ordered = el.tag.lower() == "ol"
    number = _list_start(el)
    for li in el:
        if not isinstance(li.tag, str) or li.tag.lower() != "li":
            continue
        nested = [sub for sub in li if isinstance(sub.tag, str) and sub.tag.lower() in ("ul", "ol")]
        own = copy.deepcopy(li)
        for sub in [s for s in own if isinstance(s.tag, str) and s.tag.lower() in ("ul", "ol")]:
            sub.drop_tree()
        text = _text(own)
        if text:
            yield f"{number}. {text}" if ordered else text
            number += 1
        for sub in nested:
            yield from _list_entries(sub)


def _list_start(el) -> int:
    """An ordered list's first number: its `start` if that is a plausible one (HTML allows it negative), else 1;
    never an int() of 'x', of '²' or of thousands of digits."""
    start = (el.get("start") or "").strip()
    return int(start) if re.fullmatch(r"-?[0-9]{1,6}", start) else 1


def _read_paragraph(el, builder: _Builder) -> None:
    text = _text(el)
    if not text:
        images = [alt for img in el.iter("img") if (alt := _alt(img))]
        if images:
            builder.block(Passage(PassageKind.IMAGE, (" ".join(images),)))
        return
    lead = _leading_bold(el)
    if lead is not None:
        lead_text = _text(lead)
        rest = _text_without(el, lead)
        opinion = _OPINION.match(lead_text)
        if opinion:
            builder.opinion(opinion.group("who").strip())
            if rest:
                builder.block(Passage.paragraph(rest))
            return
        if _READ_MORE.match(lead_text):
            builder.read_more([Link(_text(a), a.get("href")) for a in el.iter("a") if _text(a)] or [Link(rest)])
            return
        if not rest and _looks_like_heading(lead_text):
            builder.heading(heading_case(lead_text), _heading_level(lead_text, builder))
            return
        link, rest = _link(lead, el, rest)
        authors_el = _authors_element(lead)
        if authors_el is not None:
            authors = _text(authors_el).strip("() ")
            rest = re.sub(rf"^\(?{re.escape(authors)}\)?\s*", lambda _: f"({authors}) ", rest)
        header = _HEADER.match(rest)
        authors, by, body = header.group("first"), header.group("by"), header.group("body")
        if authors and re.match(r"(summarized|summarised)\s+by\s+", authors, re.I):
            by, authors = re.sub(r"^\S+\s+by\s+", "", authors), None
        if authors is not None or by is not None or link is not None:
            builder.start_item(lead_text.rstrip(":").strip(), link, authors, by)
            if body:
                builder.block(Passage.paragraph(body))
            return
    if _BOILERPLATE.search(text) and builder.item is None:
        return
    builder.block(Passage.paragraph(text))


def _leading_bold(el):
    """The <strong>/<b> a paragraph starts with, if any (text before it must be blank)."""
    if (el.text or "").strip():
        return None
    for child in el:
        if not isinstance(child.tag, str):
            continue
        tag = child.tag.lower()
        if tag in ("strong", "b"):
            return child
        if tag == "a" and len(child) and child[0].tag in ("strong", "b") and not (child.text or "").strip():
            return child
        if tag == "em" or tag == "i":
            # An opinion marked in italics: "<em>Rohin's opinion:</em>".
            return child if _OPINION.match(_text(child)) else None
        return None
    return None


def _link(lead, paragraph, rest: str) -> tuple[str | None, str]:
    """The item's link: inside the bold, around it, or just after it as '(<a>link</a>)'."""
    if lead.tag == "a":
        return publishable(lead.get("href")), rest
    anchor = lead.find(".//a")
    if anchor is not None:
        return publishable(anchor.get("href")), rest
    following = lead.getnext()
    if following is not None and following.tag == "a" and not (lead.tail or "").strip(" ("):
        label = _text(following)
        if re.fullmatch(r"(?i)link|here|pdf|paper|post|blog post|arxiv|article|web|site", label):
            rest = re.sub(rf"^\(?\s*{re.escape(label)}\s*\)?\s*", "", rest)
        return publishable(following.get("href")), rest
    return None, rest


def _authors_element(lead):
    """Authors in italics right after the title: '<strong>Title</strong> <em>(Ada Lovelace et al)</em>'."""
    following = lead.getnext()
    if following is None or following.tag not in ("em", "i") or (lead.tail or "").strip(" ("):
        return None
    text = _text(following)
    if not text or _OPINION.match(text) or len(text) > 200:
        return None
    return following


def _looks_like_heading(text: str) -> bool:
    plain = text.strip().rstrip(":")
    if not plain or len(plain) > 80:
        return False
    return _known_level(plain) is not None or (plain.isupper() and len(plain) > 2)


def _known_level(text: str) -> int | None:
    plain = text.strip().rstrip(":").lower()
    if plain in {h.lower() for h in TOP_HEADINGS}:
        return 1
    if plain in {h.lower() for h in SUB_HEADINGS}:
        return 2
    return None


def _heading_level(text: str, builder: _Builder) -> int:
    """A known heading has its level; an unknown one is a subsection once a section is open."""
    return _known_level(text) or (2 if builder.sections else 1)


def heading_case(title: str) -> str:
    """'TECHNICAL AI ALIGNMENT' reads and chapters as 'Technical AI alignment'; other titles stay."""
    title = title.strip().rstrip(":").strip()
    known = {h.lower(): h for h in TOP_HEADINGS + SUB_HEADINGS}
    if title.lower() in known:
        return known[title.lower()]
    if not title.isupper():
        return title
    words = title.split()
    out = []
    for i, word in enumerate(words):
        bare = re.sub(r"\W", "", word)
        if bare in ACRONYMS:
            out.append(word)
        elif i == 0:
            out.append(word.capitalize())
        else:
            out.append(word.lower())
    return " ".join(out)


def _text(el) -> str:
    """Readable text of an element: footnote markers and images dropped, powers kept, whitespace tidied."""
    el = copy.deepcopy(el)
    for anchor in list(el.iter("a")):
        href = anchor.get("href") or ""
        if re.match(r"#(?:fn|footnote|cite|ref)", href, re.I) and anchor.getparent() is not None:
            _drop(anchor)
    for sup in list(el.iter("sup")):
        _superscript(sup)
    for br in el.iter("br"):
        br.tail = " " + (br.tail or "")
    for cell in el.iter("td", "th", "li", "p", "div"):
        cell.tail = " " + (cell.tail or "")
    return tidy(el.text_content())


def _superscript(sup) -> None:
    """'10<sup>6</sup>' is a power; 'weights<sup>2</sup>' or '<sup>[1]</sup>' is a footnote marker."""
    text = (sup.text_content() or "").strip()
    if sup.getparent() is None:
        return
    if not text:
        _drop(sup)
        return
    previous = sup.getprevious()
    before = (previous.tail if previous is not None else sup.getparent().text) or ""
    if re.fullmatch(r"-?\d+|[a-z]", text) and _ends_in_a_base(before):
        sup.text, sup[:] = "^" + text, []
        return
    if re.fullmatch(r"\[?\d+\]?|[*†‡]|[a-z]", text):
        _drop(sup)


def _ends_in_a_base(text: str) -> bool:
    """Whether text ends in a digit or a lone letter ('10', 'x'): what a power is written after. Only the
    last two characters are looked at (a `$`-anchored search would try every position of the text)."""
    text = text[:-1] if text.endswith("\n") else text
    last, previous = text[-1:], text[-2:-1]
    if last.isdecimal():
        return True
    return last.isascii() and last.isalpha() and not (previous.isalnum() or previous == "_")


def _drop(el) -> None:
    if el.getparent() is not None:
        el.drop_tree()


def _text_without(el, lead) -> str:
    el = copy.deepcopy(el)
    for child in el:
        if isinstance(child.tag, str) and child.tag == lead.tag and _text(child) == _text(lead):
            child.drop_tree()
            break
    return _text(el)


def tidy(text: str) -> str:
    text = text.replace("\u00a0", " ").replace("\u200b", "").replace("\ufeff", "")
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\s+([.,;:!?)\]])", r"\1", text)
    text = re.sub(r"([(\[])\s+", r"\1", text)
    return text


def _strip_footer(sections: tuple[Section, ...]) -> tuple[Section, ...]:
    """Boilerplate paragraphs after the last item (subscribe, podcast, copyright) are not part of the issue."""
    sections = list(sections)
    while sections:
        last = sections[-1]
        items = list(last.items)
        while items and not items[-1].title and all(_BOILERPLATE.search(" ".join(b.lines)) for b in items[-1].passages):
            items.pop()
        sections[-1] = Section(last.title, last.level, tuple(items))
        if items or _known_level(last.title):
            break
        sections.pop()
    return tuple(sections)


# --- flattened text --------------------------------------------------------------------------------


def parse_text(content: str) -> tuple[tuple[Passage, ...], tuple[Section, ...]]:
    """The flattened email: headings are known words, items end at '(summarized by X):' markers."""
    text = tidy(content)
    headings = _find_headings(text)
    builder = _Builder()
    cursor = 0
    for start, end, title in headings + [(len(text), len(text), None)]:
        _read_text_run(text[cursor:start], builder)
        if title is not None:
            builder.heading(title, 1 if title in TOP_HEADINGS else 2)
        cursor = end
    return builder.finish()


_TEXT_HEADING = re.compile(
    r"(?:(?<=^)|(?<=\S ))(?P<h>"
    + "|".join(re.escape(n) for n in sorted(TOP_HEADINGS + SUB_HEADINGS, key=len, reverse=True))
    + r")(?= [A-Z0-9\"\u201c])"
)
"""A known heading inside the flattened text; each position is tried against a few dozen fixed words."""


def _find_headings(text: str) -> list[tuple[int, int, str]]:
    sentence_ends = [m.start() for m in re.finditer(r"\. ", text)]
    found: list[tuple[int, int, str]] = []
    for match in _TEXT_HEADING.finditer(text):
        start = match.start("h")
        if start and not _after_boundary(text, start, found, sentence_ends):
            continue
        found.append((start, match.end("h") + 1, match.group("h")))
    return found


def _after_boundary(text: str, start: int, found: list[tuple[int, int, str]], sentence_ends: list[int]) -> bool:
    """A heading follows a sentence end, a closing parenthesis, another heading, or a 'Read more' title.

    Only what is just before the heading is looked at, and the last '. ' is found by bisection in
    `sentence_ends` (every '. ' of the text, in order), so that many headings cost no more than one each."""
    if found and found[-1][1] >= start - 1:
        return True
    end = start
    while end and text[end - 1].isspace():
        end -= 1
    if end and text[end - 1] in ".!?)\"\u201d":
        return True
    last = bisect_right(sentence_ends, end - 2) - 1
    tail = sentence_ends[last] + 2 if last >= 0 else 0
    return end - tail >= 10 and text[tail:tail + 10].lower() == "read more:"


_TEXT_ITEM = re.compile(
    r" \((?P<authors>(?:[^()]|\([^()]*\))*)\)(?: \((?:summarized|summarised) by (?P<by>[^)]*)\))?:"
)
"""An item's header after its title: ' (Authors) (summarized by X):' or ' (summarized by X):', tried only
where a ' (' is; its scan stops at the second parenthesis it cannot pair, so no character is scanned by
more than a few tries."""
_TEXT_SUMMARIZED_BY = re.compile(r" \((?:summarized|summarised) by ")
_TEXT_OPINION = re.compile(r"(?:^|(?<=[.!?)] ))(?P<who>[A-Z][\w .-]{0,40}?)['\u2019]s opinion: ")
_TEXT_READ_MORE = re.compile(r"(?:^|(?<=[.!?)] ))Read more: ")
_TEXT_BARE_ITEM = re.compile(r"(?:^|(?<=[.!?] ))(?P<title>[^.!?]*?[^\s]) \((?P<authors>[^()]+)\)$")
"""A last item with authors but no summary; each try from a sentence start stops at the sentence's end."""


@dataclass(frozen=True)
class _Marker:
    """Where an item, an opinion or a 'Read more' starts in a run of flattened text, and what it says."""

    start: int
    end: int
    kind: str
    """"item", "opinion" or "more"."""
    title: str = ""
    """An item's title; for an opinion, whose it is."""
    authors: str | None = None
    by: str | None = None


def _read_text_run(run: str, builder: _Builder) -> None:
    """Items, opinions and 'Read more' inside the text between two headings."""
    run = run.strip()
    markers = _text_items(run)
    markers += [_Marker(m.start(), m.end(), "opinion", m.group("who")) for m in _TEXT_OPINION.finditer(run)]
    markers += [_Marker(m.start(), m.end(), "more") for m in _TEXT_READ_MORE.finditer(run)]
    if builder.sections:
        markers += [_Marker(m.start(), m.end(), "item", m.group("title"), m.group("authors"))
                    for m in _TEXT_BARE_ITEM.finditer(run)]
    markers.sort(key=lambda marker: marker.start)
    starts = [marker.start for marker in markers]
    cursor = 0
    for marker in markers:
        if marker.start < cursor:
            continue
        _text_paragraph(run[cursor:marker.start], builder)
        end = marker.end
        if marker.kind == "item":
            authors, by = marker.authors, marker.by
            if authors and re.match(r"summari[sz]ed by ", authors):
                authors, by = None, authors.split(" by ", 1)[1]
            builder.start_item(marker.title.strip(), None, authors, by)
        elif marker.kind == "opinion":
            builder.opinion(marker.title)
        else:
            following = bisect_right(starts, end)
            end = starts[following] if following < len(starts) else len(run)
            builder.read_more([Link(run[marker.end:end].strip())])
        cursor = end
    _text_paragraph(run[cursor:], builder)


def _text_items(run: str) -> list[_Marker]:
    """Each 'Title (Authors) (summarized by X):' in a run, in order. A title runs back from its header to
    the last sentence end or the previous header (found by bisection, not by a lazy scan from every
    position), so the whole run is read in time linear in its length."""
    sentence_ends = [m.start() for m in re.finditer(r"[.!?]", run)]
    closings = [m.start() for m in re.finditer(r"\)", run)]
    found: list[_Marker] = []
    cursor = 0
    for opening in re.finditer(r"(?<=\S) \(", run):
        at = opening.start()
        last = bisect_left(sentence_ends, at - 1) - 1
        begin = max(cursor, sentence_ends[last] + 1 if last >= 0 else 0)
        if at - 1 < begin:
            continue
        header = _TEXT_ITEM.match(run, at)
        if header:
            found.append(_Marker(begin, header.end(), "item", run[begin:at], header.group("authors"), header.group("by")))
            cursor = header.end()
            continue
        by = _TEXT_SUMMARIZED_BY.match(run, at)
        close = bisect_left(closings, by.end()) if by else len(closings)
        if close < len(closings) and run.startswith(":", closings[close] + 1):
            found.append(_Marker(begin, closings[close] + 2, "item", run[begin:at], None, run[by.end():closings[close]]))
            cursor = closings[close] + 2
    return found


def _text_paragraph(text: str, builder: _Builder) -> None:
    text = text.strip()
    if text:
        builder.block(Passage.paragraph(text))

"""Turn an issue's content (the feed's HTML, or the flattened plain text of an email) into an Issue."""

from __future__ import annotations

import copy
import logging
import re
from dataclasses import dataclass, field

import lxml.html
from lxml import etree

from .errors import IssueError
from .model import Block, BlockKind, Entry, Issue, Item, Link, Opinion, Section

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
        preamble, sections = parse_text(content)
    issue = Issue(entry.number, entry.title, entry.link, entry.published, preamble, sections)
    if not any(section.items for section in sections):
        raise NotAnIssue(
            f"entry #{entry.number} ({entry.title[:60]!r}) has no summaries: it is an announcement, not an issue"
        )
    return issue


# --- HTML ----------------------------------------------------------------------------------------


@dataclass
class _Builder:
    """Accumulates blocks into sections and items in reading order."""

    preamble: list[Block] = field(default_factory=list)
    sections: list[dict] = field(default_factory=list)
    item: dict | None = None
    target: list[Block] | None = None

    def heading(self, title: str, level: int) -> None:
        self._close_item()
        self.sections.append({"title": title, "level": level, "items": []})
        self.target = None

    def start_item(self, title: str, link: str | None, authors: str | None, by: str | None) -> None:
        self._close_item()
        if not self.sections:
            self.sections.append({"title": "", "level": 1, "items": []})
        self.item = dict(title=title, link=link, authors=authors, summarizer=by, blocks=[], opinions=[], read_more=[])
        self.target = self.item["blocks"]

    def opinion(self, who: str) -> None:
        if self.item is None:
            self.start_item("", None, None, None)
        blocks: list[Block] = []
        self.item["opinions"].append((who, blocks))
        self.target = blocks

    def read_more(self, links: list[Link]) -> None:
        if self.item is not None:
            self.item["read_more"].extend(links)

    def block(self, block: Block) -> None:
        if self.target is not None:
            self.target.append(block)
        elif not self.sections:
            self.preamble.append(block)
        else:
            self.start_item("", None, None, None)
            self.target.append(block)

    @property
    def has_items(self) -> bool:
        return self.item is not None or any(s["items"] for s in self.sections)

    def _close_item(self) -> None:
        if self.item is not None:
            item = self.item
            opinions = tuple(Opinion(who, tuple(blocks)) for who, blocks in item.pop("opinions"))
            self.sections[-1]["items"].append(
                Item(
                    blocks=tuple(item.pop("blocks")),
                    opinions=opinions,
                    read_more=tuple(item.pop("read_more")),
                    **item,
                )
            )
        self.item = None
        self.target = None

    def finish(self) -> tuple[tuple[Block, ...], tuple[Section, ...]]:
        self._close_item()
        sections = [Section(s["title"], s["level"], tuple(s["items"])) for s in self.sections]
        return tuple(self.preamble), _without_empty(_strip_footer(tuple(sections)))


def _without_empty(sections: tuple[Section, ...]) -> tuple[Section, ...]:
    """A heading with nothing under it is not announced; a top heading whose subsections have items is kept."""
    kept = []
    for index, section in enumerate(sections):
        if section.items or any(later.items for later in _subsections(sections[index + 1:], section.level)):
            kept.append(section)
    return tuple(kept)


def _subsections(following: tuple[Section, ...], level: int):
    for section in following:
        if section.level <= level:
            return
        yield section


def parse_html(content: str) -> tuple[tuple[Block, ...], tuple[Section, ...]]:
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
    """Block-level elements in reading order, descending through wrappers (div, td, section, layout tables)."""
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
            builder.block(Block(BlockKind.LIST, lines))
        return
    if tag == "blockquote":
        text = " ".join(t for child in _blocks_or_self(el) if (t := _text(child)))
        if text:
            builder.block(Block(BlockKind.QUOTE, (text,)))
        return
    if tag == "table":
        rows = tuple(
            " | ".join(_text(cell) for cell in row if isinstance(cell.tag, str) and cell.tag.lower() in ("td", "th"))
            for row in el.iter("tr")
        )
        rows = tuple(r for r in rows if r.strip(" |"))
        if rows:
            builder.block(Block(BlockKind.TABLE, rows))
        return
    if tag == "img":
        builder.block(Block(BlockKind.IMAGE, (_alt(el),)))
        return
    if tag == "figcaption":
        builder.block(Block(BlockKind.IMAGE, (re.sub(r"(?i)^fig(?:ure)?\.?\s*\d+\s*[:.]\s*", "", _text(el)),)))
        return
    _read_paragraph(el, builder)


def _blocks_or_self(el):
    inner = list(_blocks(el))
    return inner or [el]


def _list_entries(el):
    """Each entry of a list, nested lists flattened after their parent entry; ordered entries numbered."""
    ordered = el.tag.lower() == "ol"
    number = int(el.get("start") or 1)
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


def _read_paragraph(el, builder: _Builder) -> None:
    text = _text(el)
    if not text:
        images = [alt for img in el.iter("img") if (alt := _alt(img))]
        if images:
            builder.block(Block(BlockKind.IMAGE, (" ".join(images),)))
        return
    lead = _leading_bold(el)
    if lead is not None:
        lead_text = _text(lead)
        rest = _text_without(el, lead)
        opinion = _OPINION.match(lead_text)
        if opinion:
            builder.opinion(opinion.group("who").strip())
            if rest:
                builder.block(Block.paragraph(rest))
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
            rest = re.sub(rf"^\(?{re.escape(_text(authors_el).strip('() '))}\)?\s*", f"({authors}) ", rest)
        header = _HEADER.match(rest)
        authors, by, body = header.group("first"), header.group("by"), header.group("body")
        if authors and re.match(r"(summarized|summarised)\s+by\s+", authors, re.I):
            by, authors = re.sub(r"^\S+\s+by\s+", "", authors), None
        if authors is not None or by is not None or link is not None:
            builder.start_item(lead_text.rstrip(":").strip(), link, authors, by)
            if body:
                builder.block(Block.paragraph(body))
            return
    if _BOILERPLATE.search(text) and builder.item is None:
        return
    builder.block(Block.paragraph(text))


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
        return _web(lead.get("href")), rest
    anchor = lead.find(".//a")
    if anchor is not None:
        return _web(anchor.get("href")), rest
    following = lead.getnext()
    if following is not None and following.tag == "a" and not (lead.tail or "").strip(" ("):
        label = _text(following)
        if re.fullmatch(r"(?i)link|here|pdf|paper|post|blog post|arxiv|article|web|site", label):
            rest = re.sub(rf"^\(?\s*{re.escape(label)}\s*\)?\s*", "", rest)
        return _web(following.get("href")), rest
    return None, rest


def _web(href: str | None) -> str | None:
    return href if href and re.match(r"https?://", href) else None


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
    if re.fullmatch(r"-?\d+|[a-z]", text) and re.search(r"(?:\d|\b[A-Za-z])$", before):
        sup.text, sup[:] = "^" + text, []
        return
    if re.fullmatch(r"\[?\d+\]?|[*†‡]|[a-z]", text):
        _drop(sup)


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
        while items and not items[-1].title and all(_BOILERPLATE.search(" ".join(b.lines)) for b in items[-1].blocks):
            items.pop()
        sections[-1] = Section(last.title, last.level, tuple(items))
        if items or _known_level(last.title):
            break
        sections.pop()
    return tuple(sections)


# --- flattened text --------------------------------------------------------------------------------


def parse_text(content: str) -> tuple[tuple[Block, ...], tuple[Section, ...]]:
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


def _find_headings(text: str) -> list[tuple[int, int, str]]:
    names = sorted(TOP_HEADINGS + SUB_HEADINGS, key=len, reverse=True)
    alternation = "|".join(re.escape(n) for n in names)
    pattern = re.compile(rf"(?:(?<=^)|(?<=\S ))(?P<h>{alternation})(?= [A-Z0-9\"\u201c])")
    found = []
    for match in pattern.finditer(text):
        start = match.start("h")
        if start and not _after_boundary(text, start, found):
            continue
        found.append((start, match.end("h") + 1, match.group("h")))
    return found


def _after_boundary(text: str, start: int, found: list[tuple[int, int, str]]) -> bool:
    """A heading follows a sentence end, a closing parenthesis, another heading, or a 'Read more' title."""
    before = text[:start].rstrip()
    if found and found[-1][1] >= start - 1:
        return True
    if before.endswith((".", "!", "?", ")", '"', "\u201d")):
        return True
    tail = before[before.rfind(". ") + 2:] if ". " in before else before
    return tail.lower().startswith("read more:")


_TEXT_ITEM = re.compile(
    r"(?P<title>[^.!?]*?[^\s]) \((?P<authors>(?:[^()]|\([^()]*\))*)\)(?: \((?:summarized|summarised) by (?P<by>[^)]*)\))?:"
    r"|(?P<title2>[^.!?]*?[^\s]) \((?:summarized|summarised) by (?P<by2>[^)]*)\):"
)
_TEXT_OPINION = re.compile(r"(?:^|(?<=[.!?)] ))(?P<who>[A-Z][\w .-]{0,40}?)['\u2019]s opinion: ")
_TEXT_READ_MORE = re.compile(r"(?:^|(?<=[.!?)] ))Read more: ")


_TEXT_BARE_ITEM = re.compile(r"(?:^|(?<=[.!?] ))(?P<title>[^.!?]*?[^\s]) \((?P<authors>[^()]+)\)$")


def _read_text_run(run: str, builder: _Builder) -> None:
    """Items, opinions and 'Read more' inside the text between two headings."""
    run = run.strip()
    markers = [(m.start(), m.end(), "item", m) for m in _TEXT_ITEM.finditer(run)]
    markers += [(m.start(), m.end(), "opinion", m) for m in _TEXT_OPINION.finditer(run)]
    markers += [(m.start(), m.end(), "more", m) for m in _TEXT_READ_MORE.finditer(run)]
    if builder.sections:
        markers += [(m.start(), m.end(), "item", m) for m in _TEXT_BARE_ITEM.finditer(run)]
    markers.sort(key=lambda x: x[0])
    cursor = 0
    for start, end, kind, m in markers:
        if start < cursor:
            continue
        _text_paragraph(run[cursor:start], builder)
        if kind == "item":
            groups = m.groupdict()
            authors, by = groups.get("authors"), groups.get("by") or groups.get("by2")
            if authors and re.match(r"summari[sz]ed by ", authors):
                authors, by = None, authors.split(" by ", 1)[1]
            builder.start_item((groups.get("title") or groups.get("title2")).strip(), None, authors, by)
        elif kind == "opinion":
            builder.opinion(m.group("who"))
        else:
            later = [s for s, *_ in markers if s > end]
            stop = later[0] if later else len(run)
            builder.read_more([Link(run[end:stop].strip())])
            end = stop
        cursor = end
    _text_paragraph(run[cursor:], builder)


def _text_paragraph(text: str, builder: _Builder) -> None:
    text = text.strip()
    if text:
        builder.block(Block.paragraph(text))

"""Hostile input where the newsletter's bytes enter: no feed, issue or settings file can hang, crash or poison the job.

Class by class (issue 14): regular expressions run in time linear in what they read (measured as growth,
CPU time at ten times the input, never as seconds); characters XML cannot carry are cleaned once, in the
feed reader, so a published feed stays well-formed; a broken settings, corrections, lexicon or voice file
is one `error:` line naming the file, the key and what is wrong. Then random markup, driven by
hypothesis, through feed -> issue -> script -> notes -> feed XML.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st
from lxml import etree

from audio_edition import build, cli, feed, issue, notes, podcast, script
from audio_edition import settings as settings_module
from audio_edition.errors import EditionError, FeedError
from audio_edition.model import Episode, TimedChapter
from audio_edition.settings import UNSAFE_CHARACTERS

from conftest import REPO, SMALL_FEED, make_settings

HOSTILE = Path(__file__).resolve().parent / "fixtures" / "hostile"
PATTERN = r"^\s*\[AN #(?P<number>\d+)\]"
LINEAR = 30
"""Ten times the input may cost at most this many times as much: linear costs about 10, quadratic 100."""


def cpu_seconds(work, argument, repeat: int = 1) -> float:
    """The least CPU time of this process that `work(argument)` took in `repeat` runs (other processes on
    a shared machine do not count)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        work(argument)
        best = min(best, time.process_time() - started)
    return best


def assert_linear(work, make, size: int) -> None:
    """`work` on an input of 10 x `size` costs at most LINEAR times what it costs on `size` (1 ms at least)."""
    small = cpu_seconds(work, make(size), repeat=3)
    large = cpu_seconds(work, make(10 * size))
    assert large < LINEAR * max(small, 0.001), f"{small:.4f} s at {size}, {large:.4f} s at {10 * size}: not linear"


def rss(*items: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>Newsletter</title>'
            '<link>https://example.org/</link><description>d</description>' + "".join(items)
            + "</channel></rss>\n").encode("utf-8")


def item(title: str, content: str = "", *, link: str = "https://example.org/an/1", guid: str = "g",
         date: str = "Wed, 03 Jul 2019 16:30:00 +0000") -> str:
    body = content or ('<h1>News</h1><p><strong><a href="https://example.org/p">A paper</a></strong> '
                       "(summarized by Rohin): It works.</p>")
    return (f"<item><title>{title}</title><link>{link}</link><guid isPermaLink=\"false\">{guid}</guid>"
            f"<pubDate>{date}</pubDate><description><![CDATA[{body}]]></description></item>")


def entry(content: str):
    [found] = feed.parse_entries(rss(item("[AN #70]: A test issue", content)), PATTERN)
    return found


def settings_file(folder: Path, cache: Path) -> Path:
    """edition.toml with the show's assets at absolute paths and episodes/, public/ and the cache elsewhere."""
    text = (REPO / "edition.toml").read_text(encoding="utf-8")
    values = {"intro": REPO / "audio/intro.wav", "outro": REPO / "audio/outro.wav", "cover": REPO / "audio/cover.jpg",
              "voices": REPO / "voices", "episodes": folder / "episodes", "public": folder / "public", "cache": cache}
    for key, value in values.items():
        text, count = re.subn(rf'(?m)^{key} = "[^"]*"', f'{key} = "{value}"', text)
        assert count == 1, key
    path = folder / "edition.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --- class 1: regular expressions on untrusted text ---------------------------------------------------------


def test_feed_sniffing_skips_leading_comments_in_one_pass():
    """`(<!--.*?-->\\s*)*<html` once tried every way of splitting a run of comments: minutes for 200 bytes."""
    with pytest.raises(FeedError, match="is an HTML page"):
        feed.parse_entries(b"<!---->" * 500 + b"<html><body>502</body></html>", PATTERN)
    with pytest.raises(FeedError, match="not well-formed"):
        feed.parse_entries(b"<!---->" * 580 + b"x", PATTERN)
    assert_linear(lambda data: pytest.raises(FeedError, feed.parse_entries, data, PATTERN),
                  lambda n: b"<!---->" * (n // 7) + b"x", 400)


RUNS = {
    "words without a sentence end": "word ",
    "parentheses never closed": "a (",
    "titles with parentheses": "x (y) ",
    "headers never finished": "T (summarized by ",
    "headers": "T (A) (summarized by R): x ",
    "opinions": "A's opinion ",
    "read more": "Read more: x ",
    "heading words": "News a ",
    "sentences": "A. ",
    "URL-like text": "https://example.org/a?b=c www.example.org/x ",
    "years": "1999 2000 2019 ",
    "dotted words": "arxiv.org.abs.v2 e.g. i.e. ",
    "approximately one": "~1 ",
    "entities": "&amp;&#169;&lt;b&gt; ",
}
"""Runs of what once made parsing slow somewhere, each repeated to the size measured."""


@pytest.mark.parametrize("run", RUNS.values(), ids=RUNS.keys())
@pytest.mark.parametrize("markup", [False, True], ids=["text", "html"])
def test_an_issue_of_any_text_parses_in_linear_time(run, markup):
    """Once, a flattened issue of 16 KB without sentence ends took 5 s, and 10 KB of 'T (summarized by '
    more than five minutes: a lazy scan retried from every position."""
    def make(size: int):
        text = "Highlights " + run * (size // len(run))
        if markup:
            text = ('<h1>News</h1><p><strong><a href="https://example.org/p">T</a></strong> (summarized by R): '
                    f"{text}</p>")
        return entry(text)

    def work(found):
        try:
            script.write(issue.parse(found))
        except issue.NotAnIssue:
            pass

    assert_linear(work, make, 10_000)


HTML_RUNS = {
    "paragraphs": "<p>x y</p>",
    "powers": "a<sup>2</sup> ",
    "list entries": "<ul><li>a</li></ul>",
    "headings without items": "<h2>Heading</h2>",
    "items": "<p><strong>T</strong> (A) (summarized by R): x</p>",
    "opinions": "<p><strong>Rohin's opinion:</strong> a</p>",
    "table rows": "<table><tr><td>a</td><td>b</td></tr></table>",
}


@pytest.mark.parametrize("run", HTML_RUNS.values(), ids=HTML_RUNS.keys())
def test_an_issue_of_any_markup_parses_in_linear_time(run):
    """Once, each element asked whether any earlier section had items, and each heading searched the rest."""
    def make(size: int):  # the run first: every element of it is read while no item is open yet
        return entry("<h1>News</h1>" + run * (size // len(run)) + '<p><strong><a href="https://example.org/p">T</a>'
                     "</strong> (summarized by R): x.</p>")

    assert_linear(lambda found: script.write(issue.parse(found)), make, 10_000)


def adversarial_entry(size: int, markup: bool):
    """An issue of about `size` characters in which each of RUNS is one long run: as HTML, each run an item's
    paragraph inside nested inline markup, or as the flattened text of an email."""
    each = size // len(RUNS)
    parts = ["<h1>News</h1>" if markup else "News "]
    for number, run in enumerate(RUNS.values(), 1):
        text = (run * (each // len(run) + 1))[:each]
        parts.append(f'<p><strong><a href="https://example.org/{number}">Item {number}</a></strong> (summarized by '
                     f"Rohin): <em><b><i>{text}</i></b></em></p>" if markup else f"Item {number} (summarized by Rohin): {text}")
    return entry("".join(parts))


def test_a_megabyte_of_adversarial_text_is_parsed_and_scripted_in_linear_time():
    """Every run at once, at 10 KB, 100 KB and 1 MB, as HTML and as text: each size costs at most LINEAR
    times the one before (the bench's hostile-input row measures the same, with normalization)."""
    for markup in (True, False):
        def work(size: int) -> None:
            written = script.write(issue.parse(adversarial_entry(size, markup)))
            assert len(written.segments) > len(RUNS), "every run was read"

        small, medium, large = (cpu_seconds(work, size, repeat=2) for size in (10_000, 100_000, 1_000_000))
        assert medium < LINEAR * max(small, 0.001) and large < LINEAR * medium, (markup, small, medium, large)


# --- class 3: characters XML cannot carry --------------------------------------------------------------------


UNSAFE = ["&#0;", "&#1;", "&#x0B;", "&#x1B;", "&#x7F;", "&#x85;", "&#xD800;", "&#xDFFF;", "&#xFFFE;", "&#xFFFF;",
          "&#xFDD0;", "&#x202E;", "&#x110000;", "&#0000000000001;", "&#x00000000FFFF;", "&#1"]
"""Written as character references, which a well-formed feed can carry inside its HTML: raw, expat refuses them."""


def _texts(found) -> list[str]:
    parsed = issue.parse(found)
    out = [found.title, found.link, found.guid, found.content, parsed.title]
    for section in parsed.sections:
        out.append(section.title)
        for paper in section.items:
            out += [paper.title, paper.link or "", paper.authors or "", paper.summarizer or ""]
            out += [line for passage in paper.passages for line in passage.lines]
    return out + [segment.text for segment in script.write(parsed).segments]


@pytest.mark.parametrize("reference", UNSAFE)
def test_characters_xml_cannot_carry_are_cleaned_where_the_feed_is_read(reference):
    title = f"<![CDATA[[AN #12]: a{reference}b <b>bold</b>]]>"
    content = (f'<h1>News</h1><p><strong><a href="https://example.org/p{reference}">A paper{reference}</a></strong> '
               f"(summarized by Rohin{reference}): It reads{reference} well.</p>")
    escaped = reference.replace("&", "&amp;")  # outside the HTML, an XML parser would refuse the reference itself
    [found] = feed.parse_entries(rss(item(title, content, link=f"https://example.org/{escaped}",
                                          guid=f"g&#x85;{escaped}\t\n")), PATTERN)
    assert re.fullmatch(r"a[ \u2026]?b bold", found.title)  # feedparser reads C1 references as Windows-1252
    for text in _texts(found):
        assert not UNSAFE_CHARACTERS.search(text), text
        assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202e]", text), text
        etree.Element("t").text = text  # lxml refuses any character XML cannot carry
    assert "\n" not in found.guid and "\t" not in found.guid


def test_a_feed_with_characters_xml_cannot_carry_is_published_well_formed(tmp_path, speech_cache):
    """The real job (`watch --once`, a process): before, such a title ended `publish` in a traceback."""
    toml = settings_file(tmp_path, speech_cache)
    done = subprocess.run([sys.executable, "-m", "audio_edition", "--settings", str(toml), "watch", "--once",
                           "--feed", str(HOSTILE / "unsafe-characters.xml")],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    [warning] = [line for line in done.stderr.splitlines() if "not plausible" in line]
    assert "issue number 999999999999... (400 digits) is not plausible (at most 99999)" in warning
    xml = (tmp_path / "public" / "feed.xml").read_bytes()
    root = etree.fromstring(xml)  # well-formed, or this raises
    assert not feedparser.parse(xml).bozo
    [title] = [i.findtext("title") for i in root.iter("item")]
    assert title == "Alignment Newsletter #12: Nul bell [31mcharacters"
    for text in root.itertext():
        assert not UNSAFE_CHARACTERS.search(text)
    spoken = (tmp_path / "episodes" / "an-012" / "script.txt").read_text(encoding="utf-8")
    assert "A paper about odd characters" in spoken and "It reads well" in spoken


# --- attacks on the feed reader beyond the classes --------------------------------------------------------------


@pytest.mark.parametrize("digits", ["9" * 400, "9" * 5000, "100000"])
def test_an_absurd_issue_number_is_skipped_with_one_line(digits, caplog):
    entries = feed.parse_entries(rss(item(f"[AN #{digits}]: Big"), item("[AN #7]: Small", guid="g7")), PATTERN)
    assert [e.number for e in entries] == [7]
    [line] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "is not plausible (at most 99999)" in line and len(line) < 300


def test_an_issue_number_that_is_not_a_number_is_skipped(caplog):
    entries = feed.parse_entries(rss(item("[AN #seven]: Words"), item("[AN #7]: Digits", guid="g7")),
                                 r"^\[AN #(?P<number>\w+)\]")
    assert [e.number for e in entries] == [7]
    assert "its issue number 'seven' is not a number" in caplog.text


@pytest.mark.parametrize("date, what", [
    ("9999-12-31T23:59:59-14:00", "has an impossible date (10000-01-01)"),  # once a ValueError
    ("Wed, 03 Jul 2999 16:30:00 +0000", "is dated 2999-07-03, in the future"),
    ("&lt;script&gt;", None),
])
def test_a_date_that_cannot_be_or_is_in_the_future_is_taken_as_undated(date, what, caplog):
    [found] = feed.parse_entries(rss(item("[AN #7]: Dated", date=date)), PATTERN)
    assert found.published == feed.EPOCH
    if what:
        assert f"{what}; taking it as undated" in caplog.text


def test_deep_nesting_a_megabyte_title_and_entities_only_are_handled():
    deep = rss("<x>" * 20_000 + "</x>" * 20_000, item("[AN #7]: Deep"))
    assert [e.number for e in feed.parse_entries(deep, PATTERN)] == [7]
    [long] = feed.parse_entries(rss(item("[AN #7]: " + "word " * 200_000)), PATTERN)
    assert len(long.title) <= feed.MAX_TITLE
    [blank] = feed.parse_entries(rss(item("[AN #7]: Blank", "&nbsp;&#32;&#x20;&#160;&#8203;")), PATTERN)
    with pytest.raises(issue.NotAnIssue, match="has no summaries"):
        issue.parse(blank)


def test_an_authors_line_with_backslashes_is_text_not_a_replacement_template():
    """`re.sub` read '(A\\q)' as a template: 'bad escape \\q', a traceback."""
    found = entry('<h1>News</h1><p><strong><a href="https://example.org/p">T</a></strong> <em>(A\\q \\1 \\g&lt;0&gt;)</em> '
                  "(summarized by R): Body.</p>")
    [paper] = issue.parse(found).sections[0].items
    assert paper.authors == "A\\q \\1 \\g<0>"


@pytest.mark.parametrize("start", ["x", "9" * 5000, "\u00b2", "99999999999999999999"])
def test_an_ordered_list_that_starts_at_no_plausible_number_starts_at_one(start):
    """int() of an attribute the newsletter wrote: 'x' or '²' once ended the build in a traceback."""
    found = entry('<h1>News</h1><p><strong><a href="https://example.org/p">T</a></strong> (summarized by R): a.</p>'
                  f'<ol start="{start}"><li>one</li><li>two</li></ol>')
    [paper] = issue.parse(found).sections[0].items
    assert paper.passages[-1].lines == ("1. one", "2. two")


# --- class 8: settings, corrections, lexicon and voice files ---------------------------------------------------


def run_cli(caplog, *args: str) -> list[str]:
    """The real command line in this process: its exit status must be 1, and its `error:` lines are returned."""
    caplog.set_level(logging.INFO)
    assert cli.main(list(args)) == 1
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert all(line.startswith("error: ") and "\n" not in line for line in lines), lines
    assert "Traceback" not in caplog.text
    return lines


BOM = b"\xef\xbb\xbf"
SETTINGS_CASES = {
    "byte-order mark": (BOM + b"[audio]\nbitrate = 96\n", "starts with a byte-order mark"),
    "not UTF-8": (b'[podcast]\ntitle = "caf\xe9"\n', r"not UTF-8 \(byte 0xe9 on line 2\)"),
    "inf": (b"[audio]\nloudness = inf\n", "audio.loudness must be a finite number, not inf"),
    "nan": (b"[audio]\ntrue_peak = nan\n", "audio.true_peak must be a finite number, not nan"),
    "an integer that is infinite": (b"[audio]\nbitrate = -inf\n", "audio.bitrate must be a finite number, not -inf"),
    "a fraction for a whole number": (b"[audio]\nbitrate = 96.5\n", "audio.bitrate must be a whole number"),
    "400 digits": (b"[limits]\nmax_words = " + b"9" * 400 + b"\n", "limits.max_words is too large a number"),
    "5000 digits": (b"[limits]\nmax_words = " + b"9" * 5000 + b"\n", "holds an integer of thousands of digits"),
    "nested arrays": (b"[podcast]\ntitle = " + b"[" * 5000 + b"]" * 5000 + b"\n", "nested more than 16 levels deep"),
    "nested tables": (b"[" + b".".join([b"a"] * 3000) + b"]\n", r"a\.a\.a.* is nested more than 16 levels deep"),
    "a pattern that does not compile": (b"[newsletter]\nissue_pattern = '(?P<number>\\d+'\n",
                                        r"newsletter.issue_pattern does not compile as RE2 syntax.*missing \)"),
    "a pattern with lookbehind": (b"[newsletter]\nissue_pattern = '(?<=#)(?P<number>\\d+)'\n",
                                  r"newsletter.issue_pattern does not compile as RE2 syntax"),
    "a pattern without number": (b"[newsletter]\nissue_pattern = '\\[AN #(\\d+)\\]'\n",
                                 r"newsletter.issue_pattern has no \(\?P<number>...\) group"),
    "a control character": (b'[podcast]\ntitle = "a\\u0007b"\n', r"podcast.title holds a control character .*U\+0007"),
    "a NUL in a path": (b'[paths]\npublic = "pub\\u0000lic"\n', r"paths.public holds a control character .*U\+0000"),
    "a key with a newline": (b'[audio]\n"bit\\nrate" = 1\n', r'unknown setting audio."bit\\nrate"'),
}


@pytest.mark.parametrize("raw, message", SETTINGS_CASES.values(), ids=SETTINGS_CASES.keys())
def test_a_broken_settings_file_is_one_line_naming_file_key_and_fault(tmp_path, caplog, raw, message):
    path = tmp_path / "edition.toml"
    path.write_bytes(raw)
    [line] = run_cli(caplog, "--settings", str(path), "script", "--feed", str(SMALL_FEED))
    assert line.startswith(f"error: {path}: "), line
    assert re.search(message, line), line


def test_a_number_given_as_a_flag_must_be_finite_too(caplog):
    [line] = run_cli(caplog, "--settings", str(REPO / "edition.toml"), "--set", "audio.loudness=nan", "script",
                     "--feed", str(SMALL_FEED))
    assert line == "error: audio.loudness must be a finite number, not nan"


CORRECTIONS_CASES = {
    "say a number": ('[[correction]]\nfind = "It works."\nsay = 3\n', "correction 1: say must be a string, not 3"),
    "say missing": ('[[correction]]\nfind = "It works."\n', 'correction 1 needs find = "..." and say = "..."'),
    "find a list": ('[[correction]]\nfind = ["a"]\nsay = ""\n', r"correction 1: find must be a string, not \['a'\]"),
    "find empty": ('[[correction]]\nfind = "  "\nsay = "x"\n', "correction 1 has an empty find"),
    "say with a control character": ('[[correction]]\nfind = "It"\nsay = "a\\u0001"\n', r"say holds a control character \(U\+0001\)"),
    "nan": ('[[correction]]\nfind = "It"\nsay = ""\nweight = nan\n', r"correction\[0\].weight must be a finite number"),
    "byte-order mark": ("\ufeff[[correction]]\nfind = \"It\"\nsay = \"\"\n", "starts with a byte-order mark"),
}


@pytest.mark.parametrize("text, message", CORRECTIONS_CASES.values(), ids=CORRECTIONS_CASES.keys())
def test_a_broken_corrections_file_is_one_line_before_any_synthesis(tmp_path, speech_cache, caplog, text, message):
    toml = settings_file(tmp_path, tmp_path / "empty-cache")
    path = tmp_path / "episodes" / "an-007" / "corrections.toml"
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    [line] = run_cli(caplog, "--settings", str(toml), "episode", "--no-publish", "--issue", "7", "--feed", str(SMALL_FEED))
    assert line.startswith(f"error: {path}: ") and re.search(message, line), line
    assert not list((tmp_path / "empty-cache").rglob("*.wav")), "nothing was synthesized"


VOICE_CASES = {
    "lexicon: a number": ("lexicon", "[words]\nAsya = 3\n", "words.Asya: say must be a non-empty string"),
    "lexicon: an empty word": ("lexicon", '[words]\n"" = "x"\n', "words has an empty word"),
    "lexicon: nan": ("lexicon", "[words]\nAsya = { say = nan }\n", "words.Asya.say must be a finite number, not nan"),
    "lexicon: not UTF-8": ("lexicon", b"[words]\nAsya = \"\xff\"\n", r"not UTF-8 \(byte 0xff on line 2\)"),
    "profile: inf": ("profile", "sentence_silence = inf", "sentence_silence must be a finite number, not inf"),
    "profile: a word": ("profile", 'sentence_silence = "x"', "sentence_silence must be a number of seconds, 0 or more, not 'x'"),
    "profile: nesting": ("profile", "x = " + "[" * 3000 + "]" * 3000 + "\n", "nested more than 16 levels deep"),
}


@pytest.mark.parametrize("which, text, message", VOICE_CASES.values(), ids=VOICE_CASES.keys())
def test_a_broken_lexicon_or_voice_profile_is_one_line(tmp_path, caplog, which, text, message):
    voices = tmp_path / "voices"
    voices.mkdir()
    for original in (REPO / "voices").glob("*.toml"):
        (voices / original.name).write_bytes(original.read_bytes())
    profile = settings_module.load(REPO / "edition.toml").voice.profile
    path = voices / ("lexicon.toml" if which == "lexicon" else f"{profile}.toml")
    if isinstance(text, str) and text.startswith("sentence_silence = "):  # the profile in use, with this value
        text = text + "\n" + re.sub(r"(?m)^sentence_silence = .*$", "", path.read_text(encoding="utf-8"))
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    settings = settings_file(tmp_path, tmp_path / "cache")
    settings.write_text(settings.read_text(encoding="utf-8").replace(f'voices = "{REPO / "voices"}"', f'voices = "{voices}"'))
    [line] = run_cli(caplog, "--settings", str(settings), "say", "Hello.", "-o", str(tmp_path / "say.wav"))
    assert line.startswith(f"error: {path}: ") and re.search(message, line), line


# --- property-based: random markup through the whole text pipeline ----------------------------------------------


_WORDS = st.sampled_from([
    "alignment", "News", "Highlights", "Read more:", "Rohin's opinion:", "(summarized by Rohin):", "(Ada et al)",
    "(", ")", ":", ".", "A.", "~1", "1999", "e.g.", "10^6", "$4.6M", "GPT-3", "]]>", "<![CDATA[", "-->", "&amp;",
    "&#0;", "&#xFFFF;", "&#xD800;", "&lt;script&gt;", "\u202e", "\u0085", "\u00a0", "\U0001F916", "'", '"',
])
_TEXT = st.lists(st.one_of(_WORDS, st.text(max_size=12)), max_size=12).map(" ".join)
_URLS = st.sampled_from([
    "https://example.org/paper", "javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:x", "data:text/html,<b>",
    "//evil.example/", "http:/x", "https://u:p@example.org/", "vbscript:x", "file:///etc/passwd", "#fn1", "",
])
_TAGS = st.sampled_from(["p", "h1", "h2", "h3", "strong", "b", "em", "a", "ul", "li", "ol", "blockquote", "table",
                         "tr", "td", "sup", "div", "script", "iframe", "img", "figure", "figcaption", "svg"])


@st.composite
def _markup(draw, depth: int = 0) -> str:
    """A fragment of HTML: text, or an element with hostile attributes around more fragments."""
    if depth > 3 or draw(st.booleans()):
        return draw(_TEXT).replace("<", "&lt;") if draw(st.booleans()) else draw(_TEXT)
    tag = draw(_TAGS)
    attributes = ""
    if draw(st.booleans()):
        attribute = draw(st.sampled_from(["href", "src", "onclick", "alt", "class", "style"]))
        attributes = f' {attribute}="{draw(_URLS)}"'
    inner = "".join(draw(st.lists(_markup(depth + 1), max_size=3)))
    run = draw(st.sampled_from(["", "x" * 2000, "A. " * 300, "(" * 300, "<b>" * 100]))
    return f"<{tag}{attributes}>{inner}{run}</{tag}>"


@st.composite
def _issue_html(draw) -> str:
    parts = ["<h1>News</h1>"]
    for _ in range(draw(st.integers(1, 4))):
        parts.append(f'<p><strong><a href="{draw(_URLS)}">{draw(_TEXT)}</a></strong> (summarized by Rohin): '
                     f"{draw(_markup())}</p>")
        parts.append(draw(_markup()))
    return "".join(parts)


@st.composite
def _issue_text(draw) -> str:
    """The flattened text of an email: headings, headers and opinions are only words here."""
    words = draw(st.lists(st.one_of(_WORDS, _TEXT, st.sampled_from(["News", "Title (Ada) (summarized by Flo):"])),
                          min_size=1, max_size=40))
    return "News " + " ".join(words)


def _cdata(text: str) -> str:
    return text.replace("]]>", "]]]]><![CDATA[>")


def _referenced(text: str) -> str:
    """Characters XML cannot carry as the character references a well-formed feed can hold in its HTML."""
    return UNSAFE_CHARACTERS.sub(lambda m: f"&#{ord(m.group())};", text)


def _feed(title: str, link: str, content: str) -> bytes:
    from xml.sax.saxutils import escape

    return rss(item(escape(_referenced(f"[AN #42]: {title}")), _cdata(_referenced(content)), link=escape(link)))


def _show_xml(found, settings) -> bytes:
    """feed -> issue -> script -> notes -> the podcast feed, as a build and publish make them (no audio)."""
    parsed = issue.parse(found)
    written = script.write(parsed)
    timed = tuple(TimedChapter(chapter, 10.0 * n, 10.0 * n + 10) for n, chapter in enumerate(written.chapters))
    credits = notes.Credits("Joe", "CC0", "Music by audio-edition", "audio@example.org")
    episode = Episode(
        number=parsed.number, title=build.episode_title(settings, parsed), guid=podcast.episode_guid("AN", parsed.number),
        published=parsed.published, slug="an-042", link=parsed.link,
        description=notes.description(parsed, settings.newsletter.name), audio="an-042.mp3", script="script.txt",
        transcript="transcript.vtt", chapters="chapters.json", duration=10.0 * len(timed), audio_bytes=1000,
    )
    base = "https://example.org/show"
    media = podcast.Media(f"{base}/an-042/an-042.mp3", 1000, f"{base}/an-042/transcript.vtt",
                          f"{base}/an-042/chapters.json",
                          notes=notes.show_notes(parsed, timed, credits, settings.newsletter.name))
    return podcast.feed_xml(settings.podcast, [(episode, media)])


def _urls(root) -> list[str]:
    """Every URL the feed carries: attributes, link elements, and the hrefs and srcs inside its HTML."""
    import lxml.html

    found = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        found += [value for name, value in element.attrib.items() if etree.QName(name).localname in ("href", "url", "src")]
        if etree.QName(element).localname == "link" and element.text:
            found.append(element.text)
        if etree.QName(element).localname in ("encoded", "description", "summary") and (element.text or "").strip():
            fragment = lxml.html.fragment_fromstring(element.text, create_parent="div")
            found += [v for e in fragment.iter() if isinstance(e.tag, str) for k, v in e.attrib.items() if k in ("href", "src")]
    return found


@hypothesis_settings(max_examples=80, deadline=None, derandomize=True, database=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                            HealthCheck.function_scoped_fixture])
@given(title=_TEXT, link=_URLS, content=st.one_of(_issue_html(), _issue_text()))
def test_random_markup_through_the_pipeline_gives_a_valid_feed_or_one_of_our_errors(tmp_path, title, link, content):
    settings = make_settings(tmp_path)
    try:
        [read] = feed.parse_entries(_feed(title, link, content), settings.newsletter.issue_pattern)
        xml = _show_xml(read, settings)
    except EditionError:
        return
    root = etree.fromstring(xml)
    assert not feedparser.parse(io.BytesIO(xml)).bozo
    for text in root.itertext():
        assert not UNSAFE_CHARACTERS.search(text)
    for url in _urls(root):
        if url.startswith("mailto:"):
            continue
        assert urlsplit(url).scheme in ("http", "https") and url == url.strip(), url
    # The cost per byte stays bounded: the issue's content ten times over costs about ten times as much.
    once = cpu_seconds(lambda e: _show_xml(e, settings), read, repeat=2)
    tenfold = cpu_seconds(lambda e: _show_xml(e, settings), dataclasses.replace(read, content=read.content * 10))
    assert tenfold < LINEAR * max(once, 0.005), (once, tenfold)


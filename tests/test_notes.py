"""Show notes: every paper with its start time and link, credits, and nothing a podcast app could run."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import lxml.html
import pytest
from lxml import etree

from audio_edition import issue as issue_module
from audio_edition import notes
from audio_edition.model import Passage, Chapter, Entry, Issue, Item, Section, TimedChapter
from conftest import FIXTURES

NEWSLETTER = "Alignment Newsletter"
CREDITS = notes.Credits(
    voice="Joe (Piper voice en_US-joe-medium)",
    voice_licence="Voice licensed under CC BY 4.0",
    music="Intro and outro music made by the audio-edition project",
    feedback="feedback@example.org",
)
ALLOWED = {"p", "h3", "ul", "ol", "li", "a", "strong", "em"}


def parsed(path, number: int, title: str = "A test issue", link: str = "https://example.org/an/issue") -> Issue:
    published = datetime(2019, 10, 2, tzinfo=timezone.utc)
    return issue_module.parse(Entry(number, title, link, "guid", published, path.read_text(encoding="utf-8")))


def chapters_for(issue: Issue, skip: tuple[int, int] | None = None, step: float = 333.3) -> list[TimedChapter]:
    """Chapters as the build makes them: intro, an announcement per section (toc=False), one per item."""
    plan = [Chapter("Introduction")]
    for s, section in enumerate(issue.sections):
        plan.append(Chapter(section.title, toc=False))
        plan += [Chapter(item.title, item.link, item=(s, i)) for i, item in enumerate(section.items) if (s, i) != skip]
    starts = [0.0] + [45.0 + step * n for n in range(len(plan) - 1)]
    ends = starts[1:] + [starts[-1] + 60.0]
    return [TimedChapter(chapter, start, end) for chapter, start, end in zip(plan, starts, ends)]


def fragment(html: str):
    return lxml.html.fragment_fromstring(html, create_parent="div")


def elements(html: str):
    return [el for el in fragment(html).iterdescendants() if isinstance(el.tag, str)]


def assert_only_allowed_markup(html: str) -> None:
    """Parsed, not string-matched: the tags, the attributes, and every href's scheme."""
    root = fragment(html)
    assert not [node for node in root.iterdescendants() if not isinstance(node.tag, str)], "comments or PIs"
    for el in root.iterdescendants():
        assert el.tag in ALLOWED, el.tag
        if el.tag == "a":
            assert list(el.attrib) == ["href"], el.attrib
            assert re.match(r"(https?://[^\s/]+|mailto:[^:/?\s]+@)", el.get("href")), el.get("href")
        else:
            assert not el.attrib, (el.tag, el.attrib)
    assert "]]>" not in html


@pytest.fixture(scope="module")
def an066() -> Issue:
    return parsed(FIXTURES / "an-066.html", 66, "Utility ≠ Reward, 2-D robustness")


@pytest.fixture(scope="module")
def hostile() -> Issue:
    return parsed(
        FIXTURES / "hostile" / "notes-issue.html", 9, '<script>alert("t")</script> Hostile ]]> issue', "javascript:alert('issue')"
    )


# --- a real issue ------------------------------------------------------------------------------------


def test_every_item_is_listed_in_section_order_with_its_start_time_link_authors_and_summarizer(an066):
    chapters = chapters_for(an066)
    html = notes.show_notes(an066, chapters, CREDITS, NEWSLETTER)
    root = fragment(html)
    starts = {tc.chapter.item: tc.start for tc in chapters if tc.chapter.item}

    listed = [(el.getprevious().text_content(), el) for el in root.iter("ul")]
    expected_sections = [(s, section) for s, section in enumerate(an066.sections) if section.items]
    assert [title for title, _ in listed] == [section.title for _, section in expected_sections]
    assert "Technical AI alignment" not in [title for title, _ in listed]  # a heading with no items of its own
    for (title, ul), (s, section) in zip(listed, expected_sections):
        entries = ul.findall("li")
        assert len(entries) == len(section.items)
        for i, (li, item) in enumerate(zip(entries, section.items)):
            seconds = int(starts[(s, i)])
            time = f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else (
                f"{seconds // 60:02d}:{seconds % 60:02d}")
            text = li.text_content()
            assert text.startswith(time + " " + item.title), text
            anchor = li.find("a")
            assert (anchor.text_content(), anchor.get("href")) == (item.title, item.link)
            if item.authors:
                assert f"({item.authors})" in text
            if item.summarizer:
                assert text.endswith(f"summarized by {item.summarizer}")


def test_times_read_as_minutes_then_hours_the_way_podcast_apps_link_them(an066):
    html = notes.show_notes(an066, chapters_for(an066), CREDITS, NEWSLETTER)
    times = [re.match(r"[\d:]+", li.text_content()).group() for li in fragment(html).iter("li")]
    assert times[:3] == ["06:18", "22:58", "28:31"]  # a chapter every 333.3 s from 45 s, rounded down
    assert times[-1] == "1:57:24"  # 7044.3 s
    assert all(re.fullmatch(r"\d\d:[0-5]\d|\d+:[0-5]\d:[0-5]\d", t) for t in times)


def test_an_item_that_was_not_read_has_no_time(an066):
    html = notes.show_notes(an066, chapters_for(an066, skip=(2, 1)), CREDITS, NEWSLETTER)
    unread = an066.sections[2].items[1]
    li = next(li for li in fragment(html).iter("li") if unread.title in li.text_content())
    assert li.text_content().startswith(unread.title)


def test_the_notes_open_with_the_issue_and_its_link_and_close_with_the_credits(an066):
    html = notes.show_notes(an066, chapters_for(an066), CREDITS, NEWSLETTER)
    paragraphs = fragment(html).findall("p")
    first, last = paragraphs[0], paragraphs[-1]
    assert first.text_content().startswith("Alignment Newsletter #66: Utility ≠ Reward, 2-D robustness")
    assert first.find("a").get("href") == "https://example.org/an/issue"
    credits = last.text_content()
    assert "Joe (Piper voice en_US-joe-medium)" in credits and "CC BY 4.0" in credits
    assert "Intro and outro music made by the audio-edition project." in credits
    assert last.find("a").get("href") == "mailto:feedback@example.org"
    assert_only_allowed_markup(html)


def test_same_inputs_give_the_same_bytes_whatever_order_the_chapters_come_in(an066):
    chapters = chapters_for(an066)
    once = notes.show_notes(an066, chapters, CREDITS, NEWSLETTER)
    assert notes.show_notes(an066, chapters, CREDITS, NEWSLETTER).encode() == once.encode()
    assert notes.show_notes(an066, list(reversed(chapters)), CREDITS, NEWSLETTER) == once
    assert notes.clean(once) == once  # the allow-list pass changes nothing it produced itself


def test_the_description_is_plain_text_with_the_title_and_items_within_apples_limit(an066):
    text = notes.description(an066, NEWSLETTER)
    assert text.startswith("Alignment Newsletter #66: Utility ≠ Reward, 2-D robustness.")
    assert all(item.title in text for section in an066.sections for item in section.items)
    assert len(text) <= 4000
    assert not re.search(r"[<>\n]", text)
    assert notes.description(an066, NEWSLETTER) == text


def test_a_long_description_is_cut_at_a_word_with_an_ellipsis():
    items = tuple(Item(f"Paper number {n} about interpretability") for n in range(400))
    big = Issue(1, "Many papers", "https://example.org/1", datetime(2020, 1, 1), sections=(Section("News", 1, items),))
    text = notes.description(big, NEWSLETTER)
    assert len(text) <= 4000
    assert text.endswith("\u2026") and len(text) > 3900
    full = " In this issue: " + "; ".join(item.title for item in items) + "."
    assert (NEWSLETTER + " #1: Many papers." + full).startswith(text[:-1])
    assert re.search(r"\w\u2026$", text) and not text[:-1].endswith(" ")


# --- a hostile issue -------------------------------------------------------------------------------


def test_nothing_from_a_hostile_issue_can_run_in_a_podcast_app(hostile):
    html = notes.show_notes(hostile, chapters_for(hostile), CREDITS, NEWSLETTER)
    assert_only_allowed_markup(html)
    tags = {el.tag for el in elements(html)}
    assert not tags & {"script", "iframe", "img", "svg", "object", "style", "b"}
    hrefs = [a.get("href") for a in fragment(html).iter("a")]
    assert hrefs == ["https://example.org/papers/entities?a=1&b=2", "mailto:feedback@example.org"]
    assert not re.search(r"(?i)<[a-z][^>]*\son\w+\s*=", html)
    assert not re.search(r"(?i)href\s*=\s*['\"]?\s*(javascript|data|vbscript):", html)
    assert "]]&gt;" in html  # the titles' CDATA end markers, neutralised
    etree.CDATA(html)  # what podgen wraps content:encoded in; it refuses text holding ']]>'


def test_the_hostile_issue_still_reads_as_its_words(hostile):
    html = notes.show_notes(hostile, chapters_for(hostile), CREDITS, NEWSLETTER)
    root = fragment(html)
    first = root.find("p")
    assert first.text_content() == 'Alignment Newsletter #9: <script>alert("t")</script> Hostile ]]> issue'
    assert first.find("a") is None  # the issue's javascript: link is not offered
    assert [h.text_content() for h in root.iter("h3")] == ["Highlights", "Technical AI alignment"]
    entries = [li.text_content() for li in root.iter("li")]
    assert entries[0] == (
        '06:18 <script>alert("title")</script> Safe]]> Title (Mallory & <img src=x onerror=alert(1)> Eve), summarized by Trent]]>'
    )
    assert entries[1] == (
        "11:51 Entities & quotes: \"AT&T\" \u2014 'single' <b>bold</b> &lt;kept&gt; "
        "(Ada <b onmouseover=alert(2)>Lovelace</b> et al), summarized by Mallory"
    )
    assert entries[3].endswith("Link with a CDATA end marker (Carol), summarized by Dave")  # malformed link: text
    assert entries[4].startswith("34:04 Mixed-case javascript (Frank <img")


def test_links_other_than_absolute_web_addresses_become_plain_text():
    bad = [
        "javascript:alert(1)", " JaVaScRiPt:alert(1)", "java\tscript:alert(1)", "data:text/html,<script>x</script>",
        "vbscript:msgbox(1)", "/relative/path", "relative.html", "//evil.example/x", "http://", "https://[::1",
        "https://example.org:99999/", "https://example.org/a b", 'https://example.org/"onmouseover="x', "ftp://example.org/",
        "https://example.org/\u202egnp.exe",
    ]
    items = tuple(Item(f"Item {n}", link=url) for n, url in enumerate(bad)) + (Item("Good", "https://example.org/ok?a=1&b=2"),)
    made = Issue(3, "Links", "data:text/html,x", datetime(2020, 1, 1), sections=(Section("News", 1, items),))
    html = notes.show_notes(made, [], CREDITS, NEWSLETTER)
    assert_only_allowed_markup(html)
    hrefs = [a.get("href") for a in fragment(html).iter("a")]
    assert hrefs == ["https://example.org/ok?a=1&b=2", "mailto:feedback@example.org"]
    assert [li.text_content() for li in fragment(html).iter("li")][:3] == ["Item 0", "Item 1", "Item 2"]


def test_credits_are_escaped_and_only_a_real_address_or_web_url_is_linked():
    def credit_links(feedback: str, voice: str = "Joe") -> tuple[list[str | None], str]:
        made = Issue(1, "T", "https://example.org/1", datetime(2020, 1, 1), sections=(Section("News", 1, (Item("I"),)),))
        html = notes.show_notes(made, [], notes.Credits(voice, "CC0", "Music", feedback), NEWSLETTER)
        assert_only_allowed_markup(html)
        last = fragment(html).findall("p")[-1]
        return [a.get("href") for a in last.iter("a")], last.text_content()

    assert credit_links("https://example.org/feedback")[0] == ["https://example.org/feedback"]
    assert credit_links("javascript:alert(1)") == ([], "Read by Joe; CC0. Music. Feedback is welcome: javascript:alert(1).")
    assert credit_links("a@example.org?subject=<b>x</b>")[0] == []
    links, text = credit_links("x@example.org", voice='<img src=x onerror="alert(1)">Joe\u202e')
    assert links == ["mailto:x@example.org"] and text.startswith('Read by <img src=x onerror="alert(1)">Joe;')


def test_control_and_direction_characters_do_not_reach_the_feed():
    made = Issue(1, "Nul\x00 and \u202eoverride\x1b", "https://example.org/1", datetime(2020, 1, 1),
                 sections=(Section("News\ufffe", 1, (Item("Bell\x07 item", authors="A\u2066B"),)),))
    html = notes.show_notes(made, [], CREDITS, NEWSLETTER)
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\u202a-\u202e\u2066-\u2069\ufffe\uffff]", html)
    assert "Nul and override" in html and "<h3>News</h3>" in html
    assert not re.search(r"[\x00-\x1f\u202e]", notes.description(made, NEWSLETTER))


def test_an_untitled_item_is_named_by_its_first_words():
    words = "A paragraph that stood alone under a heading, with no title of its own, and then many more words."
    made = Issue(1, "T", "https://example.org/1", datetime(2020, 1, 1),
                 sections=(Section("News", 1, (Item("", passages=(Passage.paragraph(words),)),)),))
    chapters = [TimedChapter(Chapter("News", item=(0, 0)), 61.0, 70.0)]
    li = fragment(notes.show_notes(made, chapters, CREDITS, NEWSLETTER)).find(".//li")
    assert li.text_content() == "01:01 A paragraph that stood alone under a heading, with no title of\u2026"


# --- the allow-list pass -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "snippet, expected",
    [
        ('<p onclick="alert(1)">Hi <script>alert(2)</script>there</p>', "<p>Hi alert(2)there</p>"),
        ('<img src=x onerror=alert(1)>after', "after"),
        ('<iframe src="https://evil.example/">framed</iframe><p>kept</p>', "framed<p>kept</p>"),
        ('<a href="javascript:alert(1)">j</a>', "j"),
        ('<a href=" javascript:alert(1)">j</a>', "j"),
        ('<a href="data:text/html;base64,PHNjcmlwdD4=">d</a>', "d"),
        ('<a href="vbscript:msgbox(1)">v</a>', "v"),
        ('<a href="/relative">r</a><a href="//evil.example/">p</a>', "rp"),
        ('<a href="https://example.org/x" onclick="x()" title="t" target="_blank">ok</a>', '<a href="https://example.org/x">ok</a>'),
        ('<a href="mailto:me@example.org">me</a>', '<a href="mailto:me@example.org">me</a>'),
        ('<a href="mailto:me@example.org?body=x">me</a>', "me"),
        ('<ul><li><strong>s</strong> <em>e</em></li></ul>', "<ul><li><strong>s</strong> <em>e</em></li></ul>"),
        ('<h1 class="x">Title</h1><h3 id="y">Sub</h3>', "Title<h3>Sub</h3>"),
        ('<svg onload="alert(1)"><a xlink:href="javascript:1">s</a></svg>', "s"),
        ('<p style="background:url(javascript:alert(1))">x</p><!-- <script> -->', "<p>x</p>"),
        ("<p>end ]]> of CDATA</p>", "<p>end ]]&gt; of CDATA</p>"),
        ('<body onload="alert(1)"><p>b</p></body>', "<p>b</p>"),
        ("", ""),
    ],
)
def test_clean_keeps_only_the_allowed_tags_and_web_links(snippet, expected):
    out = notes.clean(snippet)
    assert out == expected
    if out:
        assert_only_allowed_markup(out)

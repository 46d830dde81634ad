"""Parsing an issue from every markup the newsletter has been published in: the same structure comes out."""

from datetime import datetime, timezone

import pytest

from audio_edition import feed, issue
from audio_edition.model import PassageKind, Entry
from conftest import FIXTURES, SAMPLE_FEED

MARKUPS = FIXTURES / "markups"
PATTERN = r"^\s*\[AN #(?P<number>\d+)\]"


def entry(content: str, number: int = 70) -> Entry:
    return Entry(number, "A test issue", "https://example.org", "guid", datetime(2019, 10, 2, tzinfo=timezone.utc), content)


def parse(name: str):
    return issue.parse(entry((MARKUPS / name).read_text(encoding="utf-8")))


def items(parsed):
    return [item for section in parsed.sections for item in section.items]


def headings(parsed):
    return [(section.title, section.level) for section in parsed.sections]


def test_issue_66_reads_the_same_from_its_html_and_from_the_flattened_email():
    html = issue.parse(entry((FIXTURES / "an-066.html").read_text(encoding="utf-8"), 66))
    text = issue.parse(entry((FIXTURES / "an-066.txt").read_text(encoding="utf-8"), 66))
    assert headings(html) == headings(text)
    assert [(i.title, i.authors, i.summarizer) for i in items(html)] == [(i.title, i.authors, i.summarizer) for i in items(text)]
    assert [i.passages for i in items(html)] == [i.passages for i in items(text)]
    assert [[o.who for o in i.opinions] for i in items(html)] == [[o.who for o in i.opinions] for i in items(text)]
    assert items(html)[0].link == "https://www.alignmentforum.org/posts/2mhFMgtAjFJesaSYR/2-d-robustness"


def test_capitalized_bold_paragraph_headings_become_sentence_case_sections():
    parsed = parse("email-caps.html")
    assert headings(parsed) == [
        ("Highlights", 1), ("Technical AI alignment", 1), ("Mesa optimization", 2),
        ("Miscellaneous (Alignment)", 2), ("Other progress in AI", 1), ("Reinforcement learning", 2), ("News", 1),
    ]


def test_h1_to_h3_headings_in_capitals_or_title_case_give_the_same_levels():
    assert headings(parse("forum-crosspost.html")) == [
        ("Highlights", 1), ("Technical AI alignment", 1), ("Learning human intent", 2), ("Interpretability", 2), ("News", 1),
    ]
    assert headings(parse("h2-h3.html")) == [
        ("Highlights", 1), ("Technical AI alignment", 1), ("Agent foundations", 2), ("Forecasting", 2),
        ("Near-term concerns", 1), ("Privacy and security", 2), ("News", 1),
    ]


def test_titles_links_and_authors_are_found_inside_or_outside_the_bold_and_in_italics():
    email = items(parse("email-caps.html"))
    assert (email[0].title, email[0].link, email[0].authors, email[0].summarizer) == (
        "Scaling Laws for Neural Language Models", "https://arxiv.org/abs/2001.08361", "Jared Kaplan, Sam McCandlish et al", "Rohin")
    outside = email[2]
    assert (outside.title, outside.link, outside.authors) == (
        "Corrigibility as outside view", "https://www.alignmentforum.org/posts/corrigibility-outside-view", "Alex Turner")
    assert outside.passages[0].lines[0].startswith("Corrigibility might follow")
    italic = items(parse("h2-h3.html"))[0]
    assert (italic.title, italic.link, italic.authors, italic.summarizer) == (
        "AI and Compute", "https://example.org/ai-and-compute", "Dario Amodei and Danny Hernandez", "Nicholas")


def test_opinions_and_read_more_links_belong_to_their_item():
    first = items(parse("h2-h3.html"))[0]
    assert [o.who for o in first.opinions] == ["Nicholas"]
    assert first.read_more[0].title == "Addendum: Compute used in older headline results"
    curly = items(parse("email-caps.html"))[1]
    assert [o.who for o in curly.opinions] == ["Asya"]


def test_lists_quotes_tables_and_images_keep_their_kind():
    highlight, tuned, circuits, _ = items(parse("forum-crosspost.html"))
    kinds = [b.kind for b in highlight.passages]
    assert kinds == [PassageKind.PARAGRAPH, PassageKind.LIST, PassageKind.PARAGRAPH, PassageKind.LIST]
    ordered, bullets = highlight.passages[1], highlight.passages[3]
    assert [line[:3] for line in ordered.lines] == ["1. ", "2. ", "3. "]
    assert bullets.lines[2] == "in particular, held-out environments;"  # a nested entry, after its parent
    assert highlight.opinions[0].passages[-1].kind == PassageKind.QUOTE
    table = next(b for b in tuned.passages if b.kind == PassageKind.TABLE)
    assert table.lines == ("Method | Preferred by labelers", "Fine-tuned (60k labels) | 71%", "Supervised baseline | 23%")
    image = next(b for b in tuned.passages if b.kind == PassageKind.IMAGE)
    assert image.lines[0].startswith("A plot of the learned reward rising")
    assert not any(b.kind == PassageKind.IMAGE for b in circuits.passages)  # an image without alt text is skipped


def test_footnote_markers_and_footnotes_are_dropped_but_powers_kept():
    highlight, _, circuits, _ = items(parse("forum-crosspost.html"))
    text = " ".join(line for b in highlight.passages + circuits.passages for line in b.lines)
    assert "policies." in text and "[1]" not in text and "weights." in text
    assert "10⁶ states" in text
    everything = " ".join(line for i in items(parse("forum-crosspost.html")) for b in i.passages for line in b.lines)
    assert "the policies themselves can implement search" not in everything


def test_nbsp_smart_quotes_em_dashes_and_emoji_survive_parsing_as_text():
    salt = items(parse("email-caps.html"))[1]
    text = salt.passages[0].lines[0]
    assert text.startswith("Rats that have never tasted salt")
    assert "\u00a0" not in text and "disgusting — a classic" in text and "“mesa-optimizer”" in text


def test_preamble_and_footer_boilerplate_are_not_part_of_the_issue():
    for name in ("email-caps.html", "forum-crosspost.html", "h2-h3.html"):
        parsed = parse(name)
        said = " ".join(line for i in items(parsed) for b in i.passages + tuple(x for o in i.opinions for x in o.passages)
                        for line in b.lines)
        for boilerplate in ("unsubscribe", "Unsubscribe", "Copyright", "©", "View this email", "podcast version",
                            "Find all Alignment Newsletter resources", "You are receiving this"):
            assert boilerplate not in said, (name, boilerplate)
        assert all(i.title for i in items(parsed)), name
        assert parsed.sections[-1].title == "News", name
    assert items(parse("email-caps.html"))[0].title == "Scaling Laws for Neural Language Models"


def test_an_announcement_is_not_an_issue():
    with pytest.raises(issue.NotAnIssue, match="has no summaries: it is an announcement, not an issue"):
        parse("announcement.html")


def test_a_feed_lists_only_its_issues_not_its_announcements():
    entries = feed.read_entries(str(MARKUPS / "feed.xml"), PATTERN)
    assert [e.number for e in entries] == [70, 71, 72]
    assert all(issue.parse(e).sections for e in entries)
    sample = feed.read_entries(str(SAMPLE_FEED), PATTERN)
    assert [e.number for e in sample] == [66]

"""What the narrator says for a whole issue, held in golden scripts that were read end to end, and how each
kind of block (list, quote, table, image, opinion) is read aloud."""

from datetime import datetime, timezone

import numpy as np
import pytest

from audio_edition import build, feed, issue, script, speak
from audio_edition.model import Passage, PassageKind, Entry, Issue, Item, Opinion, Role, Section
from conftest import FIXTURES, GOLDEN, REPO, SAMPLE_FEED, SMALL_FEED, golden

LEXICON = speak.Lexicon.load(REPO / "voices" / "lexicon.toml")
MARKUPS = FIXTURES / "markups"


def render(written: script.Script) -> str:
    """A script as the editor reviews it: chapters as headings, each segment spoken, roles other than the narrator named."""
    out: list[str] = []
    chapter = None
    for segment in written.segments:
        if segment.chapter != chapter:
            chapter = segment.chapter
            out.append(f"## {written.chapters[chapter].title}")
        role = "" if segment.role == Role.NARRATOR else f"({segment.role.value}) "
        out.append(role + speak.spoken_text(segment, LEXICON))
    return "\n".join(out) + "\n"


def entry_of(feed_path, number):
    return feed.select(feed.read_entries(str(feed_path), r"^\s*\[AN #(?P<number>\d+)\]"), number)


def flattened_66() -> Entry:
    html = entry_of(SAMPLE_FEED, 66)
    return Entry(html.number, html.title, html.link, html.guid, html.published,
                 (FIXTURES / "an-066.txt").read_text(encoding="utf-8"))


CASES = {
    "an-007": lambda: entry_of(SMALL_FEED, 7),
    "an-066-html": lambda: entry_of(SAMPLE_FEED, 66),
    "an-066-text": flattened_66,
    "markup-email-caps": lambda: entry_of(MARKUPS / "feed.xml", 70),
    "markup-forum-crosspost": lambda: entry_of(MARKUPS / "feed.xml", 71),
    "markup-h2-h3": lambda: entry_of(MARKUPS / "feed.xml", 72),
}


@pytest.mark.parametrize("name", CASES)
def test_the_script_matches_its_golden_file(settings, name):
    _, written = build.prepare(CASES[name](), settings)
    text = render(written)
    assert text == golden(GOLDEN / f"{name}.script.txt", text)


def test_issue_66_says_the_same_from_its_html_and_its_flattened_text():
    html = (GOLDEN / "an-066-html.script.txt").read_text(encoding="utf-8")
    text = (GOLDEN / "an-066-text.script.txt").read_text(encoding="utf-8")
    assert html == text


def test_no_golden_script_leaks_markup_symbols_or_digits():
    for name in CASES:
        text = (GOLDEN / f"{name}.script.txt").read_text(encoding="utf-8")
        spoken = "\n".join(line for line in text.splitlines() if not line.startswith("## "))
        spoken = spoken.replace("[[", "").replace("]]", "")  # the lexicon's phonemes
        for symbol in "<>$%#&^*_|~=@/\\{}":
            assert symbol not in spoken, (name, symbol)
        assert not any(ch.isdigit() for ch in spoken), name
        assert "http" not in spoken and "www" not in spoken, name


# --- how each kind of block is read -------------------------------------------------------------


def one_item(*blocks: Passage, opinions=()) -> Issue:
    item = Item("A Paper", "https://example.org", "Ada Lovelace", "Rohin", tuple(blocks), tuple(opinions))
    return Issue(7, "Title", "https://example.org", datetime(2019, 7, 3, tzinfo=timezone.utc), (),
                 (Section("Highlights", 1, (item,)),))


def segments(*blocks: Passage, opinions=()):
    return script.write(one_item(*blocks, opinions=opinions), pauses=script.Pauses(1.6, 1.2, 0.6)).segments[3:-1]


def test_a_list_is_read_entry_by_entry_with_a_short_pause_after_each():
    said = segments(Passage(PassageKind.LIST, ("1. First step", "2. Second step;")))
    assert [(s.text, s.pause_after) for s in said] == [("1. First step.", 0.3), ("2. Second step;", 1.2)]


def test_a_quote_is_introduced_and_closed_in_the_quote_role():
    [said] = segments(Passage(PassageKind.QUOTE, ("We believe it matters",)))
    assert (said.text, said.role) == ("Quote: We believe it matters. End quote.", Role.QUOTE)


def test_a_small_table_is_read_row_by_row_with_its_headers():
    table = Passage(PassageKind.TABLE, ("Model | Accuracy | Size", "GPT-2 | 63% | 1.5B", "BERT | 71% | 340M"))
    said = [s.text for s in segments(table)]
    assert said == ["A table of accuracy and size, by model:", "GPT-2: Accuracy 63%, Size 1.5B.", "BERT: Accuracy 71%, Size 340M."]


def test_a_large_table_is_announced_and_left_to_the_newsletter():
    rows = ("Milestone | Years",) + tuple(f"Task {n} | {n}" for n in range(1, 9))
    [said] = segments(Passage(PassageKind.TABLE, rows))
    assert said.text == "A table of 8 rows is not read out here; it is in the written newsletter."


def test_an_image_is_described_by_its_alt_text():
    [said] = segments(Passage(PassageKind.IMAGE, ("A plot of reward over time",)))
    assert said.text == "Image: A plot of reward over time."


def test_an_opinion_is_announced_by_the_narrator_and_read_in_the_opinion_role():
    said = segments(Passage.paragraph("A summary."), opinions=[Opinion("Rohin", (Passage.paragraph("I like it."),))])
    assert [(s.text, s.role) for s in said] == [
        ("A summary.", Role.NARRATOR), ("Rohin's opinion.", Role.NARRATOR), ("I like it.", Role.OPINION)]


def test_a_capitalized_heading_is_announced_and_chaptered_in_sentence_case():
    content = "<p><strong>TECHNICAL AI ALIGNMENT</strong></p><p><strong><a href='https://x.org/p'>A Post</a></strong> (Ada) (summarized by Flo): Text.</p>"
    parsed = issue.parse(Entry(9, "T", "https://x.org", "g", datetime(2019, 1, 1, tzinfo=timezone.utc), content))
    written = script.write(parsed)
    assert [(c.title, c.toc) for c in written.chapters] == [
        ("Introduction", True), ("Technical AI alignment", False), ("A Post", True)]
    assert written.chapters[2].url == "https://x.org/p"
    assert written.segments[1].text == "Technical AI alignment."


# --- the roles sound apart ---------------------------------------------------------------------


def pitch(samples: np.ndarray, rate: int) -> float:
    """Median fundamental frequency of the voiced frames (autocorrelation), in hertz."""
    x = samples.astype(np.float32)
    size = int(0.05 * rate)
    found = []
    for start in range(0, len(x) - size, size // 2):
        frame = x[start:start + size] * np.hanning(size)
        if np.sqrt((frame ** 2).mean()) < 800:
            continue
        correlation = np.fft.irfft(np.abs(np.fft.rfft(frame, 8 * size)) ** 2)[:size]
        low, high = int(rate / 250), int(rate / 50)
        lag = low + int(np.argmax(correlation[low:high]))
        if correlation[lag] > 0.5 * correlation[0]:
            found.append(rate / lag)
    return float(np.median(found))


def test_an_opinion_sounds_like_another_speaker_than_the_summary():
    profile = speak.load_profile(REPO / "voices", "joe")
    narrator, opinion = profile.speaker(Role.NARRATOR), profile.speaker(Role.OPINION)
    assert narrator.identity != opinion.identity
    text = "I think this is a cool and surprising result, and I would like to see it tested on harder problems."
    said = [narrator.speak(text) for _ in range(2)]
    heard_as_opinion = [opinion.speak(text) for _ in range(2)]
    lower = np.mean([pitch(a, opinion.sample_rate) for a in heard_as_opinion]) / np.mean(
        [pitch(a, narrator.sample_rate) for a in said])
    assert lower < 0.95, f"the opinion voice is only {1 - lower:.0%} lower"
    pace = len(heard_as_opinion[0]) / len(said[0])
    assert 0.9 < pace < 1.3  # the pitch shift keeps the pace: the same sentence takes about as long

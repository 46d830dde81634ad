"""The timeline as apps read it: three transcripts that agree with the cues, and a soundbite on sentence boundaries."""

import json
import re

import pytest

from audio_edition import timeline
from audio_edition.model import Chapter, Cue, Soundbite, TimedChapter, Timeline


def _timeline(sentence_seconds: float = 7.0, sentences: int = 20, paper_sentences: int | None = None) -> Timeline:
    """An introduction, a section announcement, then the Highlights' first paper read in `paper_sentences` of
    `sentences` sentences (all of them by default), the next paper in the rest."""
    cues = [Cue(0.5, 4.0, "This is the audio edition & more <b>.", "s1"), Cue(5.0, 6.0, "Highlights.", "s2")]
    start = 7.0
    for n in range(sentences):
        cues.append(Cue(start, start + sentence_seconds, f"Sentence {n} says --> something quite long about robustness "
                                                           f"and alignment, number {n}.", f"p{n}"))
        start += sentence_seconds + 0.4
    split = start if paper_sentences is None else cues[2 + paper_sentences].start
    chapters = (TimedChapter(Chapter("Introduction"), 0.0, 5.0),
                TimedChapter(Chapter("Highlights", toc=False), 5.0, 7.0),
                TimedChapter(Chapter("2-D Robustness", "https://example.org/p", item=(0, 0)), 7.0, split),
                TimedChapter(Chapter("Next paper", item=(0, 1)), split, start))
    return Timeline(start, tuple(cues), chapters[:3] if paper_sentences is None else chapters)


def test_the_json_transcript_has_a_segment_per_cue_with_its_exact_times():
    line = _timeline()
    data = json.loads(timeline.transcript_json(line))
    assert data["version"] == "1.0.0"
    assert [(s["startTime"], s["endTime"], s["body"]) for s in data["segments"]] == [
        (round(c.start, 3), round(c.end, 3), c.text) for c in line.cues]


def test_srt_cards_are_two_lines_of_32_characters_at_most_and_keep_each_sentence_s_times():
    line = _timeline()
    text = timeline.srt(line)
    cards = text.strip().split("\n\n")
    numbers, spans, bodies = [], [], []
    for card in cards:
        number, times, *lines = card.split("\n")
        numbers.append(int(number))
        start, end = times.split(" --> ")
        assert re.fullmatch(r"\d\d:\d\d:\d\d,\d{3}", start) and re.fullmatch(r"\d\d:\d\d:\d\d,\d{3}", end)
        spans.append((start, end))
        assert 1 <= len(lines) <= 2 and all(len(l) <= timeline.SRT_LINE for l in lines), card
        bodies.append(" ".join(lines))
    assert numbers == list(range(1, len(cards) + 1))
    assert " ".join(bodies) == " ".join(c.text.replace("-->", "->") for c in line.cues), "every word, in order"
    starts = {s for s, _ in spans}
    ends = {e for _, e in spans}
    for cue in line.cues:  # each sentence starts one card and ends one, at its exact times
        assert timeline._srt_clock(cue.start) in starts and timeline._srt_clock(cue.end) in ends
    assert "-->" not in "".join(bodies)


def test_webvtt_escapes_markup():
    assert "audio edition &amp; more &lt;b&gt;." in timeline.webvtt(_timeline())


def test_the_soundbite_is_the_first_paper_s_opening_in_whole_sentences_of_a_minute_at_most():
    line = _timeline(sentence_seconds=7.0)
    bite = timeline.soundbite(line, (0, 0))
    assert bite.start == 7.0, "it starts where the paper's first sentence starts"
    assert bite.title == "2-D Robustness"
    assert 30 <= bite.duration <= 60
    assert any(abs(bite.start + bite.duration - cue.end) < 0.001 for cue in line.cues), "it ends where a sentence ends"
    next_end = min(c.end for c in line.cues if c.end > bite.start + bite.duration + 0.001)
    assert next_end - bite.start > 60, "as many sentences as fit in a minute"


def test_a_long_sentence_gives_a_longer_soundbite_and_one_too_long_gives_none():
    assert 60 < timeline.soundbite(_timeline(sentence_seconds=70.0, sentences=2), (0, 0)).duration <= 90
    assert timeline.soundbite(_timeline(sentence_seconds=95.0, sentences=2), (0, 0)) == Soundbite()
    assert timeline.soundbite(_timeline(sentence_seconds=5.0, sentences=3), (0, 0)) == Soundbite(), "under 30 s"
    assert timeline.soundbite(_timeline(), (3, 0)) == Soundbite(), "no such item"


@pytest.mark.parametrize("text", ["", "one", "x" * 80, "a b c " * 40])
def test_cards_never_lose_a_word(text):
    cards = timeline._cards(" ".join(text.split()))
    assert " ".join(" ".join(card.split("\n")) for card in cards) == " ".join(text.split())


def test_the_soundbite_stays_within_the_paper_if_it_lasts_30_seconds_and_else_reaches_just_past_30():
    within = timeline.soundbite(_timeline(sentence_seconds=7.0, paper_sentences=6), (0, 0))
    assert within.start == 7.0 and abs(within.duration - (5 * 7.4 + 7.0)) < 0.001, "the paper's six sentences: 44 s"
    short = timeline.soundbite(_timeline(sentence_seconds=7.0, paper_sentences=2), (0, 0))
    assert abs(short.duration - (4 * 7.4 + 7.0)) < 0.001, "the fewest sentences that reach 30 s, past the paper"

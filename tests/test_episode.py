"""A whole episode built on real parts and read back as a listener's app would: MP3, tags, chapters, feed."""

import io
import json
import re

import feedparser
import podcastparser
import pytest
from mutagen.id3 import ID3
from mutagen.mp3 import MP3, BitrateMode

from audio_edition import build, feed, manifest, mix, publish

from conftest import SAMPLE_FEED, make_settings


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """Issue #7 of the small fixture feed, built and published once for this module."""
    tmp = tmp_path_factory.mktemp("small")
    settings = make_settings(tmp)
    entry = feed.select(feed.read_entries(settings.newsletter.feed, settings.newsletter.issue_pattern), 7)
    built = build.build(entry, settings)
    publish.publish(settings)
    return settings, built


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The real issue #66, the bundled default."""
    tmp = tmp_path_factory.mktemp("sample")
    settings = make_settings(tmp, **{"newsletter.feed": str(SAMPLE_FEED)})
    entry = feed.select(feed.read_entries(settings.newsletter.feed, settings.newsletter.issue_pattern), "latest")
    built = build.build(entry, settings)
    publish.publish(settings)
    return settings, built


def test_the_mp3_is_what_podcast_apps_expect(small):
    settings, built = small
    audio = MP3(built.folder / built.episode.audio)
    assert audio.info.sample_rate == 44100
    assert audio.info.channels == 1
    assert audio.info.bitrate_mode == BitrateMode.CBR and audio.info.bitrate >= 64000
    assert abs(audio.info.length - built.episode.duration) < 0.2


def test_loudness_is_steady_at_the_target(small):
    settings, built = small
    integrated, peak = mix.measure(built.folder / built.episode.audio)
    assert -17.0 <= integrated <= -15.0
    assert peak <= -1.0


def test_tags_cover_and_chapters_read_back(small):
    settings, built = small
    tags = ID3(built.folder / built.episode.audio)
    assert str(tags["TIT2"]) == "Alignment Newsletter #7: Small tests of a big pipeline"
    assert str(tags["TALB"]) == settings.podcast.title
    assert str(tags["TRCK"]) == "7"
    assert str(tags["TCON"]) == "Podcast"
    assert str(tags["TDRC"]) == "2019-07-03"
    cover = tags.getall("APIC")[0]
    assert cover.mime == "image/jpeg" and cover.data == settings.podcast.cover.read_bytes()
    chapters = sorted(tags.getall("CHAP"), key=lambda c: c.start_time)
    titles = [str(c.sub_frames["TIT2"]) for c in chapters]
    assert titles == ["Introduction", "Highlights", "Technical AI alignment", "News"]
    toc = tags.getall("CTOC")[0]
    assert list(toc.child_element_ids) == [c.element_id for c in chapters]
    assert chapters[0].start_time == 0
    for before, after in zip(chapters, chapters[1:]):
        assert before.end_time == after.start_time
    assert abs(chapters[-1].end_time / 1000 - built.episode.duration) < 0.01


def test_json_chapters_agree_with_the_id3_chapters(small):
    settings, built = small
    data = json.loads((built.folder / built.episode.chapters).read_text())
    id3 = sorted(ID3(built.folder / built.episode.audio).getall("CHAP"), key=lambda c: c.start_time)
    assert [c["title"] for c in data["chapters"]] == [str(c.sub_frames["TIT2"]) for c in id3]
    assert [round(c["startTime"] * 1000) for c in data["chapters"]] == [c.start_time for c in id3]


def test_transcript_cues_come_from_the_synthesized_audio(small):
    settings, built = small
    vtt = (built.folder / built.episode.transcript).read_text()
    assert vtt.startswith("WEBVTT\n")
    times = re.findall(r"(\d\d):(\d\d):(\d\d)\.(\d{3}) --> (\d\d):(\d\d):(\d\d)\.(\d{3})", vtt)
    spans = [(int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000, int(h2) * 3600 + int(m2) * 60 + int(s2) + int(ms2) / 1000)
             for h, m, s, ms, h2, m2, s2, ms2 in times]
    assert spans[0][0] == pytest.approx(4.0, abs=0.01), "speech starts when the 4-second intro jingle ends"
    for (start, end), (next_start, _) in zip(spans, spans[1:]):
        assert start < end <= next_start
    assert spans[-1][1] < built.episode.duration
    assert "It pays $40,000 a year." in vtt, "the transcript shows the written text"
    script = (built.folder / built.episode.script).read_text()
    assert "forty thousand dollars" in script, "the script holds what is said"


def test_the_published_feed_is_read_by_real_clients(small):
    settings, built = small
    xml = (settings.paths.public / "feed.xml").read_bytes()
    parsed = feedparser.parse(xml)
    assert not parsed.bozo and len(parsed.entries) == 1
    enclosure = parsed.entries[0].enclosures[0]
    media = settings.paths.public / "episodes" / "an-007" / "an-007.mp3"
    assert int(enclosure.length) == media.stat().st_size
    episode = podcastparser.parse(settings.podcast.feed_url, io.BytesIO(xml))["episodes"][0]
    assert episode["total_time"] == round(built.episode.duration)
    assert episode["enclosures"][0]["url"] == f"{settings.podcast.base_url}/episodes/an-007/an-007.mp3"
    assert (settings.paths.public / "cover.jpg").exists()


def test_the_manifest_records_the_episode(small):
    settings, built = small
    episode = manifest.read(built.folder)
    assert episode.number == 7 and episode.guid == built.episode.guid
    for name in (episode.audio, episode.script, episode.transcript, episode.chapters):
        assert (built.folder / name).exists()


def test_a_rebuild_reuses_all_speech_and_keeps_the_guid(small):
    settings, built = small
    entry = feed.select(feed.read_entries(settings.newsletter.feed, settings.newsletter.issue_pattern), 7)
    again = build.build(entry, settings)
    assert again.synthesized == 0 and again.reused == built.synthesized + built.reused
    assert again.episode.guid == built.episode.guid


def test_issue_66_becomes_a_fourteen_minute_episode_with_a_chapter_per_section(sample):
    settings, built = sample
    assert 12 * 60 < built.episode.duration < 17 * 60
    titles = [str(c.sub_frames["TIT2"]) for c in sorted(ID3(built.folder / built.episode.audio).getall("CHAP"), key=lambda c: c.start_time)]
    assert titles == ["Introduction", "Highlights", "Technical AI alignment", "AI strategy and policy", "Other progress in AI", "News"]
    integrated, peak = mix.measure(built.folder / built.episode.audio)
    assert -17.0 <= integrated <= -15.0 and peak <= -1.0
    parsed = feedparser.parse((settings.paths.public / "feed.xml").read_bytes())
    assert parsed.entries[0].itunes_episode == "66"

"""A whole episode built on real parts and read back as a listener's app would: MP3, tags, chapters, feed."""

import io
import json
import re
import subprocess

import feedparser
import lxml.html
import podcastparser
import pytest
from PIL import Image
from mutagen.id3 import ID3
from mutagen.mp3 import MP3, BitrateMode

from audio_edition import build, feed, manifest, mix, mp3, publish

from conftest import REPO, SAMPLE_FEED, make_settings


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
    assert cover.mime == "image/jpeg" and cover.data == (built.folder / built.episode.art).read_bytes()
    chapters = sorted(tags.getall("CHAP"), key=lambda c: c.start_time)
    titles = [str(c.sub_frames["TIT2"]) for c in chapters]
    assert titles == ["Introduction", "Highlights", "Learning to Summarize", "Technical AI alignment",
                      "Mesa optimization", "Inner Goals", "News", "A Fellowship"]
    links = {str(c.sub_frames["TIT2"]): c.sub_frames["WXXX:"].url for c in chapters if "WXXX:" in c.sub_frames}
    assert links == {"Learning to Summarize": "https://arxiv.org/abs/1234.5678", "Inner Goals": "https://example.org/post",
                     "A Fellowship": "https://example.org/fellowship"}
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
    intro = mp3.BlockCache(settings.paths.cache / "blocks").get(built.episode.record.mastering.blocks[0])
    onset = (intro.samples + mp3.PRIMING) / 44100  # the intro's block, then the encoder delay of the first segment's
    assert spans[0][0] == pytest.approx(onset, abs=0.001) and 4.0 < onset < 4.08, "speech follows the 4-second jingle"
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


def test_issue_66_becomes_a_fourteen_minute_episode(sample):
    settings, built = sample
    assert 12 * 60 < built.episode.duration < 18 * 60  # Heart narrates #66 in 17.1 minutes
    integrated, peak = mix.measure(built.folder / built.episode.audio)
    assert -17.0 <= integrated <= -15.0 and peak <= -1.0
    parsed = feedparser.parse((settings.paths.public / "feed.xml").read_bytes())
    assert parsed.entries[0].itunes_episode == "66"


# --- what the listener sees while listening: a chapter per paper, show notes, episode art ----------


def _sample_issue(settings):
    entry = feed.select(feed.read_entries(settings.newsletter.feed, settings.newsletter.issue_pattern), "latest")
    return build.prepare(entry, settings)[0]


def _ffmpeg_chapters(path) -> list[tuple[int, str]]:
    """(start in ms, title) of each chapter as libavformat reads the MP3 (the reader behind ffprobe)."""
    out = subprocess.run([mp3.ffmpeg(), "-v", "error", "-i", str(path), "-f", "ffmetadata", "-"],
                         capture_output=True, text=True, check=True).stdout
    chapters = []
    for block in out.split("[CHAPTER]")[1:]:
        fields = dict(line.split("=", 1) for line in block.strip().splitlines() if "=" in line)
        assert fields["TIMEBASE"] == "1/1000"
        chapters.append((int(fields["START"]), fields["title"].replace("\\", "")))
    return sorted(chapters)


def test_issue_66_has_a_chapter_for_each_paper_carrying_its_link(sample):
    settings, built = sample
    issue = _sample_issue(settings)
    audio = built.folder / built.episode.audio
    json_chapters = json.loads((built.folder / built.episode.chapters).read_text())["chapters"]
    id3 = sorted(ID3(audio).getall("CHAP"), key=lambda c: c.start_time)
    items = [item for section in issue.sections for item in section.items]
    papers = [c for c in json_chapters if c.get("toc", True) and c["title"] != "Introduction"]
    assert [c["title"] for c in papers] == [item.title for item in items]
    assert [c.get("url") for c in papers] == [item.link for item in items]
    announced = [c["title"] for c in json_chapters if c.get("toc") is False]
    assert announced == [section.title for section in issue.sections if section.title]
    # ID3 (mutagen), libavformat (ffmpeg) and the JSON chapters agree one to one, to the millisecond.
    assert [(c.start_time, str(c.sub_frames["TIT2"])) for c in id3] == [
        (round(c["startTime"] * 1000), c["title"]) for c in json_chapters] == _ffmpeg_chapters(audio)
    assert [c.sub_frames["WXXX:"].url if "WXXX:" in c.sub_frames else None for c in id3] == [c.get("url") for c in json_chapters]
    assert list(ID3(audio).getall("CTOC")[0].child_element_ids) == [c.element_id for c in id3]
    # Each paper's chapter starts where its title is read: the first transcript cue at or after the start.
    cues = re.findall(r"(\d\d):(\d\d):(\d\d)\.(\d{3}) --> .*\n(.*)", (built.folder / built.episode.transcript).read_text())
    starts = {int(h) * 3600000 + int(m) * 60000 + int(s) * 1000 + int(ms): text for h, m, s, ms, text in cues}
    for chapter in papers:
        said = starts[round(chapter["startTime"] * 1000)]
        assert said.startswith(chapter["title"][:20]), (chapter["title"], said)


def test_show_notes_list_each_paper_at_its_chapter_time_and_real_clients_read_them(sample):
    settings, built = sample
    xml = (settings.paths.public / "feed.xml").read_bytes()
    entry = feedparser.parse(xml).entries[0]
    notes = entry.content[0].value
    assert notes == (built.folder / built.episode.notes).read_text()
    episode = podcastparser.parse(settings.podcast.feed_url, io.BytesIO(xml))["episodes"][0]
    assert episode["description_html"] == notes
    assert len(entry.summary) <= 4000 and "<" not in entry.summary
    chapters = {c["title"]: c for c in json.loads((built.folder / built.episode.chapters).read_text())["chapters"]}
    entries = lxml.html.fragment_fromstring(notes, create_parent="div").iter("li")
    seen = 0
    for li in entries:
        link = li.find("a")
        chapter = chapters[link.text]
        start = int(chapter["startTime"])
        assert li.text.strip() == f"{start // 60:02d}:{start % 60:02d}", "the time apps turn into a seek link"
        assert link.get("href") == chapter["url"]
        seen += 1
    assert seen == len([c for c in chapters.values() if c.get("url")]) >= 10
    assert "Read the original issue" in notes and "CC0" in notes and "mailto:" in notes
    (built.folder / "corrections.toml").write_text("# none yet\n")  # a real rebuild, not "up to date"
    again = build.build(feed.select(feed.read_entries(settings.newsletter.feed, settings.newsletter.issue_pattern),
                                    "latest"), settings)
    assert again.synthesized == 0 and again.reused > 40
    assert (built.folder / built.episode.notes).read_text() == notes, "an unchanged rebuild gives the same notes"


def test_each_episode_has_its_own_art_in_the_feed_and_the_mp3(sample):
    settings, built = sample
    art = built.folder / built.episode.art
    with Image.open(art) as image:
        assert image.format == "JPEG" and image.size[0] == image.size[1] and 1400 <= image.size[0] <= 3000
    assert art.read_bytes() != settings.podcast.cover.read_bytes()
    assert ID3(built.folder / built.episode.audio).getall("APIC")[0].data == art.read_bytes()
    parsed = feedparser.parse((settings.paths.public / "feed.xml").read_bytes())
    href = parsed.entries[0].image.href
    assert href == f"{settings.podcast.base_url}/episodes/an-066/cover.jpg"
    assert (settings.paths.public / "episodes/an-066/cover.jpg").read_bytes() == art.read_bytes()


# --- links and titles from a hostile issue, as the MP3 and the JSON chapters carry them -------------


def test_chapter_links_are_web_addresses_only_and_a_huge_title_keeps_its_chapter(tmp_path):
    """tags.write and timeline.chapters_json on a real MP3, read back by mutagen and by libavformat."""
    from datetime import datetime

    from audio_edition import tags, timeline
    from audio_edition.model import Chapter, TimedChapter, Timeline

    audio = tmp_path / "silence.mp3"
    subprocess.run([mp3.ffmpeg(), "-v", "error", "-f", "lavfi", "-i", "anullsrc=r=44100:cl=mono", "-t", "9",
                    "-b:a", "64k", str(audio)], check=True)
    hostile = ["javascript:alert(1)", " JaVaScRiPt:alert(2)", "\tjavascript:alert(3)", "data:text/html,x",
               "//evil.example/x", "http:/evil.example", "https://user:pw@evil.example/"]
    huge = "A title ]]></script> " + "\u00e9" * 10_000
    plan = [Chapter(f"Chapter {n}", url) for n, url in enumerate(hostile)]
    plan += [Chapter(huge, " https://example.org/paper "), Chapter("Last", "HTTPS://EXAMPLE.ORG/P")]
    chapters = tuple(TimedChapter(chapter, n * 1.0, n + 1.0) for n, chapter in enumerate(plan))
    tags.write(audio, tags.Tags(title=huge, show="Show", artist="A", number=11, date=datetime(2019, 7, 10),
                                comment=" javascript:alert(0)", cover=REPO / "audio" / "cover.jpg", chapters=chapters))
    id3 = ID3(audio)
    read = sorted(id3.getall("CHAP"), key=lambda c: c.start_time)
    links = [c.sub_frames["WXXX:"].url if "WXXX:" in c.sub_frames else None for c in read]
    assert links == [None] * len(hostile) + ["https://example.org/paper", "HTTPS://EXAMPLE.ORG/P"]
    assert not id3.getall("COMM")
    assert str(read[-2].sub_frames["TIT2"]) == huge
    assert [title for _, title in _ffmpeg_chapters(audio)][-2:] == [huge, "Last"], "libavformat keeps every chapter"
    data = json.loads(timeline.chapters_json(Timeline(9.0, (), chapters), huge))
    assert [c.get("url") for c in data["chapters"]] == links

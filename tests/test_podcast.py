"""The podcast feed as apps read it: Apple's tags, Podcasting 2.0 tags, read by real client parsers."""

import io
import os
from datetime import datetime, timezone
from pathlib import Path

import feedparser
import podcastparser
from lxml import etree

from audio_edition import podcast
from audio_edition.model import Episode
from audio_edition.podcast import Media, feed_xml

from conftest import GOLDEN, make_settings

NS = {"itunes": podcast.ITUNES, "podcast": podcast.PODCAST, "atom": "http://www.w3.org/2005/Atom"}


def _episode(number: int, day: int, duration: float, notes: str = "") -> tuple[Episode, Media]:
    slug = f"an-{number:03d}"
    base = "http://localhost:8000/episodes/" + slug
    episode = Episode(
        number=number,
        title=f"Alignment Newsletter #{number}: Issue {number} & friends",
        guid=podcast.episode_guid("Alignment Newsletter", number),
        published=datetime(2019, 10, day, 16, 30, tzinfo=timezone.utc),
        slug=slug,
        link=f"https://example.org/an/{number}",
        description=f"Issue {number}. In this issue: <one>; two.",
        audio=f"{slug}.mp3",
        script="script.txt",
        transcript="transcript.vtt",
        chapters="chapters.json",
        duration=duration,
        audio_bytes=1000 + number,
    )
    art = f"{base}/cover.jpg" if notes else None
    return episode, Media(f"{base}/{slug}.mp3", 1000 + number, f"{base}/transcript.vtt", f"{base}/chapters.json",
                          art, notes)


NOTES = ('<p><strong>Alignment Newsletter #66: Issue 66 &amp; friends</strong></p>\n<h3>Highlights</h3>\n<ul>\n'
         '<li>00:12 <a href="https://arxiv.org/abs/1">A paper</a> (Ada), summarized by Rohin</li>\n</ul>')


def _feed(tmp_path) -> bytes:
    show = make_settings(tmp_path).podcast
    return feed_xml(show, [_episode(65, 1, 61.4), _episode(66, 2, 918.2, NOTES)])


def test_the_feed_matches_the_golden_file(tmp_path):
    xml = _feed(tmp_path).decode()
    golden = GOLDEN / "feed.xml"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(xml)
    assert xml == golden.read_text()


def test_apple_requirements(tmp_path):
    root = etree.fromstring(_feed(tmp_path))
    channel = root.find("channel")
    assert channel.findtext("itunes:explicit", namespaces=NS) == "false"
    assert channel.find("itunes:image", NS).get("href") == "http://localhost:8000/cover.jpg"
    assert channel.find("itunes:category", NS).get("text") == "Technology"
    assert channel.findtext("itunes:author", namespaces=NS)
    assert channel.findtext("language") == "en"
    self_link = channel.find("atom:link[@rel='self']", NS)
    assert self_link.get("href") == "http://localhost:8000/feed.xml"
    items = channel.findall("item")
    assert [i.findtext("itunes:episode", namespaces=NS) for i in items] == ["66", "65"]
    newest = items[0]
    assert newest.findtext("itunes:episodeType", namespaces=NS) == "full"
    assert newest.findtext("itunes:duration", namespaces=NS) == "15:18"
    assert newest.find("enclosure").get("length") == "1066"
    assert newest.find("itunes:image", NS).get("href") == "http://localhost:8000/episodes/an-066/cover.jpg"
    assert newest.findtext("{http://purl.org/rss/1.0/modules/content/}encoded") == NOTES
    assert items[1].find("itunes:image", NS) is None, "an episode without its own art shows the show's"
    assert newest.findtext("pubDate") == "Wed, 02 Oct 2019 16:30:00 +0000"


def test_podcasting_2_tags(tmp_path):
    channel = etree.fromstring(_feed(tmp_path)).find("channel")
    # The spec's own example: the feed podnews.net/rss has this guid.
    assert podcast.podcast_guid("https://podnews.net/rss/") == "9b024349-ccf0-5f69-a609-6b82873eab3c"
    assert channel.findtext("podcast:guid", namespaces=NS) == podcast.podcast_guid("http://localhost:8000/feed.xml")
    assert channel.findtext("podcast:locked", namespaces=NS) == "yes"
    item = channel.find("item")
    transcript = item.find("podcast:transcript", NS)
    assert transcript.get("type") == "text/vtt"
    assert transcript.get("url").endswith("/an-066/transcript.vtt")
    chapters = item.find("podcast:chapters", NS)
    assert chapters.get("type") == "application/json+chapters"


def test_feedparser_and_podcastparser_read_the_episodes(tmp_path):
    xml = _feed(tmp_path)
    parsed = feedparser.parse(xml)
    assert not parsed.bozo
    assert parsed.feed.title == "Alignment Newsletter (audio edition)"
    first = parsed.entries[0]
    assert first.title == "Alignment Newsletter #66: Issue 66 & friends"
    assert first.itunes_duration == "15:18"
    assert first.enclosures[0].href.endswith("an-066.mp3")
    podcasts = podcastparser.parse("http://localhost:8000/feed.xml", io.BytesIO(xml))
    episode = podcasts["episodes"][0]
    assert episode["total_time"] == 918
    assert episode["enclosures"][0]["file_size"] == 1066
    assert episode["enclosures"][0]["mime_type"] == "audio/mpeg"
    assert episode["guid"] == podcast.episode_guid("Alignment Newsletter", 66)
    assert episode["number"] == 66


def test_newsletter_text_is_escaped_not_markup(tmp_path):
    """A title or description that looks like a tag is shown as text by an app, never rendered."""
    parsed = feedparser.parse(_feed(tmp_path))
    assert parsed.entries[0].title == "Alignment Newsletter #66: Issue 66 & friends"
    assert "&lt;one&gt;" in parsed.entries[0].summary
    assert "<one>" not in parsed.entries[0].summary


def test_episode_guid_depends_only_on_the_issue():
    assert podcast.episode_guid("Alignment Newsletter", 66) == podcast.episode_guid("Alignment Newsletter", 66)
    assert podcast.episode_guid("Alignment Newsletter", 66) != podcast.episode_guid("Alignment Newsletter", 67)


def test_the_cover_is_square_and_as_large_as_apple_asks(tmp_path):
    from PIL import Image

    with Image.open(make_settings(tmp_path).podcast.cover) as cover:
        assert cover.width == cover.height
        assert 1400 <= cover.width <= 3000
        assert cover.mode == "RGB" and cover.format == "JPEG"

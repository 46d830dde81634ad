"""The podcast feed as apps read it: Apple's tags, Podcasting 2.0 tags, read by real client parsers."""

import dataclasses
import io
from datetime import datetime, timezone

import feedparser
import podcastparser
import pytest
from lxml import etree

from audio_edition import feed, podcast
from audio_edition.errors import SettingsError
from audio_edition.model import Alternate, Episode, Soundbite
from audio_edition.podcast import Channel, Image, Media, Transcript, feed_xml
from audio_edition.settings import Listing, People, Person
from audio_edition.urls import publishable

from conftest import GOLDEN, SAMPLE_FEED, golden, make_settings

NS = {"itunes": podcast.ITUNES, "podcast": podcast.PODCAST, "atom": "http://www.w3.org/2005/Atom"}


SRI = "sha384-ExVqijgYHm15PqQqdXfW95x+Rs6C+d6E/ICxyQOeFevnxNLR/wtJNrNYTjIysUBo"
MASTODON = "https://social.example.org/@alignmentnewsletter/103066"


def _episode(number: int, day: int, duration: float, notes: str = "") -> tuple[Episode, Media]:
    slug = f"an-{number:03d}"
    base = "http://localhost:8000/episodes/" + slug
    full = dict(summarizers=("Matthew", "Rohin", "Dan H"), discussion=MASTODON, transcript_json="transcript.json",
                transcript_srt="transcript.srt", soundbite=Soundbite(22.673, 57.52, "2-D Robustness"),
                alternate=Alternate(f"{slug}.opus", 333, "audio/ogg", "opus", 30815, duration, -16.4)) if notes else {}
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
        **full,
    )
    art = f"{base}/cover.jpg" if notes else None
    media = Media(f"{base}/{slug}.mp3", 1000 + number, f"{base}/transcript.vtt", f"{base}/chapters.json", art, notes)
    if notes:
        media = dataclasses.replace(
            media, image_width=3000,
            transcripts=(Transcript(f"{base}/transcript.json", "application/json"),
                         Transcript(f"{base}/transcript.srt", "application/x-subrip")),
            alternate=podcast.AlternateEnclosure(f"{base}/{slug}.opus", 333, "audio/ogg", "opus", 30815, SRI))
    return episode, media


CHANNEL = Channel(
    people=People(show=(Person("Rohin Shah", "editor", "writing", "https://rohinshah.com/",
                               "https://example.org/rohin.jpg", "Rohin"),),
                  summarizers=(Person("Matthew Barnett", credited_as="Matthew", href="javascript:alert(1)"),)),
    listing=Listing(license="cc-by-4.0", funding_url="https://example.org/donate", funding="Support the newsletter",
                    txt="S6lpp-7ZCn8-dZfGc-OoyaG", txt_purpose="verify"),
    hub="https://pubsubhubbub.appspot.com/",
    images=(Image("http://localhost:8000/cover.jpg", 3000), Image("http://localhost:8000/cover-600.jpg", 600)),
)


NOTES = ('<p><strong>Alignment Newsletter #66: Issue 66 &amp; friends</strong></p>\n<h3>Highlights</h3>\n<ul>\n'
         '<li>00:12 <a href="https://arxiv.org/abs/1">A paper</a> (Ada), summarized by Rohin</li>\n</ul>')


def _feed(tmp_path) -> bytes:
    show = make_settings(tmp_path).podcast
    return feed_xml(show, [_episode(65, 1, 61.4), _episode(66, 2, 918.2, NOTES)], CHANNEL)


def test_the_feed_matches_the_golden_file(tmp_path):
    xml = _feed(tmp_path).decode()
    assert xml == golden(GOLDEN / "feed.xml", xml)


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


def test_each_transcript_format_is_its_own_tag_with_its_type(tmp_path):
    item = etree.fromstring(_feed(tmp_path)).find("channel/item")
    found = [(t.get("type"), t.get("url").rsplit("/", 1)[1], t.get("language"))
             for t in item.findall("podcast:transcript", NS)]
    assert found == [("text/vtt", "transcript.vtt", "en"), ("application/json", "transcript.json", "en"),
                     ("application/x-subrip", "transcript.srt", "en")]


def test_the_show_s_tags_medium_frequency_images_people_license_funding_txt_and_hub(tmp_path):
    channel = etree.fromstring(_feed(tmp_path)).find("channel")
    assert channel.findtext("podcast:medium", namespaces=NS) == "podcast"
    frequency = channel.find("podcast:updateFrequency", NS)
    assert (frequency.text, frequency.get("rrule")) == ("Weekly", "FREQ=WEEKLY")
    assert channel.find("podcast:images", NS).get("srcset") == (
        "http://localhost:8000/cover.jpg 3000w, http://localhost:8000/cover-600.jpg 600w")
    [editor] = channel.findall("podcast:person", NS)
    assert (editor.text, editor.get("role"), editor.get("group"), editor.get("href"), editor.get("img")) == (
        "Rohin Shah", "editor", "writing", "https://rohinshah.com/", "https://example.org/rohin.jpg")
    assert channel.findtext("podcast:license", namespaces=NS) == "cc-by-4.0"
    funding = channel.find("podcast:funding", NS)
    assert (funding.text, funding.get("url")) == ("Support the newsletter", "https://example.org/donate")
    txt = channel.find("podcast:txt", NS)
    assert (txt.text, txt.get("purpose")) == ("S6lpp-7ZCn8-dZfGc-OoyaG", "verify")
    assert channel.find("atom:link[@rel='hub']", NS).get("href") == "https://pubsubhubbub.appspot.com/"
    assert channel.find("atom:link[@rel='self']", NS) is not None


def test_without_settings_the_show_carries_no_empty_tags(tmp_path):
    show = make_settings(tmp_path).podcast
    channel = etree.fromstring(feed_xml(show, [_episode(65, 1, 61.4)], Channel(listing=Listing(update_frequency="")))
                               ).find("channel")
    for tag in ("updateFrequency", "license", "funding", "txt", "person", "images"):
        assert channel.find(f"podcast:{tag}", NS) is None
    assert channel.find("atom:link[@rel='hub']", NS) is None


def test_an_episode_lists_the_show_s_people_then_each_summarizer_once_in_the_writing_group(tmp_path):
    item = etree.fromstring(_feed(tmp_path)).find("channel/item")
    people = [(p.text, p.get("role"), p.get("group"), p.get("href")) for p in item.findall("podcast:person", NS)]
    assert people == [("Rohin Shah", "editor", "writing", "https://rohinshah.com/"),
                      ("Matthew Barnett", "writer", "writing", None),  # a javascript: link is left out
                      ("Rohin Shah", "writer", "writing", "https://rohinshah.com/"),
                      ("Dan H", "writer", "writing", None)]
    assert item.findtext("podcast:episode", namespaces=NS) == "66"


def test_the_soundbite_the_smaller_file_and_the_discussion(tmp_path):
    item = etree.fromstring(_feed(tmp_path)).find("channel/item")
    bite = item.find("podcast:soundbite", NS)
    assert (bite.get("startTime"), bite.get("duration"), bite.text) == ("22.673", "57.520", "2-D Robustness")
    alternate = item.find("podcast:alternateEnclosure", NS)
    assert {k: alternate.get(k) for k in ("type", "length", "bitrate", "codecs")} == {
        "type": "audio/ogg", "length": "333", "bitrate": "30815", "codecs": "opus"}
    assert alternate.find("podcast:source", NS).get("uri") == "http://localhost:8000/episodes/an-066/an-066.opus"
    integrity = alternate.find("podcast:integrity", NS)
    assert (integrity.get("type"), integrity.get("value")) == ("sri", SRI)
    assert item.findtext("comments") == MASTODON
    social = item.find("podcast:socialInteract", NS)
    assert (social.get("protocol"), social.get("uri"), social.get("accountId"), social.get("accountUrl")) == (
        "activitypub", MASTODON, "@alignmentnewsletter@social.example.org",
        "https://social.example.org/@alignmentnewsletter")
    assert item.find("podcast:images", NS).get("srcset") == "http://localhost:8000/episodes/an-066/cover.jpg 3000w"
    older = etree.fromstring(_feed(tmp_path)).findall("channel/item")[1]
    for tag in ("soundbite", "alternateEnclosure", "socialInteract", "images"):
        assert older.find(f"podcast:{tag}", NS) is None, "an episode built without them has none"


@pytest.mark.parametrize("url, expected", [
    (MASTODON, ("activitypub", "@alignmentnewsletter@social.example.org",
                "https://social.example.org/@alignmentnewsletter")),
    ("https://mastodon.social/users/ann/statuses/1234",
     ("activitypub", "@ann@mastodon.social", "https://mastodon.social/@ann")),
    ("https://x.com/AlignmentNews/status/1179", ("twitter", "@AlignmentNews", "https://x.com/AlignmentNews")),
    ("https://bsky.app/profile/an.bsky.social/post/3k2",
     ("atproto", "@an.bsky.social", "https://bsky.app/profile/an.bsky.social")),
    ("https://www.lesswrong.com/posts/abc/an-66", None),
    ("https://www.alignmentforum.org/posts/abc/an-66#comments", None),
])
def test_a_discussion_apps_can_answer_gets_its_protocol_and_a_forum_thread_only_a_comments_link(url, expected):
    assert podcast.social(url) == expected


def test_the_sample_issue_s_comments_link_reaches_its_entry():
    entry = feed.select(feed.read_entries(str(SAMPLE_FEED), r"^\s*\[AN #(?P<number>\d+)\]"), 66)
    assert entry.comments == MASTODON


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


@pytest.mark.parametrize("link", ["javascript:alert(1)", " JaVaScRiPt:alert(1)", "\tjavascript:alert(1)", "data:text/html,x",
                                  "//evil.example/x", "http:/evil.example", "https://user:pw@evil.example/", "", None])
def test_an_issue_link_that_is_not_a_web_address_never_reaches_the_feed(tmp_path, link):
    show = make_settings(tmp_path).podcast
    episode, media = _episode(66, 2, 918.2, NOTES)
    xml = feed_xml(show, [(dataclasses.replace(episode, link=link), media)])
    item = etree.fromstring(xml).find("channel/item")
    assert item.find("link") is None
    urls = etree.fromstring(xml).xpath("//@href | //@url | //link/text() | //docs/text()")
    assert urls and all(publishable(url) == url for url in urls)
    assert not feedparser.parse(xml).bozo


def test_a_web_address_with_spaces_around_it_is_published_without_them(tmp_path):
    show = make_settings(tmp_path).podcast
    episode, media = _episode(66, 2, 918.2)
    xml = feed_xml(show, [(dataclasses.replace(episode, link="  HTTPS://Example.org/an/66\n"), media)])
    assert etree.fromstring(xml).findtext("channel/item/link") == "HTTPS://Example.org/an/66"


def test_the_show_website_must_be_a_web_address(tmp_path):
    show = make_settings(tmp_path, **{"podcast.website": "javascript:alert(1)"}).podcast
    with pytest.raises(SettingsError, match="podcast.website must be an http or https URL"):
        feed_xml(show, [_episode(65, 1, 61.4)])


def test_a_title_that_ends_cdata_or_a_script_stays_text(tmp_path):
    show = make_settings(tmp_path).podcast
    episode, media = _episode(66, 2, 918.2, NOTES)
    title = "Alignment Newsletter #66: ]]></script><script>alert(1)</script> & <!-- x -->"
    xml = feed_xml(show, [(dataclasses.replace(episode, title=title, description=title), media)])
    item = etree.fromstring(xml).find("channel/item")
    assert item.findtext("title") == title
    assert item.findtext("description") == title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    parsed = feedparser.parse(xml)
    assert not parsed.bozo and parsed.entries[0].title == title

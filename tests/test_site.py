"""The show's web page: what a listener sees in public/index.html and the episode pages."""

from __future__ import annotations

import dataclasses
import json
import shutil
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

from lxml import html

from audio_edition import manifest, site
from audio_edition.model import Cue, Episode
from audio_edition.files import Writer
from audio_edition.publish import publish
from audio_edition.urls import publishable
from conftest import GOLDEN, golden, make_settings

HOSTILE = "<script>alert('pwned')</script> & <b>bold</b>"


def _page(path: Path) -> html.HtmlElement:
    return html.fromstring(path.read_bytes())


def _local_links(page: html.HtmlElement) -> list[str]:
    links = page.xpath("//a/@href | //audio/@src | //track/@src | //img/@src | //link[@rel!='alternate']/@href"
                       " | //script/@src")
    return [urldefrag(link).url for link in links if not urlsplit(link).scheme]


def _copy_episode(built: Path, episodes: Path, number: int, **changes) -> Episode:
    """A second real episode: the built one's files under another issue number, date or title."""
    original = manifest.read(built / "an-007")
    slug = manifest.slug(number)
    shutil.copytree(built / "an-007", episodes / slug)
    episode = dataclasses.replace(original, number=number, slug=slug, guid=f"urn:test:{number}", **changes)
    manifest.write(episodes / slug, episode)
    return episode


def test_the_index_shows_the_episode_with_player_chapters_and_transcript(published_site):
    public = published_site.paths.public
    page = _page(public / "index.html")
    episode = manifest.read(next(published_site.paths.episodes.iterdir()))
    chapters = json.loads((public / "episodes/an-007/chapters.json").read_text())["chapters"]

    assert page.findtext(".//title") == published_site.podcast.title
    assert "Small tests of a big pipeline" in page.findtext(".//article//h2/a")
    assert page.xpath("//input[@id='feed-url']/@value") == [published_site.podcast.feed_url]
    audio = page.xpath("//audio")[0]
    assert (public / audio.get("src")).stat().st_size == episode.audio_bytes
    assert (public / audio.find("track").get("src")).read_text().startswith("WEBVTT")
    [smaller] = page.xpath("//p[@class='links']/a[text()='Smaller file (Opus)']/@href")
    assert (public / smaller).stat().st_size == episode.alternate.audio_bytes
    seek = page.xpath("//section[@class='chapters']//a[@data-seek]")
    assert [a.findtext("span[@class='chapter-title']") for a in seek] == [c["title"] for c in chapters]
    assert [float(a.get("data-seek")) for a in seek] == [c["startTime"] for c in chapters]
    # Without JavaScript a chapter link opens the MP3 at the chapter's time.
    assert seek[1].get("href") == f"{audio.get('src')}#t={chapters[1]['startTime']}"
    transcript = page.xpath("//details[@class='transcript']")[0].text_content()
    assert "This paper trains 3 models on 1,000 examples (AN #5)." in transcript
    assert "It pays $40,000 a year." in transcript


def test_every_link_on_every_page_points_to_a_published_file(published_site):
    public = published_site.paths.public
    pages = [public / "index.html", *sorted((public / "episodes").glob("*.html"))]
    assert len(pages) == 2
    for path in pages:
        links = _local_links(_page(path))
        assert links, path
        for link in links:
            target = (path.parent / link).resolve()
            assert target.is_file() and target.is_relative_to(public), f"{path.name} links to missing {link}"


def test_the_episode_page_has_the_transcript_open_and_links_back(published_site):
    page = _page(published_site.paths.public / "episodes" / "an-007.html")
    assert page.findtext(".//title") == "Alignment Newsletter #7: Small tests of a big pipeline"
    assert page.xpath("//details[@class='transcript']")[0].get("open") is not None
    assert page.xpath("//p[@class='back']/a/@href") == ["../index.html"]
    assert page.xpath("//audio/@preload") == ["metadata"]


def test_episodes_are_listed_newest_first(tmp_path, speech_cache, built_episodes):
    episodes = tmp_path / "episodes"
    shutil.copytree(built_episodes, episodes)
    _copy_episode(built_episodes, episodes, 8, title="Alignment Newsletter #8: A later issue",
                  published=datetime(2019, 7, 10, 16, 30, tzinfo=timezone.utc))
    settings = make_settings(tmp_path, speech_cache)
    publish(settings)
    page = _page(settings.paths.public / "index.html")
    assert [a.text for a in page.xpath("//article//h2/a")] == ["A later issue", "Small tests of a big pipeline"]
    # Only the newest episode's player fetches metadata when the page opens.
    assert page.xpath("//audio/@preload") == ["metadata", "none"]
    assert (settings.paths.public / "episodes" / "an-008.html").is_file()


def test_everything_from_the_newsletter_is_escaped(tmp_path, speech_cache, built_episodes):
    episodes = tmp_path / "episodes"
    episodes.mkdir()
    _copy_episode(built_episodes, episodes, 9, title=f"Alignment Newsletter #9: {HOSTILE}",
                  description=HOSTILE, link="javascript:alert(1)")
    chapters_path = episodes / "an-009" / "chapters.json"
    chapters = json.loads(chapters_path.read_text())
    chapters["chapters"][1].update(title=HOSTILE, url="javascript:alert(2)")
    chapters["chapters"][2].update(url="https://example.org/paper")
    chapters_path.write_text(json.dumps(chapters))
    vtt = episodes / "an-009" / "transcript.vtt"
    vtt.write_text(vtt.read_text().replace("It works.", "It works &amp; <i>scales</i> to <img src=x onerror=alert(3)>."))
    settings = make_settings(tmp_path, speech_cache)
    publish(settings)

    for path in (settings.paths.public / "index.html", settings.paths.public / "episodes" / "an-009.html"):
        text = path.read_text()
        page = _page(path)
        assert "<script>alert" not in text and "<img src=x" not in text
        assert [s.get("src") for s in page.xpath("//script")] == [s.get("src") for s in page.xpath("//script[@src]")]
        assert not page.xpath("//b") and len(page.xpath("//img")) == 1
        assert not any("javascript:" in href for href in page.xpath("//@href"))
        assert HOSTILE in page.xpath("//article")[0].text_content()
        assert "It works & scales to <img src=x onerror=alert(3)>." in page.text_content()
        safe = [c["url"] for c in chapters["chapters"] if c.get("url", "").startswith("https://")]
        assert "https://example.org/paper" in safe
        assert page.xpath("//a[@class='chapter-link']/@href") == safe


def test_app_links_from_the_settings_are_shown(tmp_path, speech_cache, built_episodes):
    settings = make_settings(tmp_path, speech_cache, **{
        "paths.episodes": str(built_episodes),
        "site.apple_podcasts": "https://podcasts.apple.com/podcast/id1",
        "site.antennapod": "https://antennapod.org/deeplink/subscribe?url=x&title=y",
    })
    publish(settings)
    page = _page(settings.paths.public / "index.html")
    apps = {a.text: a.get("href") for a in page.xpath("//nav[@class='subscribe']/a")}
    assert apps == {
        "Apple Podcasts": "https://podcasts.apple.com/podcast/id1",
        "AntennaPod": "https://antennapod.org/deeplink/subscribe?url=x&title=y",
        "RSS feed": settings.podcast.feed_url,
    }


def test_webvtt_cues_become_text_and_paragraphs(tmp_path):
    vtt = tmp_path / "t.vtt"
    vtt.write_text("WEBVTT\n\nNOTE a comment\n\n1\n00:00:01.000 --> 00:00:02.500\n<v Joe>Hello &lt;world&gt;.</v>\n\n"
                   "00:02.500 --> 00:00:04.000 align:start\nSecond\nline.\n\n"
                   "3\n01:00:05.000 --> 01:00:06.000\nAfter a pause.\n")
    cues = site.read_webvtt(vtt)
    assert cues == [Cue(1.0, 2.5, "Hello <world>."), Cue(2.5, 4.0, "Second line."), Cue(3605.0, 3606.0, "After a pause.")]
    assert site.paragraphs(cues) == (site.Paragraph(1.0, "Hello <world>. Second line."),
                                     site.Paragraph(3605.0, "After a pause."))


def test_the_episode_page_matches_the_golden_file(tmp_path):
    """Fixed inputs, so any change to the page's markup shows up in review (UPDATE_GOLDEN=1 rewrites it)."""
    settings = make_settings(tmp_path, None, **{
        "podcast.title": "The Show", "podcast.description": "A show & its <description>.",
        "podcast.base_url": "https://example.org/show", "podcast.language": "en",
        "podcast.author": "The Team", "podcast.owner_name": "The Newsletter",
        "podcast.website": "https://example.org/newsletter", "newsletter.name": "The Newsletter",
        "site.spotify": "https://open.spotify.com/show/abc",
    })
    folder = settings.paths.public / "episodes" / "an-042"
    folder.mkdir(parents=True)
    (folder / "chapters.json").write_text(json.dumps({"version": "1.2.0", "chapters": [
        {"startTime": 0, "title": "Introduction"},
        {"startTime": 12.5, "title": "Highlights", "url": "https://example.org/p"},
        {"startTime": 70.25, "title": "Technical AI alignment", "toc": False},
        {"startTime": 95, "title": "News"}]}))
    (folder / "transcript.vtt").write_text(
        "WEBVTT\n\n1\n00:00:01.000 --> 00:00:03.000\nWelcome to issue 42.\n\n"
        "2\n00:00:13.000 --> 00:00:15.000\nA paper about <things> & stuff.\n\n"
        "3\n00:00:15.100 --> 00:00:17.000\nIt is good.\n\n4\n00:01:36.000 --> 00:01:38.000\nThat's all.\n")
    episode = Episode(
        number=42, title="The Newsletter #42: Answers & questions", guid="urn:test:42",
        published=datetime(2020, 2, 29, 12, tzinfo=timezone.utc), slug="an-042", link="https://example.org/an-42",
        description="Answers & questions. In this issue: A paper; A post.", audio="an-042.mp3", script="script.txt",
        transcript="transcript.vtt", chapters="chapters.json", duration=100.0, audio_bytes=1000)
    site.render(Writer(settings.paths.public), settings, [episode])
    rendered = (settings.paths.public / "episodes" / "an-042.html").read_text()
    assert rendered == golden(GOLDEN / "site" / "an-042.html", rendered)


HOSTILE_LINKS = ["javascript:alert(1)", " JaVaScRiPt:alert(2)", "\tjavascript:alert(3)", "data:text/html,<script>x</script>",
                 "//evil.example/x", "http:/evil.example", "https://user:pw@evil.example/", "vbscript:x", 5]


def _hrefs_are_local_or_web(page: html.HtmlElement) -> list[str]:
    """Every link a page holds is relative to the site, or an http(s) URL the one rule passes."""
    links = page.xpath("//@href | //@src | //meta[starts-with(@property, 'og:image') or starts-with(@property, 'og:audio')]"
                       "/@content | //input/@value")
    for link in links:
        if urlsplit(link).scheme or link.startswith("//") or link != link.strip():
            assert publishable(link) == link, link
    return links


def test_no_page_links_anywhere_but_the_web_whatever_the_newsletter_or_settings_say(tmp_path, speech_cache, built_episodes,
                                                                                   caplog):
    episodes = tmp_path / "episodes"
    episodes.mkdir()
    _copy_episode(built_episodes, episodes, 9, title="Alignment Newsletter #9: ]]></script><script>alert(1)</script>",
                  link=" JaVaScRiPt:alert(0)")
    chapters_path = episodes / "an-009" / "chapters.json"
    chapters = json.loads(chapters_path.read_text())
    for chapter, url in zip(chapters["chapters"][1:], HOSTILE_LINKS):
        chapter["url"] = url
    chapters["chapters"][-1]["url"] = "https://example.org/kept"
    chapters_path.write_text(json.dumps(chapters))
    settings = make_settings(tmp_path, speech_cache, **{
        "site.spotify": "javascript:alert('app')", "site.overcast": "https://overcast.fm/itunes1",
    })
    publish(settings)
    for path in (settings.paths.public / "index.html", settings.paths.public / "episodes" / "an-009.html"):
        page = _page(path)
        links = _hrefs_are_local_or_web(page)
        assert "https://example.org/kept" in links and "https://overcast.fm/itunes1" in links
        assert not page.xpath("//a[text()='Read the issue']")
        assert "]]></script><script>alert(1)</script>" in page.xpath("//article")[0].text_content()
        assert len(page.xpath("//script")) == 1, "only the page's own player.js"
    assert "site.spotify is not an http or https URL; the page leaves it out" in caplog.text

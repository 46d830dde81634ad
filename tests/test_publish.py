"""Publishing: public/feed.xml is replaced whole and only by a valid feed whose media are in place."""

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import lxml.html
import pytest
from lxml import etree
from mutagen.id3 import ID3

from audio_edition import build, feed, files, manifest, publish, watch
from audio_edition.errors import PublishError
from audio_edition.urls import publishable

from conftest import FIXTURES, GOLDEN, make_settings

CONTENT = "http://purl.org/rss/1.0/modules/content/"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Issue #6 of the small feed: a few seconds of speech."""
    settings = make_settings(tmp_path_factory.mktemp("publish"))
    entry = feed.select(feed.read_entries(settings.newsletter.feed, settings.newsletter.issue_pattern), 6)
    return settings, build.build(entry, settings)


def test_publishing_twice_gives_the_same_feed(built):
    settings, _ = built
    first = publish.publish(settings).read_bytes()
    second = publish.publish(settings).read_bytes()
    assert first == second
    assert (settings.paths.public / "feed.xml").stat().st_mode & 0o644 == 0o644, "a web server must be able to read it"


def test_a_feed_that_fails_validation_leaves_the_published_one_untouched(built, monkeypatch):
    settings, _ = built
    published = publish.publish(settings).read_bytes()
    monkeypatch.setattr(publish, "feed_xml", lambda *args: b"<rss><channel><item>broken")
    with pytest.raises(PublishError, match="not well-formed"):
        publish.publish(settings)
    assert (settings.paths.public / "feed.xml").read_bytes() == published
    assert not list(settings.paths.public.glob(".feed.xml.*")), "no temporary file is left behind"


def test_an_enclosure_that_does_not_match_its_file_is_refused(built):
    settings, episode = built
    xml = publish.publish(settings).read_bytes()
    media = settings.paths.public / "episodes" / episode.episode.slug / episode.episode.audio
    size = media.stat().st_size
    wrong = xml.replace(f'length="{size}"'.encode(), f'length="{size + 1}"'.encode())
    with pytest.raises(PublishError, match="does not match the file"):
        publish.validate(wrong, settings.paths.public, settings.podcast.base_url)


def test_a_damaged_manifest_stops_publishing_rather_than_drop_an_episode(built):
    settings, episode = built
    published = publish.publish(settings).read_bytes()
    broken = settings.paths.episodes / "an-999"
    broken.mkdir(exist_ok=True)
    (broken / manifest.NAME).write_text("{ not json")
    try:
        with pytest.raises(PublishError, match="an-999/episode.json is not a readable episode manifest"):
            publish.publish(settings)
    finally:
        (broken / manifest.NAME).unlink()
        broken.rmdir()
    assert (settings.paths.public / "feed.xml").read_bytes() == published


def test_the_writer_never_writes_outside_public_or_twice(tmp_path):
    writer = files.Writer(tmp_path / "public")
    writer.write("feed.xml", b"x")
    with pytest.raises(PublishError, match="twice"):
        writer.write("feed.xml", b"y")
    with pytest.raises(PublishError, match="outside"):
        writer.write("../escape.txt", b"z")
    assert not (tmp_path / "escape.txt").exists()


# --- one URL rule for every output -----------------------------------------------------------------

GOLDEN_FEED = (GOLDEN / "feed.xml").read_bytes()


@pytest.mark.parametrize("old, new", [
    (b"<link>https://example.org/an/66</link>", b"<link>javascript:alert(1)</link>"),
    (b"<link>https://example.org/an/66</link>", b"<link> https://example.org/an/66</link>"),
    (b"<link>https://rohinshah.com/alignment-newsletter/</link>", b"<link>//evil.example/</link>"),
    (b'<enclosure url="http://localhost:8000/episodes/an-066/an-066.mp3"', b'<enclosure url="data:audio/mpeg;base64,AAAA"'),
    (b'<itunes:image href="http://localhost:8000/cover.jpg"/>', b'<itunes:image href="JaVaScRiPt:alert(1)"/>'),
    (b'<atom:link href="http://localhost:8000/feed.xml"', b'<atom:link href="http:/localhost/feed.xml"'),
    (b'chapters url="http://localhost:8000/episodes/an-066/chapters.json"', b'chapters url="file:///etc/passwd"'),
    (b'<a href="https://arxiv.org/abs/1">', b'<a href="javascript:alert(1)">'),
    (b'<a href="https://arxiv.org/abs/1">', b'<a href="&#9;https://arxiv.org/abs/1">'),
    (b"<h3>Highlights</h3>", b'<h3>Highlights</h3><img src="https://user:pw@evil.example/pixel.png">'),
    (b'<guid isPermaLink="false">urn:uuid:9a29a01d', b"<guid>urn:uuid:9a29a01d"),
])
def test_a_feed_with_a_link_that_is_not_a_web_address_is_refused(tmp_path, old, new):
    assert old in GOLDEN_FEED
    with pytest.raises(PublishError, match="only http and https URLs are published"):
        publish.validate(GOLDEN_FEED.replace(old, new, 1), tmp_path, "http://localhost:8000")
    with pytest.raises(PublishError, match="does not match the file"):  # the links pass: the media are missing
        publish.validate(GOLDEN_FEED, tmp_path, "http://localhost:8000")


class Hook:
    """A webhook on 127.0.0.1 recording what it receives."""

    def __init__(self):
        self.bodies = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                hook.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/token"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def hostile_links(tmp_path_factory, speech_cache):
    """tests/fixtures/hostile/links.xml (#11) built and published by the scheduled job, which notifies a webhook."""
    hook = Hook()
    settings = make_settings(tmp_path_factory.mktemp("links"), speech_cache, **{"notify.webhook": hook.url})
    assert watch.once(settings, str(FIXTURES / "hostile" / "links.xml")) == 0
    hook.server.shutdown()
    hook.server.server_close()
    return settings, hook.bodies


def _web(url: str) -> str:
    assert publishable(url) == url, f"not a web address: {url!r}"
    return url


def test_no_output_of_a_hostile_issue_holds_a_link_other_than_a_web_address(hostile_links):
    settings, notices = hostile_links
    public, folder = settings.paths.public, settings.paths.episodes / "an-011"
    root = etree.fromstring((public / "feed.xml").read_bytes())
    for url in root.xpath("//@href | //@url | //@src | //link/text() | //docs/text()"):
        _web(url)
    [item] = root.iter("item")
    assert item.find("link") is None, "the issue's own javascript: link is left out"
    assert "<@U024BE7LH> @here ]]> [Click](https://evil.example)" in item.findtext("title"), "text stays text"
    notes = lxml.html.fragment_fromstring(item.findtext(f"{{{CONTENT}}}encoded"), create_parent="div")
    assert notes.xpath("//a/@href") == ["https://example.org/paper", f"mailto:{settings.podcast.owner_email}"]
    for where in (folder / "chapters.json", public / "episodes/an-011/chapters.json"):
        chapters = json.loads(where.read_text())["chapters"]
        assert [_web(c["url"]) for c in chapters if "url" in c] == ["https://example.org/paper"]
    id3 = ID3(folder / "an-011.mp3")
    wxxx = [frame.url for chap in id3.getall("CHAP") for key, frame in chap.sub_frames.items() if key.startswith("W")]
    assert wxxx == ["https://example.org/paper"]
    assert not [key for key in id3.keys() if key.startswith("W")], "no top-level link frame"
    assert not id3.getall("COMM"), "the issue's link is not published as the comment"
    for page in (public / "index.html", public / "episodes" / "an-011.html"):
        for link in lxml.html.fromstring(page.read_bytes()).xpath("//@href | //@src"):
            assert not urlsplit(link).scheme and not link.startswith("//") or _web(link)
    [notice] = notices
    assert notice["event"] == "published" and _web(notice["episode_url"]).endswith("/an-011.mp3")
    assert notice["text"].endswith(f": {notice['episode_url']}")
    assert "<" not in notice["text"] and not re.search(r"@(here|channel|U024)", notice["text"]), notice["text"]
    assert "](" not in notice["text"]

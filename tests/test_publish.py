"""Publishing: public/feed.xml is replaced whole and only by a valid feed whose media are in place."""

import pytest

from audio_edition import build, feed, manifest, publish
from audio_edition.errors import PublishError

from conftest import make_settings


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
    writer = publish.Writer(tmp_path / "public")
    writer.write("feed.xml", b"x")
    with pytest.raises(PublishError, match="twice"):
        writer.write("feed.xml", b"y")
    with pytest.raises(PublishError, match="outside"):
        writer.write("../escape.txt", b"z")
    assert not (tmp_path / "escape.txt").exists()

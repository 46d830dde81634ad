"""The published feed read by podcast-partytime, the Podcast Index's own Podcasting 2.0 parser (node, from npm):
it must recognise every tag we write. tests/partytime/ pins it (package.json, package-lock.json); the first run
installs it with `npm ci`. Without node and npm this test skips, saying so.

What partytime 5.0.0 cannot show: podcast:updateFrequency (it has no parser for it; tests/test_podcast.py checks
it by XPath), and a podcast:txt whose text is `true` or `false` (its XML parser turns the text into a boolean and
drops the tag), which is why the txt here is a verification code rather than edition.toml's ai-content flag.
"""

import dataclasses
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from audio_edition import manifest, publish

from conftest import make_settings

HERE = Path(__file__).resolve().parent / "partytime"
MASTODON = "https://social.example.org/@alignmentnewsletter/103007"


@pytest.fixture(scope="session")
def partytime() -> Path:
    """tests/partytime with podcast-partytime installed from its lock file (once); skip without node and npm."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.skip("node and npm are needed to run podcast-partytime (apt-get install nodejs npm)")
    if not (HERE / "node_modules" / "podcast-partytime" / "package.json").exists():
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--prefix", str(HERE)], capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, f"npm ci in {HERE} failed: {done.stderr.strip()[-500:]}"
    return HERE


def parsed(partytime: Path, xml: bytes) -> dict:
    done = subprocess.run(["node", str(partytime / "parse.js")], input=xml, capture_output=True, timeout=60,
                          check=True)
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def site(tmp_path_factory, speech_cache, built_episodes):
    """The session's episode (#7) published with every setting the tags come from, and its issue's discussion
    on Mastodon."""
    tmp = tmp_path_factory.mktemp("partytime")
    shutil.copytree(built_episodes, tmp / "episodes")
    folder = tmp / "episodes" / manifest.slug(7)
    manifest.write(folder, dataclasses.replace(manifest.read(folder), discussion=MASTODON))
    settings = make_settings(tmp, speech_cache, **{
        "paths.episodes": str(tmp / "episodes"),
        "listing.license": "cc-by-4.0", "listing.funding_url": "https://example.org/donate",
        "listing.txt": "S6lpp-7ZCn8-dZfGc-OoyaG", "listing.txt_purpose": "verify",
    })
    publish.publish(settings)
    return settings, folder


def test_partytime_recognises_every_podcasting_2_0_tag_we_write(partytime, site):
    settings, _ = site
    feed = parsed(partytime, (settings.paths.public / "feed.xml").read_bytes())
    support = {tag for tags in feed["pc20support"].values() for tag in tags}
    assert support >= {"locked", "funding", "transcript", "chapters", "soundbite", "person", "episode", "guid",
                       "license", "alternateEnclosure", "medium", "images", "socialInteract", "txt"}


def test_partytime_reads_the_show_s_values(partytime, site):
    settings, _ = site
    feed = parsed(partytime, (settings.paths.public / "feed.xml").read_bytes())
    assert feed["medium"] == "podcast"
    assert feed["pubsub"] == {"self": settings.podcast.feed_url, "hub": settings.ping.websub_hub}
    assert feed["podcastPeople"] == [{"name": "Rohin Shah", "role": "Editor", "group": "Writing",
                                      "href": "https://rohinshah.com/"}]
    from PIL import Image

    widths = []
    for image in feed["podcastImages"]:
        with Image.open(settings.paths.public / image["parsed"]["url"].rpartition("/")[2]) as published:
            widths.append((image["parsed"]["width"], published.width))
    assert widths == [(3000, 3000), (600, 600)], "each size as the published file has it"
    assert feed["license"]["identifier"] == "cc-by-4.0"
    assert feed["podcastFunding"] == [{"url": "https://example.org/donate", "message": "Support the show"}]
    assert feed["podcastTxt"] == [{"value": "S6lpp-7ZCn8-dZfGc-OoyaG", "purpose": "verify"}]


def test_partytime_reads_the_episode_s_values(partytime, site):
    settings, folder = site
    item = parsed(partytime, (settings.paths.public / "feed.xml").read_bytes())["items"][0]
    episode = manifest.read(folder)
    assert item["podcastEpisode"] == {"number": 7}
    assert [t["type"] for t in item["podcastTranscripts"]] == ["text/vtt", "application/json", "application/srt"]
    [bite] = item["podcastSoundbites"]
    assert (bite["startTime"], bite["duration"]) == (episode.soundbite.start, episode.soundbite.duration)
    assert [(p["name"], p["role"]) for p in item["podcastPeople"]] == [
        ("Rohin Shah", "Editor"), ("Rohin Shah", "Writer"), ("Flo", "Writer")]
    [alternate] = item["alternativeEnclosures"]
    published = settings.paths.public / "episodes" / episode.slug / episode.alternate.audio
    assert alternate["source"][0]["uri"].endswith(f"/episodes/an-007/{episode.alternate.audio}")
    assert alternate["length"] == published.stat().st_size and alternate["codecs"] == "opus"
    assert alternate["integrity"] == {"type": "sri", "value": publish.sri(published)}
    assert item["podcastSocialInteraction"] == [{
        "platform": "activitypub", "id": "@alignmentnewsletter@social.example.org", "url": MASTODON,
        "profileUrl": "https://social.example.org/@alignmentnewsletter"}]

"""Pings after a release, against a stand-in WebSub hub and Podcast Index on 127.0.0.1 that record what they got:
sent once per version of the feed, bounded, logged by host only, never failing the release."""

import logging
import time
from urllib.parse import parse_qs

import pytest
from lxml import etree
from werkzeug import Response

from audio_edition import ping, release, status
from audio_edition.state import folder, load_pings

from conftest import make_settings

BASE = "https://podcast.example.org"
FEED = f"{BASE}/feed.xml"
HUB = "/hub/secret-token"
INDEX = "/api/1.0/hub/pubnotify"


@pytest.fixture
def settings(tmp_path, speech_cache, built_episodes, httpserver):
    """The session's built episode, published from here to a public-looking address, the services stand-ins."""
    return make_settings(tmp_path, speech_cache, **{
        "paths.episodes": str(_copy(built_episodes, tmp_path / "episodes")),
        "podcast.base_url": BASE,
        "ping.websub_hub": httpserver.url_for(HUB),
        "ping.podcast_index": httpserver.url_for(INDEX),
        "ping.websub_timeout": "2", "ping.podcast_index_timeout": "0.5",
    })


def _copy(source, target):
    import shutil

    shutil.copytree(source, target)
    return target


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.INFO)
    return caplog


def _ours(logs) -> str:
    """What audio-edition logged (the stand-in server's own log quotes the paths it was asked for)."""
    return "\n".join(r.getMessage() for r in logs.records if r.name.startswith("audio_edition"))


def _received(httpserver) -> list[tuple[str, str, dict, str]]:
    return [(r.method, r.path, dict(r.args), r.get_data(as_text=True)) for r, _ in httpserver.log]


def test_a_release_that_changes_the_feed_tells_the_hub_and_the_podcast_index_once(settings, httpserver, logs):
    httpserver.expect_request(HUB, method="POST").respond_with_data("", status=204)
    httpserver.expect_request(INDEX, method="GET").respond_with_json({"status": "true", "description": "Feed marked"})
    feed = release.release(settings)
    hub_post, index_get = sorted(_received(httpserver), key=lambda r: r[1])[::-1]
    assert hub_post[:2] == ("POST", HUB)
    assert parse_qs(hub_post[3]) == {"hub.mode": ["publish"], "hub.url": [FEED]}
    assert httpserver.log[0][0].headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert index_get[:3] == ("GET", INDEX, {"url": FEED})
    hub = etree.parse(str(feed)).find("channel/{http://www.w3.org/2005/Atom}link[@rel='hub']")
    assert hub.get("href") == httpserver.url_for(HUB), "the feed declares the hub it pings"
    assert "secret-token" not in _ours(logs), "logs name a service by its host only"
    assert "pinged the WebSub hub at localhost" in _ours(logs)

    release.release(settings)
    assert len(httpserver.log) == 2, "an unchanged feed is announced to no one"
    report = status.report(settings)
    assert "the WebSub hub at localhost: last told" in report and "the Podcast Index at localhost: last told" in report


def test_a_failing_or_silent_service_never_fails_the_release_and_is_tried_again_next_time(settings, httpserver, logs):
    def slow(request):
        time.sleep(1.5)
        return Response("{}", content_type="application/json")

    httpserver.expect_request(HUB, method="POST").respond_with_data("no", status=500)
    httpserver.expect_request(INDEX).respond_with_handler(slow)
    feed = release.release(settings)
    assert feed.exists()
    warnings = [r.getMessage() for r in logs.records if r.levelno == logging.WARNING]
    assert "could not ping the WebSub hub at localhost: HTTP 500 Internal Server Error" in warnings
    assert ("could not ping the Podcast Index at localhost: no answer within 0.5 s (ping.podcast_index_timeout)"
            in warnings)
    assert "secret-token" not in _ours(logs) and not [r for r in logs.records if r.levelno >= logging.ERROR]
    pings = load_pings(folder(settings))
    assert pings["websub"].succeeded == "" and pings["websub"].problem == "HTTP 500 Internal Server Error"
    assert "never told; the last try" in status.report(settings)

    httpserver.clear()
    httpserver.expect_request(HUB, method="POST").respond_with_data("", status=204)
    httpserver.expect_request(INDEX).respond_with_json({"status": "true"})
    release.release(settings)  # the same feed: told now, as the last try failed
    assert {r[1] for r in _received(httpserver)} == {HUB, INDEX}
    assert load_pings(folder(settings))["websub"].succeeded


def test_a_feed_only_this_machine_can_read_is_announced_to_no_one(settings, httpserver, logs):
    local = settings.replace(**{"podcast.base_url": "http://localhost:8000"})
    release.release(local)
    assert not httpserver.log
    assert "not pinging anyone: the feed's address http://localhost:8000/feed.xml is not on the public web" in logs.text


def test_a_service_that_is_not_a_clean_web_address_is_refused_unsent(settings, httpserver, logs):
    bad = settings.replace(**{"ping.websub_hub": "https://user:secret@hub.example.org/", "ping.podcast_index": ""})
    release.release(bad)
    assert not httpserver.log
    assert "could not ping the WebSub hub at hub.example.org: a user or password in ping.websub_hub" in logs.text
    assert "secret@" not in logs.text


@pytest.mark.parametrize("url, public", [
    ("https://podcast.example.org/feed.xml", True), ("http://localhost:8000/feed.xml", False),
    ("http://127.0.0.1/feed.xml", False), ("http://192.168.1.20/feed.xml", False), ("http://[::1]/feed.xml", False),
    ("http://show.local/feed.xml", False), ("https://93.184.216.34/feed.xml", True),
    ("http://intranet/feed.xml", False),
])
def test_only_a_feed_on_the_public_web_is_announced(url, public):
    assert ping.on_the_web(url) is public


def test_the_podcast_index_gets_the_feed_url_as_its_query():
    assert ping.with_query("https://api.podcastindex.org/api/1.0/hub/pubnotify", url=FEED) == (
        "https://api.podcastindex.org/api/1.0/hub/pubnotify?url=https%3A%2F%2Fpodcast.example.org%2Ffeed.xml")
    assert ping.with_query("https://x.org/p?pretty=", url="u") == "https://x.org/p?pretty=&url=u"

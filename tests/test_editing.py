"""The editor's loop on real parts: the job builds for review, the editor reviews, corrects, hears, approves.

The feed and the editor's webhook are served by a real HTTP server on 127.0.0.1; speech is the real
voice, counted by the speech cache's own counters in the episode's manifest.
"""

import json
import wave

import pytest
from lxml import etree

from audio_edition import cli, corrections, manifest, review, watch
from audio_edition.errors import SettingsError
from audio_edition.speak import SpeechCache

from conftest import REPO, SMALL_FEED, make_settings


def overrides(tmp_path, cache=None, **more) -> dict[str, str]:
    """What make_settings changes, as the CLI's --set takes it, so both read the same settings."""
    return {"paths.episodes": str(tmp_path / "episodes"), "paths.public": str(tmp_path / "public"),
            "paths.cache": str(cache or tmp_path / "cache"), "newsletter.feed": str(SMALL_FEED), **more}


class Editor:
    """The editor at the command line: every command reads the repository's edition.toml with --set overrides."""

    def __init__(self, capsys, changes: dict[str, str]) -> None:
        self.capsys = capsys
        self.argv = ["--settings", str(REPO / "edition.toml")]
        for key, value in changes.items():
            self.argv += ["--set", f"{key}={value}"]

    def __call__(self, *argv) -> str:
        self.capsys.readouterr()
        assert cli.main([*self.argv, *argv]) == 0
        return self.capsys.readouterr().out


@pytest.fixture
def loop(tmp_path, httpserver, capsys):
    """Review mode, a webhook, a feed served over HTTP, and the editor's command line on the same settings."""
    httpserver.expect_request("/feed.xml").respond_with_data(SMALL_FEED.read_bytes(), content_type="application/rss+xml")
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    changes = overrides(tmp_path, **{"watch.publish": "review", "notify.webhook": httpserver.url_for("/hook")})
    return make_settings(tmp_path, **changes), httpserver.url_for("/feed.xml"), Editor(capsys, changes)


def hooks(httpserver) -> list[dict]:
    return [json.loads(request.data) for request, _ in httpserver.log if request.path == "/hook"]


def listed(settings) -> list[str]:
    path = settings.paths.public / "feed.xml"
    return [g.text for g in etree.parse(str(path)).iter("guid")] if path.exists() else []


def test_the_editors_loop_from_review_to_approval(loop, httpserver, caplog):
    settings, feed, run = loop
    # The job builds both issues of the feed and publishes neither: they wait for the editor.
    assert watch.once(settings, feed) == 0
    assert listed(settings) == []
    events = hooks(httpserver)
    assert [(e["event"], e["issue"]) for e in events] == [("review", 6), ("review", 7)]
    assert events[1]["title"].startswith("Alignment Newsletter #7") and events[1]["episode_url"].endswith(".mp3")
    status = run("status")
    assert "waiting for review" in status and "Publishing: review" in status and "Last watch run:" in status

    # Review: one line per segment, with its id, start time and chapter.
    listing = run("review", "--issue", "7")
    folder = settings.paths.episodes / "an-007"
    rows = review.read(folder)
    assert len(listing.splitlines()) == len(rows) > 5
    assert [r.start for r in rows] == sorted(r.start for r in rows) and rows[0].start >= 3.9
    target = next(r for r in rows if len(r.text.split()) > 8 and sum(r.text.split()[0] in o.text for o in rows) == 1)
    find = " ".join(target.text.split()[:3])
    assert sum(find in r.text for r in rows) == 1
    (folder / corrections.NAME).write_text(
        f'[[correction]]\nfind = "{find}"\nsay = "As the editor puts it"\n\n'
        '[[correction]]\nfind = "words the newsletter never said"\nsay = ""\n')
    assert "changed since the last build" in run("status")

    # Rebuild: only the corrected segment is spoken again; the other correction is reported, quoted.
    caplog.clear()
    run("episode", "--feed", feed, "--issue", "7", "--no-publish")
    built = manifest.read(folder)
    assert built.record.speech.synthesized == 1
    assert built.record.speech.reused == len(rows) - 1
    assert built.waiting, "a rebuild with --no-publish does not approve"
    assert any("words the newsletter never said" in r.getMessage() and r.levelname == "WARNING" for r in caplog.records)
    corrected = {r.id: r for r in review.read(folder)}[target.id]
    assert corrected.corrected and corrected.text.startswith("As the editor puts it")
    assert "As the editor puts it" in (folder / "transcript.vtt").read_text()
    assert find not in (folder / "transcript.vtt").read_text()
    marked = [line for line in run("review", "--issue", "7").splitlines() if line.startswith(target.id)]
    assert marked and " * " in marked[0]
    status = run("status")
    assert "matched nothing" in status and "changed since the last build" not in status

    # Hear the segment: written from the cache, exactly what the cache holds.
    wav = folder.parent / "heard.wav"
    run("segment", target.id[:5], "--issue", "7", "-o", str(wav))
    speech = SpeechCache(settings.paths.cache / "speech").get(corrected.key)
    with wave.open(str(wav)) as heard:
        assert heard.getframerate() == speech.sample_rate
        assert heard.readframes(heard.getnframes()) == speech.samples.tobytes()

    # A second watch run changes nothing; approving #7 publishes it alone, under its own guid.
    assert watch.once(settings, feed) == 0
    assert listed(settings) == []
    run("publish", "--issue", "7")
    assert listed(settings) == [built.guid]
    status = run("status")
    assert "#7     published" in status and "#6     waiting for review" in status


def test_a_failed_feed_fetch_is_notified_and_shown_in_status(tmp_path, httpserver, capsys):
    httpserver.expect_request("/feed.xml").respond_with_data("down", status=503)
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    changes = overrides(tmp_path, **{"notify.webhook": httpserver.url_for("/hook"), "fetch.retries": "0"})
    settings = make_settings(tmp_path, **changes)
    assert watch.once(settings, httpserver.url_for("/feed.xml")) == 1
    [event] = hooks(httpserver)
    assert event["event"] == "failed" and event["issue"] is None and "503" in event["error"]
    status = Editor(capsys, changes)("status")
    assert "failed:" in status and "503" in status


def test_an_undeliverable_notification_never_fails_the_job(tmp_path, httpserver, speech_cache):
    httpserver.expect_request("/feed.xml").respond_with_data(SMALL_FEED.read_bytes())
    httpserver.expect_request("/hook", method="POST").respond_with_data("broken", status=500)
    settings = make_settings(tmp_path, speech_cache, **{"notify.webhook": httpserver.url_for("/hook")})
    assert watch.once(settings, httpserver.url_for("/feed.xml")) == 0
    assert len(listed(settings)) == 2
    assert [request.path for request, _ in httpserver.log].count("/hook") == 2, "one notice per published episode, none retried"


@pytest.mark.parametrize("text, message", [
    ('[[correction]]\nsay = "x"\n', "needs find"),
    ('[[correction]]\nfind = ""\nsay = "x"\n', "empty find"),
    ('find = "x"\n', "[[correction]]"),
    ('[[correction]\nfind = "x"\n', "not valid TOML"),
])
def test_a_malformed_corrections_file_is_named(tmp_path, text, message):
    (tmp_path / corrections.NAME).write_text(text)
    with pytest.raises(SettingsError, match=message.replace("[", r"\[")) as raised:
        corrections.load(tmp_path)
    assert str(tmp_path / corrections.NAME) in str(raised.value)


def test_a_correction_applies_across_sentences_and_an_empty_say_drops_the_words():
    fixes = corrections.Corrections((corrections.Correction("first. The", "first; the"),
                                     corrections.Correction("very", "")))
    text, used = corrections.apply("This is the first. The second is very long.", fixes)
    assert text == "This is the first; the second is long." and used == {0, 1}


def test_review_mode_is_a_setting_with_two_values(tmp_path):
    with pytest.raises(SettingsError, match='"auto" or "review"'):
        make_settings(tmp_path, **{"watch.publish": "sometimes"})

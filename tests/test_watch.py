"""`audio-edition watch` against a real feed server on 127.0.0.1: every issue published once, whatever goes wrong.

In-process runs use `watch.once`; the kill, lock and loop tests start `python -m audio_edition watch`
as a real process with its own settings file, as cron or systemd would.
"""

import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import lxml.html
import pytest
from lxml import etree
from werkzeug import Response

from audio_edition import cli, lock, manifest, podcast, publish, watch
from audio_edition.errors import SettingsError

from conftest import REPO, SMALL_FEED, make_settings

HOSTILE = Path(__file__).resolve().parent / "fixtures" / "hostile"
NAME = "Alignment Newsletter"
BASE = "http://localhost:8000"
FAST = {"fetch.retries": "1", "fetch.backoff": "0.01", "fetch.read_timeout": "5"}


def guid(number: int) -> str:
    return podcast.episode_guid(NAME, number)


def serve(httpserver, body: bytes, etag: str = '"v1"', path: str = "/feed.xml") -> str:
    """Serve a feed with an ETag, answering 304 when the client already has it."""

    def answer(request):
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        return Response(body, headers={"ETag": etag}, content_type="application/rss+xml")

    httpserver.expect_request(path).respond_with_handler(answer)
    return httpserver.url_for(path)


def listed(public: Path) -> list[str]:
    """The guids public/feed.xml lists, after checking it as publish does before a swap."""
    xml = (public / "feed.xml").read_bytes()
    publish.validate(xml, public, BASE)
    return [g.text for g in etree.fromstring(xml).iter("guid")]


def errors(caplog) -> list[str]:
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert all(line.startswith("error: ") and "\n" not in line for line in lines)
    assert "Traceback" not in caplog.text
    return lines


def edited_feed(old: str, new: str) -> bytes:
    text = SMALL_FEED.read_text()
    assert old in text
    return text.replace(old, new).encode()


@pytest.fixture(scope="module")
def published(tmp_path_factory, speech_cache) -> Path:
    """episodes/ and public/ after a watch run over the small feed (#6, #7); tests work on copies."""
    tmp = tmp_path_factory.mktemp("published")
    assert watch.once(make_settings(tmp, speech_cache), str(SMALL_FEED)) == 0
    return tmp


@pytest.fixture
def site(published, tmp_path, speech_cache):
    """A copy of the published show, and settings pointing at it."""
    for name in ("episodes", "public"):
        shutil.copytree(published / name, tmp_path / name)
    return make_settings(tmp_path, speech_cache, **FAST)


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.INFO)
    return caplog


# --- the ordinary days -----------------------------------------------------------------------------


def test_every_new_issue_is_published_oldest_first_and_an_unchanged_feed_costs_one_304(
        httpserver, tmp_path, speech_cache, logs):
    settings = make_settings(tmp_path, speech_cache, **FAST)
    url = serve(httpserver, SMALL_FEED.read_bytes())
    assert watch.once(settings, url) == 0
    order = [int(n) for n in re.findall(r"building issue #(\d+)", logs.text)]
    assert order == [6, 7]
    assert sorted(listed(settings.paths.public)) == sorted([guid(6), guid(7)])
    feed = settings.paths.public / "feed.xml"
    before = feed.read_bytes(), feed.stat().st_mtime_ns

    logs.clear()
    assert watch.once(settings, url) == 0
    assert httpserver.log[-1][0].headers["If-None-Match"] == '"v1"'
    assert httpserver.log[-1][1].status_code == 304
    assert "building" not in logs.text and "2 already published" in logs.text
    assert (feed.read_bytes(), feed.stat().st_mtime_ns) == before


def test_a_feed_that_relists_and_reorders_its_entries_makes_no_duplicate(httpserver, site, logs):
    text = SMALL_FEED.read_text()
    items = re.findall(r"<item>.*?</item>\n", text, re.S)
    shuffled = text.replace("".join(items), "".join([items[2], items[1], items[0], items[1]]))
    before = (site.paths.public / "feed.xml").read_bytes()
    assert watch.once(site, serve(httpserver, shuffled.encode(), etag='"v2"')) == 0
    assert "lists issue #7 twice" in logs.text and "building" not in logs.text
    assert (site.paths.public / "feed.xml").read_bytes() == before


def test_an_edited_issue_is_rebuilt_under_the_same_guid(httpserver, site, logs):
    old = manifest.read(site.paths.episodes / "an-007")
    body = edited_feed("It works.", "It works, and the newsletter corrected this sentence.")
    url = serve(httpserver, body, etag='"edited"')
    assert watch.once(site, url) == 0
    assert "issue #7 was edited in the newsletter; rebuilding it under the same guid" in logs.text
    new = manifest.read(site.paths.episodes / "an-007")
    assert new.guid == old.guid == guid(7) and new.source_hash != old.source_hash
    assert "corrected this sentence" in (site.paths.episodes / "an-007" / "script.txt").read_text()
    assert sorted(listed(site.paths.public)) == sorted([guid(6), guid(7)])

    logs.clear()
    assert watch.once(site, url) == 0
    assert "building" not in logs.text


# --- faults ----------------------------------------------------------------------------------------


def test_a_feed_that_stays_down_is_one_line_and_status_1_and_the_next_run_recovers(httpserver, site, logs):
    (site.paths.public / "feed.xml").unlink()  # as if the last run was killed before publishing
    httpserver.expect_request("/feed.xml").respond_with_data("down", status=503)
    assert watch.once(site, httpserver.url_for("/feed.xml")) == 1
    [line] = errors(logs)
    assert "HTTP 503 SERVICE UNAVAILABLE (tried 2 times)" in line
    assert sorted(listed(site.paths.public)) == sorted([guid(6), guid(7)]), "what was built is published anyway"

    httpserver.clear()
    logs.clear()
    assert watch.once(site, serve(httpserver, SMALL_FEED.read_bytes())) == 0
    assert not errors(logs)


def test_a_feed_that_fails_validation_never_replaces_the_published_one(httpserver, site, logs):
    twin = site.paths.episodes / "an-070"
    shutil.copytree(site.paths.episodes / "an-007", twin)
    data = json.loads((twin / "episode.json").read_text())
    data.update(number=70, slug="an-070")  # a hand-made copy that kept issue #7's guid
    (twin / "episode.json").write_text(json.dumps(data))
    state = site.paths.episodes / ".watch" / "state.json"
    state.write_text(state.read_text().replace('"unpublished": false', '"unpublished": true'))
    before = (site.paths.public / "feed.xml").read_bytes()

    assert watch.once(site, str(SMALL_FEED)) == 1
    [line] = errors(logs)
    assert "two episodes with the same guid; the next run tries again" in line
    assert (site.paths.public / "feed.xml").read_bytes() == before


def test_the_site_goes_to_the_host_and_a_failed_copy_is_retried_by_the_next_run(site, tmp_path, logs):
    host = tmp_path / "www"
    host.write_text("a file where the host's folder should be")
    settings = site.replace(**{"hosting.folder": str(host)})
    (site.paths.public / "feed.xml").unlink()  # as if the last run was killed before publishing
    assert watch.once(settings, str(SMALL_FEED)) == 1
    [line] = errors(logs)
    assert line.startswith("error: publish: cannot copy") and line.endswith("the next run tries again")

    host.unlink()
    logs.clear()
    assert watch.once(settings, str(SMALL_FEED)) == 0
    assert sorted(listed(host)) == sorted([guid(6), guid(7)])


def test_a_damaged_state_file_only_costs_a_warning(site, logs):
    state = site.paths.episodes / ".watch" / "state.json"
    state.write_text('{"feed": "http://x", "etag": ')
    assert watch.once(site, str(SMALL_FEED)) == 0
    assert "ignoring a damaged" in logs.text
    assert json.loads(state.read_text())["unpublished"] is False


def test_a_run_leaves_when_another_holds_the_lock(httpserver, site, logs):
    url = serve(httpserver, SMALL_FEED.read_bytes())
    with lock.hold(site.paths.episodes / ".watch"):
        assert watch.once(site, url) == watch.EXIT_BUSY
    assert f"another run (pid {os.getpid()}, since" in logs.text
    assert "leaves the work to it" in logs.text
    assert not httpserver.log, "a run that leaves does not even fetch the feed"
    assert watch.once(site, url) == 0, "the lock is free once its holder is done"


@pytest.mark.parametrize("file, prefix", [
    ("crontab", r"(?m)^17 .*\.venv/bin/audio-edition (.*)$"),
    ("audio-edition-watch.service", r"(?m)^ExecStart=\S+/\.venv/bin/audio-edition (.*)$"),
])
def test_the_scheduled_command_lines_in_deploy_are_ones_the_cli_accepts(file, prefix):
    line = re.search(prefix, (REPO / "deploy" / file).read_text()).group(1)
    args = cli._parser().parse_args(line.split())
    assert args.command == "watch" and args.once and args.settings == "edition.toml"


@pytest.mark.parametrize("text, seconds", [("1h", 3600), ("30m", 1800), ("1h30m", 5400), ("90", 90)])
def test_intervals(text, seconds):
    assert watch.parse_interval(text) == seconds


@pytest.mark.parametrize("text", ["5s", "soon", "-1h", ""])
def test_an_interval_that_is_too_short_or_unreadable_is_named(text):
    with pytest.raises(SettingsError, match="--every"):
        watch.parse_interval(text)


# --- hostile input ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fixture, message", [
    ("billion-laughs.xml", "declares XML entities, which are refused"),
    ("xxe.xml", "declares XML entities, which are refused"),
    ("truncated.xml", r"is not well-formed XML \(unclosed CDATA section"),
    ("error-page.html", "is an HTML page, not a feed"),
    ("wrong-encoding.xml", "is not valid UTF-8, the encoding it declares"),
    ("empty.xml", "is empty"),
    ("no-items.xml", "the feed lists no issues; nothing was changed"),
])
def test_a_broken_or_hostile_feed_is_one_line_and_changes_nothing(httpserver, site, logs, fixture, message):
    before = {p: p.read_bytes() for p in sorted(site.paths.public.rglob("*")) if p.is_file()}
    episodes = sorted(p.name for p in site.paths.episodes.iterdir())
    url = serve(httpserver, (HOSTILE / fixture).read_bytes())
    assert watch.once(site, url) == 1
    [line] = errors(logs)
    assert re.search(message, line), line
    assert {p: p.read_bytes() for p in sorted(site.paths.public.rglob("*")) if p.is_file()} == before
    assert sorted(p.name for p in site.paths.episodes.iterdir()) == episodes
    root = Path("/etc/passwd").read_text().splitlines()[0]
    for path in site.paths.episodes.rglob("*"):
        assert not path.is_file() or root.encode() not in path.read_bytes()


def test_an_issue_with_no_content_fails_alone_and_stays_refused_until_it_changes(httpserver, site, logs):
    url = serve(httpserver, (HOSTILE / "no-content.xml").read_bytes())
    assert watch.once(site, url) == 1
    [line] = errors(logs)
    assert line == "error: issue #8 has no content (it will be tried again when the issue changes)"
    assert not (site.paths.episodes / "an-008" / "episode.json").exists()
    assert guid(6) in listed(site.paths.public)

    logs.clear()
    assert watch.once(site, url) == 0, "a refusal is reported once, not every hour"
    assert "issue #8 stays refused until it changes: issue #8 has no content" in logs.text


def test_a_million_word_issue_is_refused_before_any_synthesis(httpserver, site, tmp_path, logs):
    settings = site.replace(**{"paths.cache": str(tmp_path / "empty-cache")})
    huge = "<p>" + " ".join(["alignment"] * 1000) + "</p>\n"
    body = ('<h1>News</h1>\n<p><strong><a href="https://example.org/big">Big</a></strong> '
            '(summarized by Rohin): Long.</p>\n' + huge * 1000)
    item = ("<item>\n<title>[AN #13]: A million words</title>\n<link>https://example.org/an/an-13</link>\n"
            '<guid isPermaLink="false">alignment-newsletter-13</guid>\n<pubDate>Wed, 07 Aug 2019 16:30:00 +0000</pubDate>\n'
            f"<description><![CDATA[{body}]]></description>\n</item>\n")
    text = SMALL_FEED.read_text().replace("<item>", item + "<item>", 1)
    assert watch.once(settings, serve(httpserver, text.encode())) == 1
    [line] = errors(logs)
    assert "issue #13 has 1000002 words, over the limit of 50000 (limits.max_words); refusing to synthesize it" in line
    assert "building issue #13" not in logs.text
    assert not list((tmp_path / "empty-cache").rglob("*.wav")), "nothing was synthesized"
    assert sorted(listed(settings.paths.public)) == sorted([guid(6), guid(7)])


def test_two_entries_sharing_a_guid_give_one_episode_per_issue(httpserver, site, logs):
    assert watch.once(site, serve(httpserver, (HOSTILE / "duplicate-guid.xml").read_bytes())) == 0
    assert "the feed lists issue #7 twice; keeping the first" in logs.text
    guids = listed(site.paths.public)
    assert sorted(guids) == sorted([guid(6), guid(7)])
    assert "Said once" in (site.paths.episodes / "an-007" / "script.txt").read_text()


def test_scripts_frames_and_handlers_are_never_spoken_and_only_escaped_in_public(httpserver, site, logs):
    assert watch.once(site, serve(httpserver, (HOSTILE / "script-injection.xml").read_bytes())) == 0
    spoken = (site.paths.episodes / "an-009" / "script.txt").read_text()
    assert "number nine: Safe words." in spoken
    for unspoken in ("spoken script", "click", "href", "img", "svg", "framed", "display", "evil", "mouseover"):
        assert unspoken not in spoken
    xml = (site.paths.public / "feed.xml").read_bytes()
    assert b"<script" not in xml and b"<iframe" not in xml
    item = [i for i in etree.fromstring(xml).iter("item") if i.findtext("guid") == guid(9)][0]
    assert item.findtext("title") == "Alignment Newsletter #9: Safe words"
    notes = item.findtext("{http://purl.org/rss/1.0/modules/content/}encoded")
    assert notes and "<li>" in notes, "the show notes are there, and only their own markup"
    for page in [item.findtext("description"), notes] + [p.read_text() for p in site.paths.public.rglob("*.html")]:
        _assert_harmless_html(page)
    assert not [e for e in lxml.html.fromstring(f"<div>{notes}</div>").iter()
                if isinstance(e.tag, str) and e.tag not in ("div", "p", "h3", "ul", "ol", "li", "a", "strong", "em")]


def _assert_harmless_html(text: str) -> None:
    """What an app or a browser would run from this HTML: nothing of the newsletter's."""
    root = lxml.html.fromstring(f"<div>{text}</div>")
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        assert element.tag not in ("iframe", "object", "embed")
        assert element.tag != "script" or "alert" not in (element.text or "")
        assert not any(name.startswith("on") for name in element.attrib), etree.tostring(element)
        assert not element.get("href", "").strip().lower().startswith("javascript:")


def test_hostile_titles_give_ascii_files_clean_titles_and_nothing_outside_the_two_folders(
        httpserver, published, tmp_path, speech_cache):
    work = tmp_path / "deep" / "work"
    work.mkdir(parents=True)
    for name in ("episodes", "public"):
        shutil.copytree(published / name, work / name)
    flags = settings_flags(work, speech_cache)
    url = serve(httpserver, (HOSTILE / "hostile-titles.xml").read_bytes())
    done = run_cli(flags, work, "--once", "--feed", url)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deep"]
    assert sorted(p.name for p in (tmp_path / "deep").iterdir()) == ["work"]
    assert sorted(p.name for p in work.iterdir()) == ["episodes", "public"]
    for path in list(work.rglob("*")):
        assert re.fullmatch(r"[A-Za-z0-9._-]+", path.name), path
    titles = {i.findtext("guid"): i.findtext("title") for i in etree.parse(str(work / "public/feed.xml")).iter("item")}
    assert titles[guid(10)] == "Alignment Newsletter #10: ../../x gnp.exe and \U0001F916\U0001F469\u200d\U0001F4BB robots"
    # feedparser reads C1 controls as Windows-1252 (U+0085 is "…", U+009B is "›"): printable, and kept
    assert titles[guid(11)] == "Alignment Newsletter #11: Bell and \u2026next \u203a31mred\u203a0m isolated /etc/passwd"
    for title in titles.values():
        assert not [c for c in title if unicodedata.category(c) in ("Cc", "Cf") and c != "\u200d"]


# --- real processes: kill -9, two at once, the loop -------------------------------------------------


def settings_flags(folder: Path, cache: Path | None = None, feed: str = str(SMALL_FEED)) -> list[str]:
    """The repository's edition.toml with the state, site and cache in `folder`, as a user overrides it: --set."""
    values = {
        "newsletter.feed": feed, "paths.episodes": folder / "episodes", "paths.public": folder / "public",
        "paths.cache": cache or folder / "episodes/.cache", "fetch.backoff": 0.01,
    }
    return ["--settings", str(REPO / "edition.toml")] + [f for key, value in values.items() for f in ("--set", f"{key}={value}")]


def command(flags: list[str], *args: str) -> list[str]:
    return [sys.executable, "-m", "audio_edition", *flags, "watch", *args]


def run_cli(flags: list[str], cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(command(flags, *args), cwd=cwd, capture_output=True, text=True, timeout=600)


def start(flags: list[str], cwd: Path, log: Path, *args: str) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen(command(flags, *args), cwd=cwd, stdout=out, stderr=subprocess.STDOUT)


def wait_for(process: subprocess.Popen, condition, what: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, f"the run ended before {what}"
        assert time.monotonic() < deadline, f"no {what} within {timeout} s"
        time.sleep(0.005)


def publish_only_issue_6(published: Path, work: Path, cache: Path) -> bytes:
    """A show that has published #6; the feed now also lists #7."""
    shutil.copytree(published / "episodes" / "an-006", work / "episodes" / "an-006")
    publish.publish(make_settings(work, cache))
    assert listed(work / "public") == [guid(6)]
    return (work / "public" / "feed.xml").read_bytes()


def test_a_run_killed_mid_synthesis_leaves_the_old_feed_and_the_rerun_publishes_once(
        httpserver, published, tmp_path):
    cache = tmp_path / "episodes" / ".cache"
    old = publish_only_issue_6(published, tmp_path, cache)
    flags = settings_flags(tmp_path)
    url = serve(httpserver, SMALL_FEED.read_bytes(), etag='"v2"')
    run = start(flags, tmp_path, tmp_path / "first.log", "--once", "--feed", url)
    wait_for(run, lambda: any((cache / "speech").rglob("*.wav")), "speech in the cache")
    run.send_signal(signal.SIGKILL)
    run.wait()
    assert (tmp_path / "public" / "feed.xml").read_bytes() == old
    assert not (tmp_path / "episodes" / "an-007" / "episode.json").exists()

    rerun = run_cli(flags, tmp_path, "--once", "--feed", url)
    assert rerun.returncode == 0, rerun.stderr
    assert "HTTP 304" in rerun.stderr, "the rerun reuses the feed saved by the killed run"
    reused = int(re.search(r"reused (\d+) from the cache", rerun.stderr).group(1))
    assert reused >= 1
    assert sorted(listed(tmp_path / "public")) == sorted([guid(6), guid(7)])
    assert not list((tmp_path / "episodes").rglob(".build-*"))


@pytest.mark.parametrize("moment, reached", [
    ("mid-encode", lambda work: any((work / "episodes" / "an-007").glob(".build-*"))),
    ("mid-publish", lambda work: (work / "public" / "episodes" / "an-007").exists()),
], ids=["mid-encode", "mid-publish"])
def test_a_run_killed_mid_encode_or_mid_publish_leaves_the_feed_old_or_new_and_the_rerun_completes(
        httpserver, published, tmp_path, speech_cache, moment, reached):
    old = publish_only_issue_6(published, tmp_path, speech_cache)
    flags = settings_flags(tmp_path, speech_cache)
    url = serve(httpserver, SMALL_FEED.read_bytes())
    run = start(flags, tmp_path, tmp_path / "killed.log", "--once", "--feed", url)
    wait_for(run, lambda: reached(tmp_path), moment)
    run.send_signal(signal.SIGKILL)
    run.wait()
    feed = (tmp_path / "public" / "feed.xml").read_bytes()
    assert feed == old or sorted(listed(tmp_path / "public")) == sorted([guid(6), guid(7)])

    rerun = run_cli(flags, tmp_path, "--once", "--feed", url)
    assert rerun.returncode == 0, rerun.stderr
    assert "another run" not in rerun.stderr, "a killed run leaves no stale lock"
    assert sorted(listed(tmp_path / "public")) == sorted([guid(6), guid(7)])
    assert not list((tmp_path / "episodes").rglob(".build-*"))
    assert not list((tmp_path / "public").rglob("*.tmp"))


def test_two_runs_at_once_never_both_build(httpserver, tmp_path):
    flags = settings_flags(tmp_path)
    url = serve(httpserver, SMALL_FEED.read_bytes())
    first = start(flags, tmp_path, tmp_path / "first.log", "--once", "--feed", url)
    lock = tmp_path / "episodes" / ".watch" / "lock"
    wait_for(first, lambda: lock.exists() and f"pid {first.pid}" in lock.read_text(), "the lock")
    second = run_cli(flags, tmp_path, "--once", "--feed", url)
    assert second.returncode == watch.EXIT_BUSY == 75
    assert f"another run (pid {first.pid}, since" in second.stderr
    assert "building" not in second.stderr
    assert first.wait(timeout=600) == 0
    assert (tmp_path / "first.log").read_text().count("building issue") == 2
    assert sorted(listed(tmp_path / "public")) == sorted([guid(6), guid(7)])
    assert len(httpserver.log) == 1, "only the run holding the lock fetched the feed"


def test_every_checks_then_waits_for_the_next_tick(httpserver, published, tmp_path, speech_cache):
    for name in ("episodes", "public"):
        shutil.copytree(published / name, tmp_path / name)
    flags = settings_flags(tmp_path, speech_cache)
    url = serve(httpserver, SMALL_FEED.read_bytes())
    log = tmp_path / "every.log"
    loop = start(flags, tmp_path, log, "--every", "1h", "--feed", url)
    try:
        wait_for(loop, lambda: "next check in 1 h" in log.read_text(), "the first check")
    finally:
        loop.send_signal(signal.SIGTERM)
        loop.wait()
    assert "watch: 2 already published" in log.read_text()
    assert len(httpserver.log) == 1

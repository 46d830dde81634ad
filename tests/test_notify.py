"""Notifications against a real HTTP server on 127.0.0.1 and real commands: delivered as documented, never fatal."""

import json
import logging
import shlex
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from audio_edition import notify, settings
from audio_edition.errors import SettingsError
from audio_edition.notify import Event, send
from audio_edition.settings import Notify

EVENTS = [
    Event("published", 42, "[AN #42]: Scaling laws", "http://localhost:8000/episodes/an-042.html"),
    Event("review", 43, "[AN #43]: Interpretability", "http://localhost:8000/episodes/an-043.html"),
    Event("failed", None, error="cannot fetch feed https://example.org/feed: connection refused"),
]


class Receiver:
    """A webhook on 127.0.0.1 that records each POST and answers `status` after `delay` seconds."""

    def __init__(self, status=204, delay=0.0):
        self.requests = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append((self.path, dict(self.headers), body))
                time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the client gave up waiting

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/secret-token"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(**kwargs):
        made.append(Receiver(**kwargs))
        return made[-1]

    yield make
    for server in made:
        server.close()


def recorder(tmp_path, code="", exit_status=0):
    """A real command line: python writing what it received (stdin, AUDIO_EDITION_* variables) to a file."""
    script = (
        "import json, os, sys\n"
        "got = {'stdin': sys.stdin.read(), 'env': {k: v for k, v in os.environ.items() if k.startswith('AUDIO_EDITION_')}}\n"
        "open(sys.argv[1], 'w').write(json.dumps(got))\n"
        f"{code}\n"
        f"sys.exit({exit_status})\n"
    )
    out = tmp_path / "received.json"
    return shlex.join([sys.executable, "-c", script, str(out)]), out


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.kind)
def test_the_webhook_receives_the_event_as_json(receiver, event):
    hook = receiver()
    assert send(Notify(webhook=hook.url), event) == []
    [(path, headers, body)] = hook.requests
    assert path == "/hooks/secret-token"
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"].startswith("audio-edition")
    got = json.loads(body)
    assert set(got) == {"text", "event", "issue", "title", "episode_url", "error", "time"}
    assert (got["event"], got["issue"], got["title"], got["episode_url"], got["error"]) == (
        event.kind, event.issue, event.title, event.episode_url, event.error)
    assert got["time"].endswith("+00:00")
    assert (event.title or "the newsletter's feed") in got["text"] and (event.error or event.episode_url) in got["text"]


def test_a_server_error_is_reported_once_without_retrying_and_without_the_secret(receiver, caplog):
    hook = receiver(status=500)
    problems = send(Notify(webhook=hook.url), EVENTS[0])
    assert len(problems) == 1
    assert "HTTP 500" in problems[0]
    assert f"could not notify http://127.0.0.1:{hook.server.server_port}/…" in problems[0]
    assert "secret-token" not in caplog.text
    assert problems[0] in caplog.text
    assert len(hook.requests) == 1


def test_a_redirect_is_reported_not_followed(receiver):
    hook = receiver(status=302)
    [problem] = send(Notify(webhook=hook.url), EVENTS[0])
    assert "HTTP 302" in problem and "not followed" in problem


def test_a_closed_port_is_retried_once_then_reported(caplog):
    caplog.set_level(logging.INFO, logger="audio_edition.notify")
    with socket.create_server(("127.0.0.1", 0)) as sock:
        port = sock.getsockname()[1]
    started = time.monotonic()
    [problem] = send(Notify(webhook=f"http://127.0.0.1:{port}/hook"), EVENTS[2])
    assert "connection refused" in problem
    assert caplog.text.count("trying once more") == 1
    assert time.monotonic() - started < notify.RETRY_DELAY + 2


def test_a_slow_server_is_given_up_on_after_the_timeout(receiver):
    hook = receiver(delay=3.0)
    started = time.monotonic()
    [problem] = send(Notify(webhook=hook.url, timeout=0.3), EVENTS[0])
    assert time.monotonic() - started < 2.0
    assert "no answer within 0.3 s" in problem
    assert len(hook.requests) == 1


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/hook", "example.org/hook"])
def test_only_http_and_https_webhooks_are_used(url):
    [problem] = send(Notify(webhook=url), EVENTS[0])
    assert "http or https" in problem


def test_a_webhook_with_a_password_in_it_is_refused_and_the_password_not_shown(caplog):
    [problem] = send(Notify(webhook="https://me:hunter2@example.org/hook"), EVENTS[0])
    assert "not supported" in problem
    assert "hunter2" not in caplog.text


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.kind)
def test_the_command_receives_the_event_on_stdin_and_in_its_environment(tmp_path, event):
    command, out = recorder(tmp_path)
    assert send(Notify(command=command), event) == []
    got = json.loads(out.read_text())
    payload = json.loads(got["stdin"])
    assert payload["event"] == event.kind and payload["issue"] == event.issue and payload["error"] == event.error
    assert got["env"] == {
        "AUDIO_EDITION_EVENT": event.kind,
        "AUDIO_EDITION_ISSUE": "" if event.issue is None else str(event.issue),
        "AUDIO_EDITION_TITLE": event.title,
        "AUDIO_EDITION_URL": event.episode_url,
        "AUDIO_EDITION_ERROR": event.error,
    }


def test_both_targets_are_told(receiver, tmp_path):
    hook = receiver()
    command, out = recorder(tmp_path)
    assert send(Notify(webhook=hook.url, command=command), EVENTS[1]) == []
    assert len(hook.requests) == 1 and json.loads(json.loads(out.read_text())["stdin"])["event"] == "review"


def test_a_missing_command_is_reported(tmp_path, caplog):
    [problem] = send(Notify(command=f"{tmp_path / 'no-such-notifier'} --flag"), EVENTS[0])
    assert "no-such-notifier not found" in problem
    assert problem in caplog.text


def test_a_failing_command_is_reported_with_what_it_said(tmp_path):
    command, out = recorder(tmp_path, code="print('mail server unreachable', file=sys.stderr)", exit_status=3)
    [problem] = send(Notify(command=command), EVENTS[2])
    assert "exit status 3: mail server unreachable" in problem
    assert out.exists()


def test_a_command_that_hangs_is_stopped_after_its_timeout(tmp_path):
    command = shlex.join([sys.executable, "-c", "import time; time.sleep(30)"])
    started = time.monotonic()
    [problem] = send(Notify(command=command, command_timeout=0.5), EVENTS[0])
    assert time.monotonic() - started < 5
    assert "still running after 0.5 s" in problem


def test_a_webhook_failure_does_not_keep_the_command_from_being_told(tmp_path):
    command, out = recorder(tmp_path)
    problems = send(Notify(webhook="gopher://example.org/", command=command), EVENTS[0])
    assert len(problems) == 1 and "http or https" in problems[0]
    assert out.exists()


def test_nothing_configured_sends_nothing(caplog):
    assert send(Notify(), EVENTS[0]) == []
    assert send(Notify(webhook="  ", command=""), EVENTS[2]) == []
    assert caplog.records == []


def test_an_unknown_kind_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown notification kind"):
        Event("done", 1)


def test_the_notify_table_loads_from_edition_toml(tmp_path):
    path = tmp_path / "edition.toml"
    path.write_text('[notify]\nwebhook = "https://example.org/hook"\ncommand = "notify-send \'new episode\'"\ntimeout = 5\n')
    loaded = settings.load(path).notify
    assert loaded == Notify(webhook="https://example.org/hook", command="notify-send 'new episode'", timeout=5.0)
    assert settings.load(path, {"notify.command": ""}).notify.command == ""


def test_the_repository_settings_notify_nobody_and_mistakes_are_named(tmp_path):
    from conftest import REPO

    assert settings.load(REPO / "edition.toml").notify == Notify()
    path = tmp_path / "edition.toml"
    path.write_text("[notify]\nwebhook = 3\n")
    with pytest.raises(SettingsError, match="notify.webhook must be a string"):
        settings.load(path)

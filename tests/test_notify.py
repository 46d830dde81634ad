"""Notifications against a real HTTP server on 127.0.0.1 and real commands: delivered as documented, never fatal."""

import html
import json
import logging
import re
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
    assert problems[0] == "could not notify the webhook at 127.0.0.1: HTTP 500 Internal Server Error"
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


# --- hostile input: secrets in logs, mentions in chats, links in payloads -----------------------------

SECRET = "T0SECRET/B0SECRET/XXSECRETXX"


class RawReceiver:
    """A TCP server on 127.0.0.1 that answers every connection with the same raw bytes (or none) and closes it."""

    def __init__(self, answer: bytes):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.answer = answer
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                if self.answer:
                    conn.sendall(self.answer)


def _secret_free(caplog, problems):
    for record in caplog.records:
        text = record.getMessage() + (record.exc_text or "") + repr(record.exc_info or "")
        assert "SECRET" not in text, text
        assert not any(ord(c) < 32 for c in record.getMessage()), record.getMessage()
    for problem in problems:
        assert "SECRET" not in problem, problem


@pytest.fixture
def closed_port():
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return sock.getsockname()[1]


def webhook_shapes(port: int, closed: int) -> list[tuple[str, str]]:
    """(webhook setting, how the logs must name it): every shape a hand-edited edition.toml can take."""
    host, nohost = "the webhook at 127.0.0.1", "the webhook URL"
    return [
        (f"127.0.0.1:{port}/hooks/{SECRET}", nohost),  # no scheme
        (f"hooks.example.org/services/{SECRET}", nohost),
        (f"http://127.0.0.1:{port}/hooks/{SECRET} and a space", host),
        (f"http://127.0.0.1:{port}/hooks/{SECRET}\x01", host),
        (f"http://127.0.0.1:{port}/hooks/\n{SECRET}", host),
        (f"http://127.0.0.1:{port}/hooks/\t{SECRET}", host),
        (f"http://127.0.0.1:{port}/hooks/{SECRET}\u202e", host),
        (f"http://127.0.0.1:99999/hooks/{SECRET}", host),
        (f"http://[::1/hooks/{SECRET}", nohost),
        (f"ftp://127.0.0.1/hooks/{SECRET}", host),
        (f"//127.0.0.1:{port}/hooks/{SECRET}", host),  # scheme-relative
        (f"https://hooks:{SECRET.replace('/', '')}@127.0.0.1/x", host),
        (f"https://{SECRET.replace('/', '')}@127.0.0.1/x", host),
        (f"http://127.0.0.1:{port}/hooks/{SECRET}?token={SECRET}", host),  # valid: the receiver answers 500
        (f"http://127.0.0.1:{closed}/hooks/{SECRET}", host),  # refused twice
    ]


def test_only_the_webhooks_host_is_ever_logged_whatever_its_shape(receiver, closed_port, caplog):
    caplog.set_level(logging.DEBUG)
    hook = receiver(status=500)
    for webhook, name in webhook_shapes(hook.server.server_port, closed_port):
        caplog.clear()
        problems = send(Notify(webhook=webhook), EVENTS[0])
        assert len(problems) == 1 and problems[0].startswith(f"could not notify {name}: "), (webhook, problems)
        _secret_free(caplog, problems)
    assert [path for path, _, _ in hook.requests] == [f"/hooks/{SECRET}?token={SECRET}"], "invalid URLs are never sent"


@pytest.mark.parametrize("answer, said", [
    (b"HTTP/1.1 500 \x1b]0;/hooks/" + SECRET.encode() + b"\x07\r\nContent-Length: 0\r\n\r\n", "HTTP 500 Internal Server Error"),
    (b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1/" + SECRET.encode() + b"\r\nContent-Length: 0\r\n\r\n", "HTTP 302 Found (redirects are not followed)"),
    (b"\x1b[31mnot HTTP at all " + SECRET.encode() + b"\r\n\r\n", "a malformed answer (BadStatusLine)"),
    (b"", "the connection closed without an answer"),
])
def test_what_a_broken_receiver_answers_is_neither_logged_raw_nor_repeated(answer, said, caplog):
    caplog.set_level(logging.DEBUG)
    raw = RawReceiver(answer)
    problems = send(Notify(webhook=f"http://127.0.0.1:{raw.port}/hooks/{SECRET}"), EVENTS[0])
    assert problems == [f"could not notify the webhook at 127.0.0.1: {said}"]
    _secret_free(caplog, problems)
    raw.sock.close()


def test_a_command_is_named_by_its_program_only(tmp_path, caplog):
    command, out = recorder(tmp_path, exit_status=3)
    problems = send(Notify(command=f"{command} --token={SECRET}"), EVENTS[0])
    assert problems[0].startswith(f"could not notify with `{sys.executable}`: exit status 3")
    problems += send(Notify(command=f"notify-send 'unclosed {SECRET}"), EVENTS[0])
    assert "cannot be split into words" in problems[1]
    _secret_free(caplog, problems)


MENTIONS = "<@U024BE7LH> <!channel> <!here|here> @channel @here @everyone <#C123> <users/all> <https://evil.example|Your bank>"
MARKDOWN = "[Click](https://evil.example) ![pixel](https://evil.example/p.png) & more"


def test_a_title_cannot_mention_anyone_or_hide_a_link_in_a_chat(receiver):
    hook = receiver()
    title = f"[AN #9]: {MENTIONS} {MARKDOWN}"
    assert send(Notify(webhook=hook.url), Event("published", 9, title, "https://example.org/ep?a=1&b=2")) == []
    got = json.loads(hook.requests[0][2])
    text = got["text"]
    assert "<" not in text and ">" not in text, "no Slack or Google Chat control sequence survives"
    assert not re.search(r"@(channel|here|everyone|U024)", text), "no live @-mention"
    assert "](" not in text, "no markdown link"
    assert text.endswith(": https://example.org/ep?a=1&amp;b=2"), "the episode's link stays a link"
    # Still readable: without the invisible joiners and Slack's escapes it is the title as written.
    readable = html.unescape(text.replace("\u200d", ""))
    assert readable == f"Published {title}: https://example.org/ep?a=1&b=2"
    assert got["title"] == title, "the data field keeps the title as the newsletter wrote it"


def test_a_failure_quoting_a_title_mentions_no_one_either(receiver):
    hook = receiver()
    send(Notify(webhook=hook.url), Event("failed", 9, error=f"issue #9 ({MENTIONS}) has no summaries"))
    text = json.loads(hook.requests[0][2])["text"]
    assert "<" not in text and not re.search(r"@(channel|here|everyone)", text)


@pytest.mark.parametrize("event, where", [
    (Event("published", 9, "T", " JaVaScRiPt:alert(1)"), ""),
    (Event("published", 9, "T", "//evil.example/x"), ""),
    (Event("published", 9, "T", "data:text/html,x"), ""),
    (Event("published", 9, "T", " https://example.org/an-009.mp3 "), "https://example.org/an-009.mp3"),
    (Event("review", 9, "T", "/srv/podcast/episodes/an-009/an-009.mp3"), "/srv/podcast/episodes/an-009/an-009.mp3"),
    (Event("review", 9, "T", "//evil.example/an-009.mp3"), ""),
    (Event("review", 9, "T", "relative/an-009.mp3"), ""),
])
def test_only_a_web_address_or_the_review_copy_is_offered_as_where_to_listen(receiver, tmp_path, event, where):
    hook = receiver()
    command, out = recorder(tmp_path)
    assert send(Notify(webhook=hook.url, command=command), event) == []
    got = json.loads(hook.requests[0][2])
    assert got["episode_url"] == where
    assert json.loads(out.read_text())["env"]["AUDIO_EDITION_URL"] == where
    assert got["text"].endswith(f": {where}") if where else not re.search(r"(?i)javascript|data:|//evil", got["text"])

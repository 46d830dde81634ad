"""Telling someone what the unattended job did (published, built for review, failed): a notice must never sink the job.

Two targets, both optional ([notify] in edition.toml): a webhook that receives the event as a JSON
POST, and a command run without a shell that receives the same JSON on stdin and the main fields in
its environment. Each is bounded by a timeout; a webhook whose connection is refused or reset is tried
once more, nothing else is retried, so a broken receiver costs the job seconds, never a storm of
requests. Whatever goes wrong is logged as a warning and returned, never raised.

A webhook's path usually is its secret, and a command line may hold one: logs name a webhook by its
host only and a command by its program only, whatever shape the setting has, and never repeat what
an exception says about them. The newsletter's words reach a chat only as text: `text` cannot
mention anyone or hide a link, and `episode_url` is a URL `urls.publishable` passes.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import shlex
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from http import HTTPStatus
from urllib.parse import urlsplit

from . import __version__
from .settings import Notify
from .urls import publishable

log = logging.getLogger(__name__)

KINDS = ("published", "review", "failed")
USER_AGENT = f"audio-edition/{__version__} (notification)"
RETRY_DELAY = 1.0
"""Seconds before the one retry of a webhook whose connection was refused or reset."""
_JOINER = "\u200d"
"""Zero-width joiner: invisible, and it keeps a chat from reading `@channel` or `[a](b)` as markup."""


@dataclass(frozen=True)
class Event:
    """What happened to one issue; `issue` is None when the run failed before any issue was known."""

    kind: str
    """'published', 'review' (built, waiting for the editor's approval) or 'failed'."""
    issue: int | None
    title: str = ""
    episode_url: str = ""
    error: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown notification kind {self.kind!r} (known: {', '.join(KINDS)})")


def send(settings: Notify, event: Event) -> list[str]:
    """Deliver to every configured target; never raises. Returns the problems (also logged as warnings in
    plain words: 'could not notify the webhook at hooks.example.org: HTTP 500'), empty when delivered
    or nothing configured."""
    payload = _payload(event)
    problems: list[str] = []
    targets = ((settings.webhook.strip(), _post, _webhook_name), (settings.command.strip(), _run, _command_name))
    for target, deliver, name in targets:
        if not target:
            continue
        try:
            problem = deliver(target, payload, settings)
        except Exception as exc:  # the job's outcome matters more than its notice: nothing may escape
            # Only the exception's kind: its message may quote the URL or the command, secret and all.
            problem = f"could not notify {name(target)}: {type(exc).__name__}"
        if problem:
            log.warning("%s", problem)
            problems.append(problem)
        else:
            log.info("notified %s: %s", name(target), event.kind)
    return problems


def _payload(event: Event) -> dict[str, object]:
    """The event's fields, plus `text`: one sentence for a person, which chat webhooks (Slack,
    Mattermost, Rocket.Chat, Google Chat) post as the message."""
    return {
        "text": _sentence(event),
        "event": event.kind,
        "issue": event.issue,
        "title": event.title,
        "episode_url": _where(event),
        "error": event.error,
        "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def _sentence(event: Event) -> str:
    """The notice as a chat shows it: what came from the newsletter (a title, an error quoting one)
    goes through `_as_text`; the episode's address is a URL `publishable` passed, or a path."""
    issue = f"issue #{event.issue}" if event.issue is not None else "the newsletter's feed"
    what = _as_text(event.title) if event.title else issue
    where = f": {_escaped(where)}" if (where := _where(event)) else ""
    if event.kind == "published":
        return f"Published {what}{where}"
    if event.kind == "review":
        return f"Built {what}; it waits for your review (make publish ISSUE={event.issue}){where}"
    return f"The audio edition job failed on {issue}: {_as_text(event.error)}"


def _as_text(words: str) -> str:
    """Words a chat shows as they are, never as a mention or a link: escaped (`_escaped`), and an
    invisible joiner after every `@` (so `@channel`, `@here`, `@everyone` and `@name` notify nobody in
    Slack, Mattermost, Rocket.Chat or Discord) and inside `](` (so `[words](url)` is not a link)."""
    return _escaped(words).replace("@", "@" + _JOINER).replace("](", "]" + _JOINER + "(")


def _escaped(words: str) -> str:
    """`&`, `<` and `>` escaped as Slack asks, so that `<@U024BE7LH>`, `<!channel>`, `<#C123>` and
    `<https://x|disguised>` (and Google Chat's `<users/all>`) stay text."""
    return words.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _where(event: Event) -> str:
    """Where to listen: a URL `publishable` passes, or, for an episode waiting for review, the built
    MP3's absolute path on this machine (the editor's copy); anything else is left out."""
    if url := publishable(event.episode_url):
        return url
    path = event.episode_url
    if event.kind == "review" and os.path.isabs(path) and not path.startswith("//") and path.isprintable():
        return path
    return ""


def _webhook_name(url: str) -> str:
    return named(url, "the webhook")


def named(url: str, what: str) -> str:
    """A receiver as logs may show it: its host only, as its path or query usually is its secret token
    ('the webhook at hooks.example.org'); 'the webhook URL' when the setting has no host that can be
    shown (no scheme, a control character)."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        host = ""
    if host and len(host) <= 253 and all(char.isalnum() or char in ".-_:" for char in host):
        return f"{what} at {host}"
    return f"{what} URL"


def _command_name(command: str) -> str:
    """A command as logs may show it: its program only, as its arguments may hold a token."""
    try:
        argv = shlex.split(command)
    except ValueError:
        argv = []
    return f"with `{_printable(argv[0])}`" if argv else "with notify.command"


def _printable(text: str) -> str:
    """Text from outside (a command's error output) as one log line: control characters escaped."""
    return "".join(char if char.isprintable() else ascii(char)[1:-1] for char in text)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirected POST would arrive as a GET without its body, or somewhere unexpected: report the 3xx instead."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _post(url: str, payload: dict[str, object], settings: Notify) -> str:
    name = _webhook_name(url)
    if refused := refused_url(url, "notify.webhook"):
        return f"could not notify {name}: {refused}"
    if settings.timeout <= 0:
        return f"could not notify {name}: notify.timeout must be more than 0"
    body = json.dumps(payload).encode("utf-8")
    return request(url, body, "application/json", settings.timeout, name, "notify.timeout", "notify")


def request(url: str, body: bytes | None, content_type: str, timeout: float, name: str, timeout_setting: str,
            verb: str) -> str:
    """One bounded request (a POST of `body`, or a GET without one): redirects not followed, retried once only
    if the connection was refused or reset. The problem in words that name the receiver by `name` only ('could
    not ping the WebSub hub at hub.example: HTTP 500 Internal Server Error'), or empty when it answered 2xx."""
    headers = {"User-Agent": USER_AGENT, **({"Content-Type": content_type} if body is not None else {})}
    opener = urllib.request.build_opener(_NoRedirect)
    for attempt in (1, 2):
        outgoing = urllib.request.Request(url, data=body, headers=headers, method="GET" if body is None else "POST")
        try:
            with opener.open(outgoing, timeout=timeout) as response:
                status = response.status
            break
        except urllib.error.HTTPError as exc:
            unfollowed = " (redirects are not followed)" if 300 <= exc.code < 400 else ""
            return f"could not {verb} {name}: {_status(exc.code)}{unfollowed}"
        except urllib.error.URLError as exc:
            # URLError is raised while connecting and sending: nothing reached the receiver, so one retry is safe.
            if isinstance(exc.reason, ConnectionError) and attempt == 1:
                log.info("%s %s: %s; trying once more in %g s", verb, name, _reason(exc.reason), RETRY_DELAY)
                time.sleep(RETRY_DELAY)
                continue
            if isinstance(exc.reason, TimeoutError):
                return f"could not {verb} {name}: no answer within {timeout:g} s ({timeout_setting})"
            return f"could not {verb} {name}: {_reason(exc.reason)}"
        except TimeoutError:
            return f"could not {verb} {name}: no answer within {timeout:g} s ({timeout_setting})"
        except (OSError, http.client.HTTPException) as exc:
            return f"could not {verb} {name}: {_reason(exc)}"
    if not 200 <= status < 300:
        return f"could not {verb} {name}: {_status(status)}"
    return ""


def refused_url(url: str, setting: str) -> str:
    """Why a receiver's URL cannot be used, in words that never quote it; empty when it can."""
    try:
        parts = urlsplit(url)
        credentials = parts.username is not None or parts.password is not None
    except ValueError:
        credentials = False
    if credentials:
        return f"a user or password in {setting} is not supported (put a token in its path)"
    if publishable(url) != url:
        return f"{setting} must be an http or https URL with a host, and no spaces or control characters"
    return ""


def _status(code: int) -> str:
    """'HTTP 500 Internal Server Error', in the standard's words, not the receiver's."""
    try:
        return f"HTTP {code} {HTTPStatus(code).phrase}"
    except ValueError:
        return f"HTTP {code}"


def _reason(exc: object) -> str:
    """Why a connection failed, in the system's words or the exception's kind; never str(exc), which
    may quote the request."""
    if isinstance(exc, http.client.RemoteDisconnected):  # a ConnectionResetError, told apart
        return "the connection closed without an answer"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    if isinstance(exc, OSError) and isinstance(exc.strerror, str) and exc.strerror:
        return _printable(exc.strerror)
    if isinstance(exc, http.client.HTTPException):
        return f"a malformed answer ({type(exc).__name__})"
    return type(exc).__name__


def _run(command: str, payload: dict[str, object], settings: Notify) -> str:
    name = _command_name(command)
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        return f"could not notify {name}: notify.command cannot be split into words ({exc})"
    if not argv:
        return ""
    if settings.command_timeout <= 0:
        return f"could not notify {name}: notify.command_timeout must be more than 0"
    env = dict(os.environ)
    env.update({
        "AUDIO_EDITION_EVENT": str(payload["event"]),
        "AUDIO_EDITION_ISSUE": "" if payload["issue"] is None else str(payload["issue"]),
        "AUDIO_EDITION_TITLE": str(payload["title"]),
        "AUDIO_EDITION_URL": str(payload["episode_url"]),
        "AUDIO_EDITION_ERROR": str(payload["error"]),
    })
    env = {key: value.replace("\0", "") for key, value in env.items()}
    try:
        # A session of its own, so that a timeout stops whatever the command started, not just the command.
        process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                   env=env, start_new_session=True)
    except FileNotFoundError:
        return f"could not notify {name}: {_printable(argv[0])} not found"
    except OSError as exc:
        return f"could not notify {name}: cannot run it ({_reason(exc)})"
    try:
        _, stderr = process.communicate(json.dumps(payload).encode("utf-8"), timeout=settings.command_timeout)
    except subprocess.TimeoutExpired:
        _stop(process)
        return (f"could not notify {name}: still running after {settings.command_timeout:g} s "
                "(notify.command_timeout), stopped")
    if process.returncode != 0:
        said = stderr.decode("utf-8", "replace").strip().splitlines()
        last = f": {_printable(said[-1].strip())}" if said else ""
        how = (f"killed by signal {-process.returncode}" if process.returncode < 0
               else f"exit status {process.returncode}")
        return f"could not notify {name}: {how}{last}"
    return ""


def _stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.communicate()

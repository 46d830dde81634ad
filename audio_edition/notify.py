"""Telling someone what the unattended job did (published, built for review, failed): a notice must never sink the job.

Two targets, both optional ([notify] in edition.toml): a webhook that receives the event as a JSON
POST, and a command run without a shell that receives the same JSON on stdin and the main fields in
its environment. Each is bounded by a timeout; a webhook whose connection is refused or reset is tried
once more, nothing else is retried, so a broken receiver costs the job seconds, never a storm of
requests. Whatever goes wrong is logged as a warning and returned, never raised.
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
from urllib.parse import urlsplit

from . import __version__
from .settings import Notify

log = logging.getLogger(__name__)

KINDS = ("published", "review", "failed")
USER_AGENT = f"audio-edition/{__version__} (notification)"
RETRY_DELAY = 1.0
"""Seconds before the one retry of a webhook whose connection was refused or reset."""


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
    plain words: 'could not notify https://...: HTTP 500'), empty when delivered or nothing configured."""
    payload = _payload(event)
    problems: list[str] = []
    targets = ((settings.webhook.strip(), _post, _shown), (settings.command.strip(), _run, "with `{}`".format))
    for target, deliver, label in targets:
        if not target:
            continue
        try:
            problem = deliver(target, payload, settings)
        except Exception as exc:  # the job's outcome matters more than its notice: nothing may escape
            problem = f"could not notify {label(target)}: {type(exc).__name__}: {exc}"
        if problem:
            log.warning("%s", problem)
            problems.append(problem)
        else:
            log.info("notified %s: %s", label(target), event.kind)
    return problems


def _payload(event: Event) -> dict[str, object]:
    """The event's fields, plus `text`: one sentence for a person, which chat webhooks (Slack,
    Mattermost, Rocket.Chat, Google Chat) post as the message."""
    return {
        "text": _sentence(event),
        "event": event.kind,
        "issue": event.issue,
        "title": event.title,
        "episode_url": event.episode_url,
        "error": event.error,
        "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def _sentence(event: Event) -> str:
    issue = f"issue #{event.issue}" if event.issue is not None else "the newsletter's feed"
    what = event.title or issue
    if event.kind == "published":
        return f"Published {what}: {event.episode_url}"
    if event.kind == "review":
        return f"Built {what}; it waits for your review (make publish ISSUE={event.issue}): {event.episode_url}"
    return f"The audio edition job failed on {issue}: {event.error}"


def _shown(target: str) -> str:
    """A webhook as logs may show it: scheme and host only, since its path or query often holds its secret token."""
    parts = urlsplit(target)
    if not parts.hostname:
        return f"{parts.scheme}:…" if parts.scheme else target
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    rest = "/…" if parts.path.strip("/") or parts.query else "/"
    return f"{parts.scheme}://{parts.hostname}{port}{rest}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirected POST would arrive as a GET without its body, or somewhere unexpected: report the 3xx instead."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _post(url: str, payload: dict[str, object], settings: Notify) -> str:
    shown = _shown(url)
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return f"could not notify {shown}: notify.webhook must be an http or https URL"
    if parts.username is not None:
        return f"could not notify {shown}: a user or password in notify.webhook is not supported (put a token in its path)"
    if settings.timeout <= 0:
        return f"could not notify {shown}: notify.timeout must be more than 0"
    body = json.dumps(payload).encode("utf-8")
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    opener = urllib.request.build_opener(_NoRedirect)
    for attempt in (1, 2):
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with opener.open(request, timeout=settings.timeout) as response:
                status = response.status
            break
        except urllib.error.HTTPError as exc:
            unfollowed = " (redirects are not followed)" if 300 <= exc.code < 400 else ""
            return f"could not notify {shown}: HTTP {exc.code} {exc.reason}".rstrip() + unfollowed
        except urllib.error.URLError as exc:
            # URLError is raised while connecting and sending: nothing reached the receiver, so one retry is safe.
            if isinstance(exc.reason, ConnectionError) and attempt == 1:
                log.info("notify %s: %s; trying once more in %g s", shown, _reason(exc.reason), RETRY_DELAY)
                time.sleep(RETRY_DELAY)
                continue
            if isinstance(exc.reason, TimeoutError):
                return f"could not notify {shown}: no answer within {settings.timeout:g} s (notify.timeout)"
            return f"could not notify {shown}: {_reason(exc.reason)}"
        except TimeoutError:
            return f"could not notify {shown}: no answer within {settings.timeout:g} s (notify.timeout)"
        except (OSError, http.client.HTTPException) as exc:
            return f"could not notify {shown}: {_reason(exc)}"
    if not 200 <= status < 300:
        return f"could not notify {shown}: HTTP {status}"
    return ""


def _reason(exc: object) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _run(command: str, payload: dict[str, object], settings: Notify) -> str:
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        return f"could not notify with `{command}`: notify.command cannot be split into words ({exc})"
    if not argv:
        return ""
    if settings.command_timeout <= 0:
        return f"could not notify with `{command}`: notify.command_timeout must be more than 0"
    env = dict(os.environ)
    env.update({
        "AUDIO_EDITION_EVENT": str(payload["event"]),
        "AUDIO_EDITION_ISSUE": "" if payload["issue"] is None else str(payload["issue"]),
        "AUDIO_EDITION_TITLE": str(payload["title"]),
        "AUDIO_EDITION_URL": str(payload["episode_url"]),
        "AUDIO_EDITION_ERROR": str(payload["error"]),
    })
    env = {name: value.replace("\0", "") for name, value in env.items()}
    try:
        # A session of its own, so that a timeout stops whatever the command started, not just the command.
        process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                   env=env, start_new_session=True)
    except FileNotFoundError:
        return f"could not notify with `{command}`: {argv[0]} not found"
    except OSError as exc:
        return f"could not notify with `{command}`: cannot run {argv[0]} ({exc.strerror or exc})"
    try:
        _, stderr = process.communicate(json.dumps(payload).encode("utf-8"), timeout=settings.command_timeout)
    except subprocess.TimeoutExpired:
        _stop(process)
        return (f"could not notify with `{command}`: still running after {settings.command_timeout:g} s "
                "(notify.command_timeout), stopped")
    if process.returncode != 0:
        said = stderr.decode("utf-8", "replace").strip().splitlines()
        last = f": {said[-1].strip()}" if said else ""
        how = (f"killed by signal {-process.returncode}" if process.returncode < 0
               else f"exit status {process.returncode}")
        return f"could not notify with `{command}`: {how}{last}"
    return ""


def _stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.communicate()

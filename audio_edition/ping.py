"""Telling podcast apps at once that the feed changed: a WebSub hub and the Podcast Index, pinged after a release.

Apps that watch the hub (or read the Podcast Index, which tells them through Podping) fetch the feed
within minutes instead of at their next poll, hours later. A ping is a courtesy: it goes out after the
feed is in place on the host, each one is bounded by its own timeout, and one that fails is a warning in
the log, never a failed release. Each service is told once per version of the feed: pings.json (beside
the job's state) keeps the digest of the feed each service last accepted, so a release that leaves the
feed as it was pings no one, and one that failed is retried by the next release.

The requests are notify.py's (bounded, redirects not followed, one retry on a refused connection), and
logs name a service by its host only, like a webhook.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from . import files, notify
from . import state as job_state
from .settings import Settings
from .state import PingRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Service:
    """One service to tell: its key in pings.json, how logs name it, where and how long it may take."""

    key: str
    label: str
    url: str
    timeout: float
    setting: str
    """The setting that names it, for messages: 'ping.websub_hub'."""
    timeout_setting: str


def services(settings: Settings) -> list[Service]:
    """The services the settings name (an empty URL is none)."""
    p = settings.ping
    found = [Service("websub", "the WebSub hub", p.websub_hub.strip(), p.websub_timeout, "ping.websub_hub",
                     "ping.websub_timeout"),
             Service("podcast_index", "the Podcast Index", p.podcast_index.strip(), p.podcast_index_timeout,
                     "ping.podcast_index", "ping.podcast_index_timeout")]
    return [service for service in found if service.url]


def announce(settings: Settings, feed: Path) -> list[str]:
    """Ping every service not yet told about this version of `feed`; never raises. The problems (also logged
    as warnings), empty when all were told or none needed telling."""
    feed_url = settings.podcast.feed_url
    wanted = services(settings)
    if not wanted:
        return []
    if not on_the_web(feed_url):
        log.info("not pinging anyone: the feed's address %s is not on the public web (podcast.base_url)", feed_url)
        return []
    try:
        digest = files.digest(feed)
    except OSError as exc:
        log.warning("not pinging anyone: cannot read %s (%s)", feed, exc.strerror or exc)
        return [f"cannot read {feed}"]
    folder = job_state.folder(settings)
    pings = job_state.load_pings(folder)
    problems = []
    for service in wanted:
        before = pings.get(service.key)
        if before and before.feed == digest:
            continue
        problem = _ping(service, feed_url)
        pings[service.key] = _recorded(service, before, digest, problem)
        problems += [problem] if problem else []
    job_state.save_pings(folder, pings)
    return problems


def _ping(service: Service, feed_url: str) -> str:
    """Tell one service; the problem, logged as a warning, or empty."""
    name = notify.named(service.url, service.label)
    problem = notify.refused_url(service.url, service.setting)
    if problem:
        problem = f"could not ping {name}: {problem}"
    elif service.timeout <= 0:
        problem = f"could not ping {name}: {service.timeout_setting} must be more than 0"
    else:
        try:
            problem = _send(service, feed_url, name)
        except Exception as exc:  # a ping must never sink a release; only the exception's kind, never its text
            problem = f"could not ping {name}: {type(exc).__name__}"
    if problem:
        log.warning("%s", problem)
    else:
        log.info("pinged %s: %s changed", name, feed_url)
    return problem


def _send(service: Service, feed_url: str, name: str) -> str:
    timeout = service.timeout_setting
    if service.key == "websub":  # WebSub's publish notice, as hubs (Google's, Superfeedr ...) take it
        body = urlencode({"hub.mode": "publish", "hub.url": feed_url}).encode("ascii")
        return notify.request(service.url, body, "application/x-www-form-urlencoded", service.timeout, name, timeout,
                              "ping")
    return notify.request(with_query(service.url, url=feed_url), None, "", service.timeout, name, timeout, "ping")


def with_query(address: str, **params: str) -> str:
    """`address` with `params` added to its query (the Podcast Index: ...pubnotify?url=<feed URL>)."""
    parts = urlsplit(address)
    query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), *params.items()])
    return urlunsplit(parts._replace(query=query))


def _recorded(service: Service, before: PingRecord | None, digest: str, problem: str) -> PingRecord:
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    label = notify.named(service.url, service.label)
    if problem:
        reason = problem.removeprefix(f"could not ping {label}: ")
        return PingRecord(label, before.feed if before else "", before.succeeded if before else "", now, reason)
    return PingRecord(label, digest, now, now, "")


def on_the_web(url: str) -> bool:
    """Whether the public could fetch `url`: not localhost, a .local name, or a loopback, private or
    link-local address. A feed only this machine can read is announced to no one."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    if not host or host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return False
    try:
        return ipaddress.ip_address(host).is_global
    except ValueError:
        return "." in host

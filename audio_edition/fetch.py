"""Polite, bounded HTTP for the newsletter feed: an unattended job must never hang, flood, or follow anything anywhere.

One GET at a time, conditional (an unchanged feed costs one 304), with a connect timeout and a deadline
for the whole answer, a size cap, a few redirects between http and https only, and a few retries
with backoff when the failure is likely to pass (timeouts, refused connections, 5xx); then one
clear FeedError line.
"""

from __future__ import annotations

import http.client
import logging
import socket
import ssl
import threading
import time
import zlib
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from . import __version__
from .errors import FeedError, SettingsError
from .settings import Fetch

log = logging.getLogger(__name__)

USER_AGENT = f"audio-edition/{__version__} (podcast of the Alignment Newsletter; +https://rohinshah.com/alignment-newsletter/)"
ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"
REDIRECTS = {301, 302, 303, 307, 308}
RETRIED = {408, 429, 500, 502, 503, 504}
CHUNK = 64 * 1024


@dataclass(frozen=True)
class Policy:
    """The bounds of one fetch; `Policy.of(settings.fetch)` reads them from the [fetch] table."""

    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    max_bytes: int = 20 * 1024 * 1024
    max_redirects: int = 5
    retries: int = 3
    backoff: float = 5.0

    @staticmethod
    def of(fetch: Fetch) -> "Policy":
        for key in ("connect_timeout", "read_timeout", "max_feed_bytes"):
            if getattr(fetch, key) <= 0:
                raise SettingsError(f"fetch.{key} must be more than 0")
        for key in ("max_redirects", "retries", "backoff"):
            if getattr(fetch, key) < 0:
                raise SettingsError(f"fetch.{key} must be 0 or more")
        return Policy(fetch.connect_timeout, fetch.read_timeout, fetch.max_feed_bytes,
                      fetch.max_redirects, fetch.retries, fetch.backoff)


@dataclass(frozen=True)
class Validators:
    """What the server said identifies its copy; sent back, they let it answer 304 Not Modified."""

    etag: str = ""
    last_modified: str = ""

    def headers(self) -> dict[str, str]:
        found = {"If-None-Match": self.etag, "If-Modified-Since": self.last_modified}
        return {name: value for name, value in found.items() if value}


@dataclass(frozen=True)
class Response:
    url: str
    """Where the feed was finally found, after redirects."""
    body: bytes | None
    """None when the server answered 304: the copy behind the validators sent is still current."""
    validators: Validators

    @property
    def not_modified(self) -> bool:
        return self.body is None


class _Transient(Exception):
    """A failure worth another try; str() is the reason."""


def get(url: str, policy: Policy = Policy(), validators: Validators = Validators()) -> Response:
    """GET a feed, retrying transient failures with backoff; any final failure is one FeedError line."""
    _check_scheme(url, url)
    attempts = policy.retries + 1
    for attempt in range(1, attempts + 1):
        try:
            return _follow(url, policy, validators)
        except _Transient as exc:
            if attempt == attempts:
                tries = "once" if attempts == 1 else f"{attempts} times"
                raise FeedError(f"cannot fetch feed {url}: {exc} (tried {tries})") from None
            delay = policy.backoff * 2 ** (attempt - 1)
            log.warning("feed %s: %s; trying again in %g s (attempt %d of %d)", url, exc, delay, attempt + 1, attempts)
            time.sleep(delay)
    raise AssertionError("unreachable")


def _follow(url: str, policy: Policy, validators: Validators) -> Response:
    seen = [url]
    current = url
    while True:
        status, reason, headers, body = _request(current, policy, validators)
        if status not in REDIRECTS:
            break
        location = headers.get("location", "")
        if not location:
            raise FeedError(f"feed {current} answered HTTP {status} without saying where to go")
        try:
            target = urljoin(current, location)
        except ValueError:  # an unclosed IPv6 address, say
            raise FeedError(f"feed {url} redirects to {location[:200]!r}, which is not a URL") from None
        _check_scheme(target, url)
        if target in seen:
            raise FeedError(f"feed {url} redirects in a loop ({' -> '.join(seen + [target])})")
        if len(seen) > policy.max_redirects:
            raise FeedError(f"feed {url} redirects more than {policy.max_redirects} times (fetch.max_redirects)")
        if status in (301, 308):
            log.info("feed %s has moved permanently to %s; consider updating newsletter.feed", current, target)
        seen.append(target)
        current = target
    if status == 304:
        if not validators.headers():
            raise FeedError(f"feed {current} answered 304 Not Modified to a request that was not conditional")
        return Response(current, None, validators)
    if status in RETRIED or 500 <= status < 600:
        raise _Transient(f"the server answered HTTP {status} {reason}".rstrip())
    if status != 200:
        raise FeedError(f"feed {current} answered HTTP {status} {reason}".rstrip())
    return Response(current, body, Validators(_validator(headers.get("etag", "")),
                                              _validator(headers.get("last-modified", ""))))


def _validator(value: str) -> str:
    """An ETag or Last-Modified worth sending back: printable and short (it is kept in the job's state)."""
    return value if len(value) <= 1024 and value.isprintable() else ""


def _check_scheme(url: str, asked: str) -> None:
    where = "feed URL" if url == asked else f"feed {asked} redirects to"
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # 'http://[::1' and other hosts that are not one
        raise FeedError(f"{where} {url[:200]!r}, which is not a URL") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise FeedError(f"{where} {url}: only http and https are fetched")
    if not host:
        raise FeedError(f"feed URL {url} names no host")
    if not all(char.isprintable() and not char.isspace() for char in host):
        raise FeedError(f"{where} {url[:200]!r}, whose host is not a name")


def _request(url: str, policy: Policy, validators: Validators) -> tuple[int, str, dict[str, str], bytes]:
    """One exchange; the whole answer must arrive within read_timeout, however slowly it drips."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise FeedError(f"feed URL {url} has an invalid port") from None
    if parts.scheme.lower() == "https":
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            parts.hostname, port, timeout=policy.connect_timeout, context=ssl.create_default_context())
    else:
        conn = http.client.HTTPConnection(parts.hostname, port, timeout=policy.connect_timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {"User-Agent": USER_AGENT, "Accept": ACCEPT, "Accept-Encoding": "gzip", **validators.headers()}
    deadline = _Deadline(policy.read_timeout)
    try:
        _connect(conn)
        conn.sock.settimeout(policy.read_timeout)
        deadline.arm(conn.sock)
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        found = {name.lower(): value for name, value in response.getheaders()}
        body = _body(response, found, url, policy) if response.status == 200 else b""
        if deadline.expired:
            raise _Transient(_late(policy))
        return response.status, response.reason, found, body
    except (TimeoutError, socket.timeout):
        raise _Transient(_late(policy)) from None
    except (ConnectionError, http.client.IncompleteRead, OSError) as exc:
        if deadline.expired:
            raise _Transient(_late(policy)) from None
        raise _Transient(f"the connection failed ({_reason(exc)})") from None
    except http.client.HTTPException as exc:
        if deadline.expired:
            raise _Transient(_late(policy)) from None
        raise FeedError(f"feed {url} did not answer in HTTP ({type(exc).__name__})") from None
    finally:
        deadline.disarm()
        conn.close()


def _connect(conn: http.client.HTTPConnection) -> None:
    try:
        conn.connect()
    except ssl.SSLCertVerificationError as exc:
        raise FeedError(f"feed {conn.host}: its TLS certificate is not valid ({exc.verify_message})") from None
    except ssl.SSLError as exc:
        raise FeedError(f"feed {conn.host}: TLS failed ({exc.reason or exc})") from None
    except (TimeoutError, socket.timeout):
        raise _Transient(f"could not connect to {conn.host} within {conn.timeout:g} s (fetch.connect_timeout)") from None
    except ConnectionRefusedError:
        raise _Transient(f"connection refused by {conn.host}:{conn.port}") from None
    except socket.gaierror as exc:
        raise _Transient(f"cannot resolve {conn.host} ({exc.strerror or exc})") from None


def _declared_length(headers: dict[str, str]) -> int | None:
    """Content-Length, if it is a number of at most 18 ASCII digits; anything else is no length at all (as
    http.client takes it, and never an int() of thousands of digits): the cap while reading still holds."""
    value = headers.get("content-length", "").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else None


def _body(response: http.client.HTTPResponse, headers: dict[str, str], url: str, policy: Policy) -> bytes:
    declared = _declared_length(headers)
    if declared is not None and declared > policy.max_bytes:
        raise FeedError(f"feed {url} is {declared} bytes, over the limit of {policy.max_bytes} (fetch.max_feed_bytes)")
    encoding = headers.get("content-encoding", "identity").lower()
    if encoding not in ("identity", "gzip", "x-gzip"):
        raise FeedError(f"feed {url} came with an encoding that is not asked for ({encoding})")
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS) if encoding != "identity" else None
    received, chunks, size = 0, [], 0
    while chunk := response.read(CHUNK):
        received += len(chunk)
        if received > policy.max_bytes:
            raise _too_large(url, policy)
        if inflate is not None:
            try:
                chunk = inflate.decompress(chunk, policy.max_bytes + 1 - size)
            except zlib.error:
                raise FeedError(f"feed {url} sent a damaged gzip body") from None
            if inflate.unconsumed_tail:
                raise _too_large(url, policy)
        size += len(chunk)
        if size > policy.max_bytes:
            raise _too_large(url, policy)
        chunks.append(chunk)
    if declared is not None and received < declared:
        raise _Transient(f"the connection closed after {received} of {declared} bytes")
    return b"".join(chunks)


def _late(policy: Policy) -> str:
    return f"the answer did not arrive within {policy.read_timeout:g} s (fetch.read_timeout)"


def _too_large(url: str, policy: Policy) -> FeedError:
    return FeedError(f"feed {url} is larger than {policy.max_bytes} bytes (fetch.max_feed_bytes)")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, http.client.IncompleteRead):
        return f"the answer stopped after {len(exc.partial)} bytes"
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


class _Deadline:
    """Shuts the socket when time is up, so a server that drips one byte at a time cannot hold the job."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.expired = False
        self._timer: threading.Timer | None = None

    def arm(self, sock: socket.socket) -> None:
        def expire() -> None:
            self.expired = True
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

        self._timer = threading.Timer(self.seconds, expire)
        self._timer.daemon = True
        self._timer.start()

    def disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()

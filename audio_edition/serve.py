"""`audio-edition serve`: a preview of public/ that podcast apps and browsers accept as a real host.

Apps and the <audio> element fetch media in byte ranges and re-validate the feed, so a plain file
server is not enough: this one adds ranges (206/416), validators (ETag, Last-Modified, 304), the
podcast content types, and refuses anything outside public/.

Whoever can reach the port can send anything, so nothing a client sends can crash a handler, write
raw control characters to the log, hold a thread for ever (an idle connection is closed, a request
head must arrive whole within a deadline, and only so many connections are served at once), or be
sent elsewhere by a redirect (a Location is always a path on this server).
"""

from __future__ import annotations

import email.utils
import errno
import io
import logging
import math
import os
import socket
import threading
import time
from dataclasses import dataclass
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote, unquote, urlsplit

from . import hosting
from .errors import EditionError
from .settings import Settings

log = logging.getLogger(__name__)


class ServeError(EditionError):
    pass


class Unsatisfiable(Exception):
    """A well-formed byte range that the file cannot satisfy (answered with 416)."""


@dataclass(frozen=True)
class Limits:
    """What one client may hold of the server: whoever can reach the port can open connections and stall."""

    idle: float = 10.0
    """Seconds a connection may wait on the client (for its next request, or between two reads or writes)."""
    head: float = 30.0
    """Seconds a client has to send a request line and its headers, however slowly it trickles them."""
    connections: int = 32
    """Connections served at once, one thread each; one more is answered 503 and closed."""


@dataclass
class Body:
    """The part of a file to send: all of it, or one byte range."""

    handle: BinaryIO
    start: int
    length: int

    def close(self) -> None:
        self.handle.close()


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) byte, inclusive, for a Range header; None to send the whole file.

    Other units, garbage and multiple ranges are ignored (the whole file, as RFC 9110 allows);
    a well-formed single range that is reversed or starts past the end raises Unsatisfiable.
    Read without a regular expression, in one pass, and numbers of any length are compared, not parsed.
    """
    unit, equals, spec = (header or "").partition("=")
    first, dash, last = spec.partition("-")
    first, last = first.strip(), last.strip()
    if unit.strip().lower() != "bytes" or not equals or not dash or not (first or last):
        return None
    if not all(part == "" or (part.isascii() and part.isdigit()) for part in (first, last)):
        return None
    if not first:
        suffix = _offset(last, size)
        if suffix == 0 or size == 0:
            raise Unsatisfiable
        return max(0, size - suffix), size - 1
    start = _offset(first, size)
    end = _offset(last, size) if last else size - 1
    if end < start or start >= size:
        raise Unsatisfiable
    return start, min(end, size - 1)


def _offset(digits: str, size: int) -> int:
    """A byte position as written; any number past the file's end is size + 1 (Python refuses to
    convert numbers of over 4300 digits, and a Range header may hold thousands)."""
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= len(str(size)) else size + 1


class PublicHandler(SimpleHTTPRequestHandler):
    """SimpleHTTPRequestHandler for public/ only, with byte ranges, validators and podcast content types."""

    server_version = "audio-edition"
    protocol_version = "HTTP/1.1"
    server: PreviewServer

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.limits.idle)
        self.rfile.close()  # the socket's own reader, replaced by one that keeps the request's deadline
        self.reader = _Deadline(self.connection, self.server.limits.idle)
        self.rfile = io.BufferedReader(self.reader)

    def handle(self) -> None:
        try:
            super().handle()
        except (ConnectionError, TimeoutError) as exc:
            log.debug("%s: the connection ended (%s)", self.address_string(), type(exc).__name__)

    def handle_one_request(self) -> None:
        self.reader.deadline = time.monotonic() + self.server.limits.head
        super().handle_one_request()

    def parse_request(self) -> bool:
        parsed = super().parse_request()
        self.reader.deadline = math.inf  # the head is in: from here on, only the idle timeout
        self.connection.settimeout(self.server.limits.idle)
        return parsed

    def do_GET(self) -> None:
        body = self.send_head()
        if body is None:
            return
        try:
            body.handle.seek(body.start)
            _copy(body.handle, self.wfile, body.length)
        except (ConnectionError, TimeoutError):
            log.debug("the client went away during %s", _printable(self.path))
            self.close_connection = True
        finally:
            body.close()

    def send_head(self) -> Body | None:  # type: ignore[override]
        target = self._target()
        if target is None:
            return None
        stat = target.stat()
        etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
        modified = email.utils.formatdate(stat.st_mtime, usegmt=True)
        if self._not_modified(etag, stat.st_mtime):
            self._start(HTTPStatus.NOT_MODIFIED, target, etag, modified)
            self.end_headers()
            return None
        size = stat.st_size
        try:
            wanted = byte_range(self._range_if_current(etag, modified), size)
        except Unsatisfiable:
            self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        handle = target.open("rb")
        if wanted is None:
            self._start(HTTPStatus.OK, target, etag, modified)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            return Body(handle, 0, size)
        start, end = wanted
        self._start(HTTPStatus.PARTIAL_CONTENT, target, etag, modified)
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        return Body(handle, start, end - start + 1)

    def _target(self) -> Path | None:
        """The file under public/ the request names, or None once an error or redirect is sent."""
        try:
            path = unquote(_request_path(self.path), errors="strict")
        except UnicodeDecodeError:
            self.send_error(HTTPStatus.BAD_REQUEST, "the path is not UTF-8")
            return None
        parts = path.split("/")
        if any(p == ".." or "\\" in p or "\x00" in p for p in parts):
            self.send_error(HTTPStatus.FORBIDDEN, "outside the published site")
            return None
        if any(p.startswith(".") for p in parts):
            self.send_error(HTTPStatus.NOT_FOUND)
            return None
        root = Path(self.directory).resolve()
        target, kind = _lookup(root, path)
        if kind == "outside":
            self.send_error(HTTPStatus.FORBIDDEN, "outside the published site")
            return None
        if kind == "folder" and not path.endswith("/"):
            self._redirect(parts)
            return None
        if kind == "folder" and (target / "index.html").is_file():
            return target / "index.html"
        if kind != "file":
            self.send_error(HTTPStatus.NOT_FOUND)
            return None
        return target

    def _redirect(self, parts: list[str]) -> None:
        """To the folder's own path with a slash: '/a/b/', always one leading slash, so that no request
        ('/%2Fepisodes') can make it '//host/...', which a browser would take to another server."""
        location = "/" + "".join(quote(part) + "/" for part in parts if part)
        self.send_response(HTTPStatus.MOVED_PERMANENTLY)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _not_modified(self, etag: str, mtime: float) -> bool:
        match = self.headers.get("If-None-Match")
        if match is not None:
            tags = [t.strip().removeprefix("W/") for t in match.split(",")]
            return "*" in tags or etag in tags
        since = self.headers.get("If-Modified-Since")
        if since:
            try:
                when = email.utils.parsedate_to_datetime(since).timestamp()
            except (TypeError, ValueError, IndexError, OverflowError):
                return False
            return int(mtime) <= when
        return False

    def _range_if_current(self, etag: str, modified: str) -> str | None:
        """The Range header, unless an If-Range names another version of the file."""
        if_range = self.headers.get("If-Range")
        if if_range is not None and if_range.strip() not in (etag, modified):
            return None
        return self.headers.get("Range")

    def _start(self, status: HTTPStatus, target: Path, etag: str, modified: str) -> None:
        relative = target.relative_to(Path(self.directory).resolve()).as_posix()
        self.send_response(status)
        self.send_header("Content-Type", hosting.content_type(relative))
        self.send_header("Cache-Control", hosting.cache_control(relative))
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", modified)
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("X-Content-Type-Options", "nosniff")

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the base class's name)
        # The request line is the client's: a terminal must never receive its control characters.
        log.info("%s %s", self.address_string(), _printable(format % args))


class PreviewServer(ThreadingHTTPServer):
    """ThreadingHTTPServer whose worker threads never keep the process alive, bounded in number and time."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler, limits: Limits = Limits()) -> None:
        super().__init__(address, handler)
        self.limits = limits
        self.slots = threading.BoundedSemaphore(limits.connections)

    def process_request(self, request, client_address) -> None:
        if not self.slots.acquire(blocking=False):
            log.info("%s: %d connections are open already; answered 503", client_address[0], self.limits.connections)
            _turn_away(request)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except RuntimeError:  # no thread could be started
            self.slots.release()
            self.shutdown_request(request)

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def handle_error(self, request, client_address) -> None:
        """One line, not the traceback socketserver prints: what a client sends must not flood the terminal."""
        log.warning("%s: the request failed", client_address[0], exc_info=log.isEnabledFor(logging.DEBUG))


class _Deadline(io.RawIOBase):
    """The connection's socket for reading, where every read waits at most until `deadline` (a request
    line and headers trickled a byte at a time still end there) and at most the idle timeout."""

    def __init__(self, connection: socket.socket, idle: float) -> None:
        self.connection = connection
        self.idle = idle
        self.deadline = math.inf

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the request's head took too long")
        self.connection.settimeout(min(self.idle, left))
        return self.connection.recv_into(buffer)


def _turn_away(request: socket.socket) -> None:
    try:
        request.settimeout(1.0)
        request.sendall(b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\n"
                        b"Connection: close\r\n\r\n")
    except OSError:
        pass


def _lookup(root: Path, path: str) -> tuple[Path, str]:
    """Where `path` leads under root, and what is there: 'file', 'folder', 'outside' or 'nothing'."""
    try:
        target = (root / path.lstrip("/")).resolve()
        if not target.is_relative_to(root):
            return target, "outside"
        return target, "folder" if target.is_dir() else "file" if target.is_file() else "nothing"
    except OSError:  # a name too long for the file system, and the like: nothing is there
        return root, "nothing"


def _request_path(target: str) -> str:
    """The path of a request target: '/a//b?q' gives '/a//b' (a path that starts with '//' is still a
    path, not a host as urlsplit would read it); 'http://host/a' (absolute form) gives '/a'."""
    if target.startswith("/"):
        return target.partition("?")[0].partition("#")[0]
    return urlsplit(target).path


def _printable(text: str) -> str:
    """Text from a client as one log line: every control or invisible character written as an escape."""
    return "".join(char if char.isprintable() else ascii(char)[1:-1] for char in text)


def make_server(settings: Settings, port: int = 8000, host: str = "127.0.0.1", limits: Limits = Limits()) -> PreviewServer:
    """A server for public/ bound to host:port (port 0: any free port); not yet serving."""
    public = settings.paths.public
    if not (public / "index.html").is_file():
        raise ServeError(f"nothing to serve: {public}/index.html does not exist (run `audio-edition publish`)")
    try:
        return PreviewServer((host, port), partial(PublicHandler, directory=os.fspath(public)), limits)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ServeError(f"port {port} on {host} is in use; choose another with --port") from None
        raise ServeError(f"cannot listen on {host}:{port} ({exc.strerror})") from None


def serve(settings: Settings, port: int = 8000, host: str = "127.0.0.1") -> None:
    """Serve public/ until interrupted."""
    server = make_server(settings, port, host)
    bound_host, bound_port = server.server_address[:2]
    url = f"http://{bound_host}:{bound_port}/"
    log.info("serving %s at %s (Ctrl-C to stop)", settings.paths.public, url)
    if urlsplit(settings.podcast.base_url).port != bound_port:
        log.warning("the feed's URLs start with %s (podcast.base_url), not %s", settings.podcast.base_url, url)
    try:
        server.serve_forever()
    finally:
        server.server_close()


def _copy(source: BinaryIO, target, length: int) -> None:
    remaining = length
    while remaining > 0:
        block = source.read(min(remaining, 1 << 16))
        if not block:
            break
        target.write(block)
        remaining -= len(block)


"""`audio-edition serve`: a preview of public/ that podcast apps and browsers accept as a real host.

Apps and the <audio> element fetch media in byte ranges and re-validate the feed, so a plain file
server is not enough: this one adds ranges (206/416), validators (ETag, Last-Modified, 304), the
podcast content types, and refuses anything outside public/.
"""

from __future__ import annotations

import email.utils
import errno
import logging
import os
import re
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

_RANGE = re.compile(r"^bytes=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


class ServeError(EditionError):
    pass


class Unsatisfiable(Exception):
    """A well-formed byte range that the file cannot satisfy (answered with 416)."""


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
    """
    match = _RANGE.match(header or "")
    if not match or not (match[1] or match[2]):
        return None
    first, last = match[1], match[2]
    if not first:
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise Unsatisfiable
        return max(0, size - suffix), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if end < start or start >= size:
        raise Unsatisfiable
    return start, min(end, size - 1)


class PublicHandler(SimpleHTTPRequestHandler):
    """SimpleHTTPRequestHandler for public/ only, with byte ranges, validators and podcast content types."""

    server_version = "audio-edition"
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        body = self.send_head()
        if body is None:
            return
        try:
            body.handle.seek(body.start)
            _copy(body.handle, self.wfile, body.length)
        except (BrokenPipeError, ConnectionResetError):
            log.debug("the client went away during %s", self.path)
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
            path = unquote(urlsplit(self.path).path, errors="strict")
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
        target = (root / path.lstrip("/")).resolve()
        if not target.is_relative_to(root):
            self.send_error(HTTPStatus.FORBIDDEN, "outside the published site")
            return None
        if target.is_dir():
            if not path.endswith("/"):
                self.send_response(HTTPStatus.MOVED_PERMANENTLY)
                self.send_header("Location", quote(path) + "/")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            target = target / "index.html"
        if not target.is_file():
            self.send_error(HTTPStatus.NOT_FOUND)
            return None
        return target

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
        log.info("%s %s", self.address_string(), format % args)


class PreviewServer(ThreadingHTTPServer):
    """ThreadingHTTPServer whose worker threads never keep the process alive."""

    daemon_threads = True


def make_server(settings: Settings, port: int = 8000, host: str = "127.0.0.1") -> PreviewServer:
    """A server for public/ bound to host:port (port 0: any free port); not yet serving."""
    public = settings.paths.public
    if not (public / "index.html").is_file():
        raise ServeError(f"nothing to serve: {public}/index.html does not exist (run `audio-edition publish`)")
    try:
        return PreviewServer((host, port), partial(PublicHandler, directory=os.fspath(public)))
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


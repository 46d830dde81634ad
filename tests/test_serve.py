"""`audio-edition serve`: what podcast apps and browsers ask of a host, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import contextlib
import http.client
import logging
import re
import socket
import threading
import time

import pytest

from audio_edition import cli
from audio_edition.serve import Limits, Unsatisfiable, byte_range, make_server

MP3 = "/episodes/an-007/an-007.mp3"


@contextlib.contextmanager
def served(settings):
    server = make_server(settings, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def port(published_site):
    with served(published_site) as port:
        yield port


def request(port: int, path: str, method: str = "GET", **headers) -> tuple[http.client.HTTPResponse, bytes]:
    """One request with the path sent exactly as given (no client-side normalization of '..')."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, headers={k.replace("_", "-"): v for k, v in headers.items()})
        response = connection.getresponse()
        return response, response.read()
    finally:
        connection.close()


def test_files_are_served_with_the_content_types_podcast_apps_expect(port, published_site):
    public = published_site.paths.public
    expected = {
        "/feed.xml": "application/rss+xml",
        MP3: "audio/mpeg",
        "/episodes/an-007/transcript.vtt": "text/vtt; charset=utf-8",
        "/episodes/an-007/chapters.json": "application/json+chapters",
        "/episodes/an-007/transcript.json": "application/json",
        "/episodes/an-007/transcript.srt": "application/x-subrip; charset=utf-8",
        "/episodes/an-007/an-007.opus": "audio/ogg",
        "/episodes/an-007.html": "text/html; charset=utf-8",
        "/cover.jpg": "image/jpeg",
    }
    for path, content_type in expected.items():
        response, body = request(port, path)
        assert response.status == 200, path
        assert response.getheader("Content-Type") == content_type, path
        assert body == (public / path.lstrip("/")).read_bytes(), path
    assert request(port, "/feed.xml")[0].getheader("Cache-Control") == "public, max-age=300"
    assert request(port, MP3, "HEAD")[0].getheader("Cache-Control") == "public, max-age=604800"


def test_the_root_is_the_index_page(port, published_site):
    response, body = request(port, "/")
    assert response.status == 200 and response.getheader("Content-Type").startswith("text/html")
    assert body == (published_site.paths.public / "index.html").read_bytes()


def test_head_gives_the_headers_without_the_body(port, published_site):
    size = (published_site.paths.public / MP3.lstrip("/")).stat().st_size
    response, body = request(port, MP3, "HEAD")
    assert response.status == 200 and body == b""
    assert response.getheader("Content-Length") == str(size)
    assert response.getheader("Accept-Ranges") == "bytes"
    assert response.getheader("ETag") and response.getheader("Last-Modified")


def test_byte_ranges_are_answered_with_206_and_the_exact_bytes(port, published_site):
    data = (published_site.paths.public / MP3.lstrip("/")).read_bytes()
    size = len(data)
    cases = {
        "bytes=0-99": (0, 99),
        "bytes=1000-": (1000, size - 1),
        "bytes=-500": (size - 500, size - 1),
        f"bytes={size - 10}-{size + 1000}": (size - 10, size - 1),
        "bytes=0-0": (0, 0),
    }
    for header, (first, last) in cases.items():
        response, body = request(port, MP3, Range=header)
        assert response.status == 206, header
        assert response.getheader("Content-Range") == f"bytes {first}-{last}/{size}", header
        assert response.getheader("Content-Length") == str(last - first + 1), header
        assert body == data[first:last + 1], header


def test_ranges_that_cannot_be_satisfied_get_416(port, published_site):
    size = (published_site.paths.public / MP3.lstrip("/")).stat().st_size
    for header in (f"bytes={size}-", f"bytes={size + 5}-{size + 10}", "bytes=500-100", "bytes=-0"):
        response, body = request(port, MP3, Range=header)
        assert response.status == 416, header
        assert response.getheader("Content-Range") == f"bytes */{size}", header


def test_ranges_it_does_not_understand_get_the_whole_file(port, published_site):
    size = (published_site.paths.public / MP3.lstrip("/")).stat().st_size
    for header in ("bytes=abc", "items=0-10", "bytes=0-1,5-9", "bytes=-"):
        response, body = request(port, MP3, Range=header)
        assert response.status == 200 and len(body) == size, header


def test_validators_give_304_and_if_range_guards_against_a_changed_file(port):
    first, _ = request(port, "/feed.xml")
    etag, modified = first.getheader("ETag"), first.getheader("Last-Modified")
    for headers in ({"If-None-Match": etag}, {"If-None-Match": f'"other", {etag}'}, {"If-Modified-Since": modified}):
        response, body = request(port, "/feed.xml", **headers)
        assert response.status == 304 and body == b"", headers
        assert response.getheader("ETag") == etag
    assert request(port, "/feed.xml", If_None_Match='"other"')[0].status == 200
    assert request(port, "/feed.xml", Range="bytes=0-9", If_Range=etag)[0].status == 206
    assert request(port, "/feed.xml", Range="bytes=0-9", If_Range='"stale"')[0].status == 200


def test_nothing_outside_public_is_served(port, published_site, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("the secret outside public/")
    (published_site.paths.public / "escape").symlink_to(tmp_path)
    (published_site.paths.public / ".feed.xml.tmp").write_text("half a feed")
    attempts = [
        "/../secret.txt", "/episodes/../../secret.txt", "/%2e%2e/secret.txt", "/episodes/..%2f..%2fsecret.txt",
        "/..%5csecret.txt", "/escape/secret.txt", "//etc/passwd", "/%00", "/.feed.xml.tmp",
    ]
    for path in attempts:
        response, body = request(port, path)
        assert response.status in (400, 403, 404), path
        assert b"secret outside" not in body and b"half a feed" not in body and b"root:" not in body, path
    assert request(port, "/../secret.txt")[0].status == 403
    assert request(port, "/episodes")[0].status == 301
    assert request(port, "/episodes/")[0].status == 404  # no directory listings


def test_byte_range_parsing():
    assert byte_range(None, 100) is None
    assert byte_range("bytes=10-19", 100) == (10, 19)
    assert byte_range("bytes=90-", 100) == (90, 99)
    assert byte_range("bytes=-200", 100) == (0, 99)
    for bad in ("bytes=100-", "bytes=5-4", "bytes=-0"):
        with pytest.raises(Unsatisfiable):
            byte_range(bad, 100)
    with pytest.raises(Unsatisfiable):
        byte_range("bytes=0-", 0)


def test_serve_on_a_busy_port_is_one_error_line(published_site, tmp_path, caplog):
    settings_file = tmp_path / "edition.toml"
    settings_file.write_text(f'[paths]\npublic = "{published_site.paths.public}"\n')
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        code = cli.main(["--settings", str(settings_file), "serve", "--port", str(busy.getsockname()[1])])
    assert code == 1
    assert any(r.getMessage().startswith("error: port ") and "--port" in r.getMessage() for r in caplog.records)


def test_serve_before_anything_is_published_says_so(tmp_path, caplog):
    settings_file = tmp_path / "edition.toml"
    settings_file.write_text(f'[paths]\npublic = "{tmp_path / "public"}"\n')
    assert cli.main(["--settings", str(settings_file), "serve", "--port", "0"]) == 1
    assert any("run `audio-edition publish`" in r.getMessage() for r in caplog.records)


# --- hostile clients: whoever reaches the port can send anything -------------------------------------


def raw(port: int, data: bytes, wait: float = 10.0) -> bytes:
    """Send bytes exactly as given and read until the server closes the connection (or `wait` passes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        sock.sendall(data)
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except (ConnectionResetError, TimeoutError):
            pass
        return answer


def status(answer: bytes) -> int:
    """The status of a raw answer; a request line too broken to name a version gets an HTTP/0.9 answer,
    the error page alone."""
    if not answer.startswith(b"HTTP/1."):
        return int(re.search(rb"Error code: (\d+)", answer)[1])
    return int(answer.split(b" ", 2)[1])


def test_a_range_of_any_length_is_answered_never_dropped(port, published_site):
    size = (published_site.paths.public / MP3.lstrip("/")).stat().st_size
    huge = "9" * 5000
    cases = {
        f"bytes={huge}-": 416, f"bytes={huge}-{huge}": 416, f"bytes=0-{huge}": 206, f"bytes=-{huge}": 206,
        f"bytes={'0' * 5000}5-9": 206, f"bytes=10-{'0' * 5000}": 416, "bytes=" + " " * 60000 + "x": 200,
        "bytes=\u00b2-\u00b3": 200, "bytes=1-2-3": 200,
    }
    for header, expected in cases.items():
        response, body = request(port, MP3, Range=header)
        assert response.status == expected, (header[:40], response.status)
        if expected == 206:
            assert response.getheader("Content-Range").endswith(f"/{size}")
    assert byte_range(f"bytes={'0' * 5000}5-9", 100) == (5, 9)
    assert byte_range(f"bytes=-{huge}", 100) == (0, 99)


def test_control_characters_from_the_request_are_escaped_in_the_log(port, caplog):
    caplog.set_level(logging.DEBUG, logger="audio_edition.serve")
    answer = raw(port, b"GET /\x1b[31mred\x1b]0;pwned\x07\x9b2J HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert status(answer) == 404
    answer = raw(port, b"\x1b[2J\x00GARBAGE\r\n\r\n")
    assert status(answer) == 400
    lines = [r.getMessage() for r in caplog.records if r.name == "audio_edition.serve"]
    assert any("\\x1b[31mred\\x1b]0;pwned\\x07\\x9b2J" in line for line in lines), lines
    assert not any(c in line for line in lines for c in "\x1b\x07\x00\x9b")


def test_an_idle_or_trickling_connection_is_closed_and_connections_are_bounded(published_site):
    server = make_server(published_site, port=0, limits=Limits(idle=0.5, head=1.5, connections=2))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        started = time.monotonic()
        assert raw(port, b"") == b"", "an idle connection is closed without an answer"
        assert raw(port, b"GET / HTTP/1.1\r\nHost: x\r\n") == b"", "so is one that never finishes its headers"
        assert time.monotonic() - started < 8
        with socket.create_connection(("127.0.0.1", port), timeout=10) as slow:
            trickled = 0
            with pytest.raises(OSError):  # the server closes it, however steadily the bytes come
                for byte in b"GET / HTTP/1.1\r\n" + b"X-Slow: " + b"y" * 100:
                    slow.sendall(bytes([byte]))
                    trickled += 1
                    time.sleep(0.1)
            assert trickled < 40, "closed by the 1.5-second deadline for a head, not at the end"
        held = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(2)]
        time.sleep(0.1)
        assert status(raw(port, b"GET / HTTP/1.1\r\n\r\n")) == 503, "a third connection is turned away"
        for sock in held:
            sock.close()
        time.sleep(0.7)
        response, _ = request(port, "/feed.xml")
        assert response.status == 200, "slots come back when connections end"
    finally:
        server.shutdown()
        server.server_close()


def test_a_redirect_never_leaves_the_server(port):
    for path, where in {"/%2Fepisodes": "/episodes/", "/episodes": "/episodes/", "//episodes": "/episodes/",
                        "/%2F%2Fepisodes": "/episodes/", "/episodes%2F%2F%2Fan-007": "/episodes/an-007/"}.items():
        response, _ = request(port, path)
        assert response.status == 301 and response.getheader("Location") == where, (path, response.status)
    for path in ("//evil.example/", "/%2F%2Fevil.example", "/%5C%5Cevil.example", "/%2F%5Cevil.example",
                 "/%09/evil.example", "/%0d%0aLocation:%20//evil.example"):
        response, _ = request(port, path)
        location = response.getheader("Location")
        assert location is None or (location.startswith("/") and location[1:2] not in ("/", "\\")), (path, location)
        assert response.status in (301, 403, 404), (path, response.status)


def test_dot_dot_in_every_encoding_and_absurd_paths_are_refused_not_crashes(port, capfd):
    attempts = [
        "/%2e%2e/%2e%2e/etc/passwd", "/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", "/.%2e/.%2e/etc/passwd", "/%252e%252e/etc/passwd",
        "/..%c0%af..%c0%afetc/passwd", "/%c0%ae%c0%ae/etc/passwd", "/%ef%bc%8e%ef%bc%8e/etc/passwd", "/..;/etc/passwd",
        "/%u002e%u002e/etc/passwd", "/episodes/an-007/..%5c..%5c..%5cetc/passwd", "/%00/../etc/passwd", "/%ff",
        "/" + "a" * 300, "/" + "a/" * 3000, "/" + "%61" * 20000, "/episodes/an-007/an-007.mp3/x", "*",
        "http://evil.example/../../etc/passwd",
    ]
    for path in attempts:
        response, body = request(port, path)
        assert response.status in (400, 403, 404, 414), (path[:40], response.status)
        assert b"root:" not in body
    assert "Traceback" not in capfd.readouterr().err


def test_malformed_requests_and_other_methods_get_an_answer_and_the_server_stays_up(port, capfd):
    answers = {
        b"GARBAGE\r\n\r\n": 400, b"GET\r\n\r\n": 400, b"GET / HTTP/9.9\r\n\r\n": 505,
        b"GET / HTTP/1.1 extra\r\n\r\n": 400, b"GET / HTTP/1.x\r\n\r\n": 400, b"GET /\x00 HTTP/1.1\r\n\r\n": 403,
        b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n": 414,
        b"GET / HTTP/1.1\r\n" + b"X-A: b\r\n" * 5000 + b"\r\n": 431,
        b"GET / HTTP/1.1\r\nX-A: " + b"b" * 70000 + b"\r\n\r\n": 431,
        b"GET / HTTP/1.1\r\nbroken header line\r\n\r\n": 200,
        b"OPTIONS * HTTP/1.1\r\n\r\n": 501, b"DELETE /feed.xml HTTP/1.1\r\n\r\n": 501,
        b"PUT /feed.xml HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc": 501, b"BREW /pot HTTP/1.1\r\n\r\n": 501,
        b"TRACE / HTTP/1.1\r\n\r\n": 501, b"HEAD /feed.xml HTTP/1.1\r\nConnection: close\r\n\r\n": 200,
    }
    for data, expected in answers.items():
        assert status(raw(port, data + b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n")) == expected, data[:40]
    assert request(port, "/feed.xml")[0].status == 200
    assert "Traceback" not in capfd.readouterr().err

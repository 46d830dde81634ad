"""`audio-edition serve`: what podcast apps and browsers ask of a host, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading

import pytest

from audio_edition import cli
from audio_edition.serve import Unsatisfiable, byte_range, make_server

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

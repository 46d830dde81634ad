"""Fetching the feed against real servers on 127.0.0.1: polite (conditional, named), bounded, retried, one-line failures."""

import gzip
import re
import socket
import threading

import pytest
from werkzeug import Response

from audio_edition import feed, fetch
from audio_edition.errors import FeedError, SettingsError
from audio_edition.settings import Fetch

from conftest import SMALL_FEED

FAST = fetch.Policy(connect_timeout=2.0, read_timeout=0.5, max_bytes=1_000_000, max_redirects=3, retries=2, backoff=0.01)


class RawServer:
    """A TCP server on 127.0.0.1 whose every connection runs `talk(conn, number)`: for slow, dripping or cut answers."""

    def __init__(self, talk):
        self.talk = talk
        self.connections = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/feed.xml"
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._talk, args=(conn, self.connections), daemon=True).start()

    def _talk(self, conn, number):
        with conn:
            conn.recv(65536)
            try:
                self.talk(conn, number, self.stop)
            except OSError:
                pass

    def close(self):
        self.stop.set()
        self.sock.close()


@pytest.fixture
def raw():
    servers = []

    def start(talk):
        servers.append(RawServer(talk))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def _ok(body: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)


def test_the_feed_is_fetched_with_a_user_agent_that_names_the_project(httpserver):
    httpserver.expect_request("/feed.xml").respond_with_data(SMALL_FEED.read_bytes())
    got = fetch.get(httpserver.url_for("/feed.xml"), FAST)
    assert got.body == SMALL_FEED.read_bytes()
    request, _ = httpserver.log[0]
    assert request.headers["User-Agent"].startswith("audio-edition/")


@pytest.mark.parametrize("header, value, conditional", [
    ("ETag", '"v1"', "If-None-Match"),
    ("Last-Modified", "Wed, 03 Jul 2019 16:30:00 GMT", "If-Modified-Since"),
])
def test_an_unchanged_feed_costs_one_304(httpserver, header, value, conditional):
    def answer(request):
        if request.headers.get(conditional) == value:
            return Response(status=304)
        return Response(SMALL_FEED.read_bytes(), headers={header: value}, content_type="application/rss+xml")

    httpserver.expect_request("/feed.xml").respond_with_handler(answer)
    first = fetch.get(httpserver.url_for("/feed.xml"), FAST)
    assert first.body and not first.not_modified
    second = fetch.get(httpserver.url_for("/feed.xml"), FAST, first.validators)
    assert second.not_modified and second.body is None
    assert len(httpserver.log) == 2 and httpserver.log[1][1].status_code == 304


def test_a_server_error_is_retried_and_the_feed_then_arrives(httpserver, caplog):
    httpserver.expect_ordered_request("/feed.xml").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request("/feed.xml").respond_with_data(SMALL_FEED.read_bytes())
    got = fetch.get(httpserver.url_for("/feed.xml"), FAST)
    assert got.body == SMALL_FEED.read_bytes()
    assert "HTTP 503" in caplog.text and "trying again" in caplog.text


def test_a_server_that_keeps_failing_is_tried_a_bounded_number_of_times(httpserver):
    httpserver.expect_request("/feed.xml").respond_with_data("oops", status=500)
    with pytest.raises(FeedError, match=r"HTTP 500 INTERNAL SERVER ERROR \(tried 3 times\)") as failure:
        fetch.get(httpserver.url_for("/feed.xml"), FAST)
    assert len(httpserver.log) == 3
    assert "\n" not in str(failure.value)


def test_a_missing_feed_is_not_retried(httpserver):
    httpserver.expect_request("/feed.xml").respond_with_data("gone", status=404)
    with pytest.raises(FeedError, match="answered HTTP 404"):
        fetch.get(httpserver.url_for("/feed.xml"), FAST)
    assert len(httpserver.log) == 1


def test_a_refused_connection_is_retried_then_reported():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(FeedError, match=rf"connection refused by 127.0.0.1:{port} \(tried 3 times\)"):
        fetch.get(f"http://127.0.0.1:{port}/feed.xml", FAST)


def test_a_server_that_never_answers_times_out(raw):
    server = raw(lambda conn, n, stop: stop.wait(10))
    with pytest.raises(FeedError, match=r"did not arrive within 0.5 s \(fetch.read_timeout\) \(tried 3 times\)"):
        fetch.get(server.url, FAST)
    assert server.connections == 3


def test_a_server_that_drips_one_byte_at_a_time_cannot_hold_the_job(raw):
    def drip(conn, n, stop):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n\r\n")
        while not stop.wait(0.05):
            conn.sendall(b" ")

    server = raw(drip)
    with pytest.raises(FeedError, match=r"did not arrive within 0.5 s"):
        fetch.get(server.url, FAST)


def test_an_answer_cut_short_is_retried(raw):
    body = SMALL_FEED.read_bytes()

    def cut_once(conn, number, stop):
        conn.sendall(_ok(body)[: 200] if number == 1 else _ok(body))

    server = raw(cut_once)
    assert fetch.get(server.url, FAST).body == body
    assert server.connections == 2


def test_redirects_are_followed(httpserver):
    httpserver.expect_request("/old").respond_with_data("", status=301, headers={"Location": "/feed.xml"})
    httpserver.expect_request("/feed.xml").respond_with_data(SMALL_FEED.read_bytes())
    got = fetch.get(httpserver.url_for("/old"), FAST)
    assert got.url == httpserver.url_for("/feed.xml") and got.body == SMALL_FEED.read_bytes()


def test_a_redirect_loop_is_refused(httpserver):
    httpserver.expect_request("/a").respond_with_data("", status=302, headers={"Location": "/b"})
    httpserver.expect_request("/b").respond_with_data("", status=302, headers={"Location": "/a"})
    with pytest.raises(FeedError, match="redirects in a loop"):
        fetch.get(httpserver.url_for("/a"), FAST)
    assert len(httpserver.log) == 2


def test_redirects_are_followed_to_a_limit(httpserver):
    for hop in range(6):
        httpserver.expect_request(f"/r{hop}").respond_with_data("", status=307, headers={"Location": f"/r{hop + 1}"})
    with pytest.raises(FeedError, match=r"redirects more than 3 times \(fetch.max_redirects\)"):
        fetch.get(httpserver.url_for("/r0"), FAST)
    assert len(httpserver.log) == 4


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://example.org/feed.xml", "gopher://x/"])
def test_a_redirect_away_from_http_is_refused(httpserver, target):
    httpserver.expect_request("/feed.xml").respond_with_data("", status=302, headers={"Location": target})
    with pytest.raises(FeedError, match="only http and https"):
        fetch.get(httpserver.url_for("/feed.xml"), FAST)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/feed.xml", "http:///feed.xml"])
def test_only_http_and_https_urls_are_fetched(url):
    with pytest.raises(FeedError, match="only http and https|names no host"):
        feed.load(url, FAST)


def test_an_oversized_answer_is_refused_from_its_declared_length(httpserver):
    httpserver.expect_request("/feed.xml").respond_with_data(b"x" * 1_000_001)
    with pytest.raises(FeedError, match=r"is 1000001 bytes, over the limit of 1000000 \(fetch.max_feed_bytes\)"):
        fetch.get(httpserver.url_for("/feed.xml"), FAST)


def test_an_oversized_answer_without_a_length_is_cut_off(httpserver):
    def endless(request):
        return Response((b"x" * 65536 for _ in range(10_000)), content_type="application/rss+xml")

    httpserver.expect_request("/feed.xml").respond_with_handler(endless)
    with pytest.raises(FeedError, match=r"larger than 1000000 bytes"):
        fetch.get(httpserver.url_for("/feed.xml"), FAST)


def test_a_gzip_feed_is_unpacked_but_a_gzip_bomb_is_refused(httpserver):
    packed = gzip.compress(SMALL_FEED.read_bytes())
    bomb = gzip.compress(b"\0" * 50_000_000)
    httpserver.expect_request("/feed.xml").respond_with_data(packed, headers={"Content-Encoding": "gzip"})
    httpserver.expect_request("/bomb.xml").respond_with_data(bomb, headers={"Content-Encoding": "gzip"})
    assert fetch.get(httpserver.url_for("/feed.xml"), FAST).body == SMALL_FEED.read_bytes()
    assert len(bomb) < FAST.max_bytes
    with pytest.raises(FeedError, match="larger than 1000000 bytes"):
        fetch.get(httpserver.url_for("/bomb.xml"), FAST)


def test_the_bounds_come_from_the_watch_settings_and_mistakes_are_named():
    policy = fetch.Policy.of(Fetch(read_timeout=7.5, retries=0))
    assert policy.read_timeout == 7.5 and policy.retries == 0
    with pytest.raises(SettingsError, match="fetch.retries must be 0 or more"):
        fetch.Policy.of(Fetch(retries=-1))
    with pytest.raises(SettingsError, match="fetch.read_timeout must be more than 0"):
        fetch.Policy.of(Fetch(read_timeout=0))


@pytest.mark.parametrize("length", [b"9" * 5000, b"\xb2", b"-5"], ids=["5000 digits", "superscript two", "negative"])
def test_a_content_length_that_is_not_a_length_is_ignored_and_the_cap_still_holds(raw, length):
    """int() of 5000 digits, or of '²' (a digit to str.isdigit), once ended the job in a traceback."""
    body = SMALL_FEED.read_bytes()
    server = raw(lambda conn, n, stop: conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %s\r\nConnection: close\r\n\r\n%s"
                                                   % (length, body)))
    assert fetch.get(server.url, FAST).body == body


@pytest.mark.parametrize("location, message", [
    (b"http://[::1", "redirects to 'http://[::1', which is not a URL"),
    (b"http://exa mple.org/", "redirects to 'http://exa mple.org/', whose host is not a name"),
])
def test_a_redirect_to_what_is_not_a_url_is_one_line(raw, location, message):
    server = raw(lambda conn, n, stop: conn.sendall(b"HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n"
                                                   % location))
    with pytest.raises(FeedError, match=re.escape(message)):
        fetch.get(server.url, FAST)


def test_validators_with_control_characters_are_not_kept(raw):
    """They would be stored in the job's state and sent back in a header on the next run."""
    body = SMALL_FEED.read_bytes()
    server = raw(lambda conn, n, stop: conn.sendall(b'HTTP/1.1 200 OK\r\nETag: "a\x00\x0bb"\r\nLast-Modified: Wed\x07\r\n'
                                                   b"Content-Length: %d\r\n\r\n%s" % (len(body), body)))
    assert fetch.get(server.url, FAST).validators == fetch.Validators()

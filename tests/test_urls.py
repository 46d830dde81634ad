"""The one URL rule: what `urls.publishable` lets through to listeners' apps, pages and notices."""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings, strategies as st

from audio_edition.urls import LONGEST, publishable

REFUSED = [
    None, "", "   ",
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", "  javascript:alert(1)", "\tjavascript:alert(1)",
    "java\tscript:alert(1)", "java\nscript:alert(1)", "javascript\x00:alert(1)",
    "data:text/html,<script>alert(1)</script>", "DATA:text/html;base64,PHNjcmlwdD4=", "vbscript:msgbox(1)",
    "file:///etc/passwd", "ftp://example.org/x", "mailto:a@example.org", "feed://example.org/rss",
    "//evil.example/x", "///evil.example/x", "/relative/path", "relative.html", "#fragment", "?query",
    "http:/evil.example", "http:evil.example", "https:", "http://", "https://:443/", "https:///x",
    "https://[::1", "https://example.org:99999/", "https://example.org:port/",
    "https://good.example@evil.example/", "https://user:pw@example.org/",
    "https://good.example\\@evil.example/", "https://example.org/a b", "https://example.org/a\u00a0b",
    'https://example.org/"onmouseover="x', "https://example.org/<script>", "https://example.org/`x`",
    "https://example.org/\u202egnp.exe", "https://example.org/\u200bx", "https://exa\u2028mple.org/",
    "https://example.org/\ufffe", "https://example.org/\ud800", "https://example.org/\x1b[31m",
    "https://example.org/" + "x" * LONGEST,
]
KEPT = [
    ("https://example.org/paper", "https://example.org/paper"),
    ("http://example.org", "http://example.org"),
    ("HTTPS://EXAMPLE.ORG/Paper", "HTTPS://EXAMPLE.ORG/Paper"),
    ("  https://example.org/x?a=1&b=2#s  ", "https://example.org/x?a=1&b=2#s"),
    ("\nhttps://arxiv.org/abs/1234.5678\t", "https://arxiv.org/abs/1234.5678"),
    ("https://en.wikipedia.org/wiki/G\u00f6del", "https://en.wikipedia.org/wiki/G\u00f6del"),
    ("https://[2001:db8::1]:8443/x", "https://[2001:db8::1]:8443/x"),
    ("https://medium.com/@author/post-1", "https://medium.com/@author/post-1"),
    ("http://localhost:8000/feed.xml", "http://localhost:8000/feed.xml"),
]


@pytest.mark.parametrize("url", REFUSED, ids=ascii)
def test_anything_but_a_web_address_is_refused(url):
    assert publishable(url) is None


@pytest.mark.parametrize("url, cleaned", KEPT, ids=lambda v: ascii(v)[:40])
def test_web_addresses_are_kept_without_their_surrounding_whitespace(url, cleaned):
    assert publishable(url) == cleaned


@settings(max_examples=500, deadline=None)
@given(st.one_of(
    st.text(),
    st.builds(lambda scheme, rest: scheme + rest,
              st.sampled_from(["http://", "HTTPS://", " https://", "https:/", "javascript:", "//", "data:"]),
              st.text()),
))
def test_whatever_is_let_through_is_an_http_url_with_a_host_and_nothing_invisible(text):
    url = publishable(text)
    if url is None:
        return
    assert url == text.strip() and len(url) <= LONGEST
    parts = urlsplit(url)
    assert parts.scheme.lower() in ("http", "https") and parts.hostname and parts.username is None
    assert not any(unicodedata.category(c)[0] in "CZ" or c in '"<>`\\' for c in url)
    assert publishable(url) == url, "the rule is stable: what it lets through, it lets through again"

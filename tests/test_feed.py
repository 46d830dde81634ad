"""The newsletter feed: issues recognised by their title, read from a path or a real local HTTP server."""

import pytest

from audio_edition import feed
from audio_edition.errors import FeedError

from conftest import SAMPLE_FEED, SMALL_FEED

PATTERN = r"^\s*\[AN #(?P<number>\d+)\]"


def test_the_sample_feed_carries_issue_66():
    [entry] = feed.read_entries(str(SAMPLE_FEED), PATTERN)
    assert entry.number == 66
    assert entry.title == "Decomposing robustness into capability robustness and alignment robustness"
    assert entry.published.isoformat() == "2019-10-02T16:30:00+00:00"
    assert "<h1>Highlights</h1>" in entry.content


def test_an_announcement_is_not_an_issue_and_issues_come_oldest_first():
    entries = feed.read_entries(str(SMALL_FEED), PATTERN)
    assert [e.number for e in entries] == [6, 7]
    assert feed.select(entries, "latest").number == 7
    assert feed.select(entries, "6").title == "The issue before"


def test_an_issue_that_is_not_in_the_feed_is_named():
    entries = feed.read_entries(str(SMALL_FEED), PATTERN)
    with pytest.raises(FeedError, match=r"issue #99 is not in the feed \(it lists #6, #7\)"):
        feed.select(entries, 99)


def test_the_feed_is_fetched_over_http(httpserver):
    httpserver.expect_request("/feed.xml").respond_with_data(SAMPLE_FEED.read_bytes(), content_type="application/rss+xml")
    [entry] = feed.read_entries(httpserver.url_for("/feed.xml"), PATTERN)
    assert entry.number == 66


def test_an_http_error_is_one_clear_line(httpserver):
    httpserver.expect_request("/feed.xml").respond_with_data("gone", status=404)
    with pytest.raises(FeedError, match="404"):
        feed.read_entries(httpserver.url_for("/feed.xml"), PATTERN)


def test_an_html_page_is_not_a_feed(tmp_path):
    page = tmp_path / "error.html"
    page.write_text("<html><body><h1>502 Bad Gateway</h1><p>nginx</body></html>")
    with pytest.raises(FeedError):
        feed.read_entries(str(page), PATTERN)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(FeedError, match="cannot read feed"):
        feed.read_entries(str(tmp_path / "nope.xml"), PATTERN)

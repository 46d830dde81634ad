"""Shared test fixtures: settings pointed at temporary folders, and one speech cache per test session.

The speech cache is shared across the session so that the same sentence is synthesized once; a test
that counts synthesized segments passes its own empty cache folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from audio_edition import settings as settings_module
from audio_edition.settings import Settings

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
GOLDEN = Path(__file__).resolve().parent / "golden"
SMALL_FEED = FIXTURES / "small-feed.xml"
SAMPLE_FEED = FIXTURES / "newsletter-feed.xml"
UPDATE_GOLDEN = os.environ.get("UPDATE_GOLDEN") == "1"
"""`UPDATE_GOLDEN=1 make test` (and nothing else) rewrites the golden files; then read every changed line."""


def golden(path: Path, actual: str) -> str:
    """The golden file's text to compare `actual` with; rewritten with `actual` first under UPDATE_GOLDEN=1."""
    if UPDATE_GOLDEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def speech_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("speech-cache")


def make_settings(tmp: Path, cache: Path | None = None, **overrides) -> Settings:
    """The repository's edition.toml with episodes/, public/ and the cache moved under `tmp`."""
    base = {
        "paths.episodes": str(tmp / "episodes"),
        "paths.public": str(tmp / "public"),
        "paths.cache": str(cache or tmp / "cache"),
        "newsletter.feed": str(SMALL_FEED),
    }
    base.update(overrides)
    return settings_module.load(REPO / "edition.toml", base)


@pytest.fixture
def settings(tmp_path, speech_cache) -> Settings:
    return make_settings(tmp_path, speech_cache)


@pytest.fixture(scope="session")
def built_episodes(tmp_path_factory, speech_cache) -> Path:
    """An episodes/ folder with issue #7 of the small feed built once per session; treat it as read-only."""
    from audio_edition import build, feed

    settings = make_settings(tmp_path_factory.mktemp("built"), speech_cache)
    entries = feed.read_entries(str(SMALL_FEED), settings.newsletter.issue_pattern)
    build.build(feed.select(entries, 7), settings)
    return settings.paths.episodes


@pytest.fixture
def published_site(tmp_path, speech_cache, built_episodes) -> Settings:
    """Settings whose public/ (under tmp_path) has been published from the session's built episode."""
    from audio_edition.publish import publish

    settings = make_settings(tmp_path, speech_cache, **{"paths.episodes": str(built_episodes)})
    publish(settings)
    return settings

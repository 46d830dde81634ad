"""Settings: defaults < edition.toml < flags, paths made absolute, mistakes named."""

from pathlib import Path

import pytest

from audio_edition import settings
from audio_edition.errors import SettingsError

from conftest import REPO


def test_the_repository_settings_load_with_paths_resolved_against_the_file():
    loaded = settings.load(REPO / "edition.toml")
    assert loaded.podcast.title.startswith("Alignment Newsletter")
    assert loaded.paths.public == REPO / "public"
    assert loaded.audio.intro == REPO / "audio" / "intro.wav"
    assert loaded.audio.loudness == -16.0
    assert settings.resolve_source(loaded, loaded.newsletter.feed) == str(REPO / "tests/fixtures/newsletter-feed.xml")


def test_flags_override_the_file(tmp_path):
    loaded = settings.load(REPO / "edition.toml", {"paths.public": str(tmp_path), "audio.bitrate": "128"})
    assert loaded.paths.public == tmp_path
    assert loaded.audio.bitrate == 128


@pytest.mark.parametrize(
    "toml, message",
    [
        ("[podcats]\ntitle = 'x'\n", "unknown settings table [podcats]"),
        ("[podcast]\ntitel = 'x'\n", "unknown setting podcast.titel"),
        ("[audio]\nloudness = 'loud'\n", "audio.loudness must be a number"),
        ("[podcast]\nexplicit = 'maybe'\n", "podcast.explicit must be true or false"),
        ("[podcast\n", "not valid TOML"),
    ],
)
def test_a_mistake_is_named(tmp_path, toml, message):
    path = tmp_path / "edition.toml"
    path.write_text(toml)
    with pytest.raises(SettingsError, match=message.replace("[", r"\[")):
        settings.load(path)


def test_a_missing_settings_file_is_an_error(tmp_path):
    with pytest.raises(SettingsError, match="does not exist"):
        settings.load(tmp_path / "other.toml")


def test_fetch_settings_still_named_under_watch_are_read_from_there_with_a_warning(tmp_path, caplog):
    old = tmp_path / "edition.toml"
    old.write_text('[watch]\nretries = 1\nbackoff = 0.5\npublish = "review"\n')
    with caplog.at_level("WARNING"):
        loaded = settings.load(old)
    assert (loaded.fetch.retries, loaded.fetch.backoff, loaded.watch.publish) == (1, 0.5, "review")
    assert "watch.retries is now fetch.retries" in caplog.text

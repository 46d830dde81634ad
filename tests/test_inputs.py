"""What a build reads, digested: editing a tool or the job leaves built episodes up to date; editing a stage does not."""

import shutil

import pytest

from audio_edition import build, feed, inputs, manifest

from conftest import REPO, SMALL_FEED, make_settings


@pytest.fixture
def tree(tmp_path):
    """A copy of the repository's package and tools, to edit without touching the real ones."""
    package = shutil.copytree(inputs.PACKAGE, tmp_path / "audio_edition", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "tools", tmp_path / "tools", ignore=shutil.ignore_patterns("__pycache__"))
    return package


def _edit(path):
    path.write_text(path.read_text() + "\n# an edit\n")


@pytest.mark.parametrize("edited", ["../tools/bench.py", "../tools/assets.py", "watch.py", "cli.py", "site.py", "serve.py"])
def test_editing_what_does_not_shape_an_episode_keeps_the_digest(tree, edited):
    before = inputs.source_digest(tree)
    _edit(tree / edited)
    assert inputs.source_digest(tree) == before


@pytest.mark.parametrize("edited", ["build.py", "script.py", "speak/normalize.py", "speak/piper.py", "mix.py", "tags.py"])
def test_editing_a_stage_changes_the_digest(tree, edited):
    before = inputs.source_digest(tree)
    _edit(tree / edited)
    assert inputs.source_digest(tree) != before


def test_the_build_reads_no_tool_and_every_stage():
    names = {path.relative_to(inputs.PACKAGE).as_posix() for path in inputs.build_modules()}
    assert {"build.py", "issue.py", "script.py", "speak/plan.py", "speak/synthesis.py", "speak/piper.py", "mix.py",
            "mp3.py", "tags.py", "timeline.py", "notes.py"} <= names
    assert not names & {"watch.py", "cli.py", "site.py", "serve.py", "hosting.py", "check.py", "status.py"}
    assert not (inputs.PACKAGE / "bench.py").exists() and not (inputs.PACKAGE / "assets.py").exists()


def test_a_setting_that_does_not_shape_the_episode_leaves_it_up_to_date(tmp_path, speech_cache):
    settings = make_settings(tmp_path, speech_cache)
    entry = feed.select(feed.read_entries(str(SMALL_FEED), settings.newsletter.issue_pattern), 7)
    first = build.build(entry, settings)
    for key, value in {"site.spotify": "https://open.spotify.com/show/x", "notify.timeout": "3",
                       "hosting.folder": str(tmp_path / "www"), "speed.threads": "1"}.items():
        again = build.build(entry, settings.replace(**{key: value}))
        assert again.synthesized == 0 and again.episode.record.built == first.episode.record.built, key
    rebuilt = build.build(entry, settings.replace(**{"audio.pause_item": "1.0"}))
    assert rebuilt.episode.record.built >= first.episode.record.built
    assert rebuilt.episode.record.inputs.digest != first.episode.record.inputs.digest
    assert manifest.read(rebuilt.folder) == rebuilt.episode

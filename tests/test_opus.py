"""The Opus rendering, decoded by ffmpeg: the MP3's length to the sample, its loudness, clean joins at the MP3's
times, a valid Ogg stream, and an edit that re-encodes only its own block."""

import dataclasses
import shutil
import struct
import subprocess

import numpy as np
import pytest

from audio_edition import manifest, mix, mp3, opus, speak
from audio_edition.errors import AudioError

from conftest import make_settings


@pytest.fixture(scope="module")
def episode(built_episodes, speech_cache):
    """Issue #7 of the small feed as the session built it (read-only): folder, manifest, settings."""
    folder = built_episodes / manifest.slug(7)
    settings = make_settings(built_episodes.parent, speech_cache, **{"paths.episodes": str(built_episodes)})
    return folder, manifest.read(folder), settings


def _sources(settings, episode):
    """The episode's MP3 blocks as the Opus rendering takes them: the intro first and the outro last are music."""
    blocks = mp3.BlockCache(settings.paths.cache / "blocks")
    keys = episode.record.mastering.blocks
    return [opus.Source(key, blocks.path(key), blocks.get(key).samples, n in (0, len(keys) - 1))
            for n, key in enumerate(keys)]


def _coder(cache_folder):
    return opus.Coder(mp3.ffmpeg(), opus.Encoding(), opus.OpusCache(cache_folder))


def _decoded(path) -> np.ndarray:
    """Every sample ffmpeg decodes from `path`, at 48 kHz; any complaint ffmpeg makes fails the test."""
    done = subprocess.run([mp3.ffmpeg(), "-hide_banner", "-nostdin", "-v", "error", "-i", str(path), "-ac", "1",
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
    """Cross-correlation finds each block's speech where the placement put it (within 10 ms of the MP3, never
    drifting), and around every join the Opus file is no louder than the MP3 (silent where it is silent,
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
        # Speech is coded in hybrid mode, its low band by SILK, which keeps the spectrum rather than the waveform:
        # the correlation peaks up to 3 samples (0.06 ms) from where the block is; a misplaced block is 20 ms off.
        assert abs(lag - shift) <= 4, f"block at {start / 48000:.3f} s is {lag} samples off, {shift} expected"
        # From the frame before (the encoder's warm-up) to 10 ms after the join: the next block's sound starts
        # 25 ms in (the MP3's encoder delay), and SILK's look-ahead lets its onset show a few ms early.
        join = slice(frame - 2 * opus.FRAME, frame + opus.FRAME // 2)
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
    first = opus.render(sources, 44100, tmp_path / "a.opus", _coder(tmp_path / "opus"), opus.Details())
    assert (first.encoded, first.reused) == (len({s.key for s in sources}), 0)
    # An edit: the second segment now says something else, of another length (the last segment's block),
    # so every block after it moves on the 20 ms grid.
    edited = [*sources[:1], dataclasses.replace(sources[-2], key="edited"), *sources[2:]]
    shutil.copy(sources[-2].path, tmp_path / "edited.mp3")
    edited[1] = dataclasses.replace(edited[1], path=tmp_path / "edited.mp3")
    second = opus.render(edited, 44100, tmp_path / "b.opus", _coder(tmp_path / "opus"), opus.Details())
    assert (second.encoded, second.reused) == (1, len(sources) - 1)
    mp3_seconds = sum(s.samples for s in edited) / 44100
    opus.verify(second, mp3_seconds, second.loudness)
    assert abs(second.duration - mp3_seconds) < 1 / 48000


def test_a_join_that_would_cut_sound_is_refused(episode, tmp_path):
    folder, built, settings = episode
    sources = _sources(settings, built)
    coder = _coder(tmp_path / "opus")
    cache = coder.cache
    opus.render(sources, 44100, tmp_path / "a.opus", coder, opus.Details())
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


def test_an_opus_block_made_in_its_mp3_block_s_run_is_the_one_its_mp3_file_gives(episode, tmp_path):
    """The build makes each Opus block in the ffmpeg run that encodes its MP3 block, from the samples that run
    decodes to meter it; made from the MP3 block's file instead, it has the same length, look-ahead and silent
    tail, and decodes to the same sound (the file's decoder leaves a trace of the first sound in the encoder's
    delay, where the run's leaves silence, so the packets may differ, not the sound)."""
    _, built, settings = episode
    speech = speak.SpeechCache(settings.paths.cache / "speech").get(built.record.speech.segments[1])
    pcm = np.concatenate([speech.samples, np.zeros(speech.sample_rate // 2, dtype=np.int16)]).astype("<i2").tobytes()
    beside = _coder(tmp_path / "beside")
    with beside.alongside("a block", False, 44100) as alongside:
        assert alongside.branch is not None
        encoded = mp3.encode(mp3.ffmpeg(), pcm, speech.sample_rate, mp3.chain(12.0, 44100, 0.7), 44100, 96,
                             alongside.branch)
        alongside.keep(encoded.block.samples)
    assert not list((tmp_path / "beside").glob(".alongside-*")), "the run's own files are cleaned up"
    (tmp_path / "block.mp3").write_bytes(encoded.data)
    again, key = _coder(tmp_path / "from-file"), beside.key_of("a block", False)
    ours = beside.cache.get(key)
    theirs = again.block(opus.Source("a block", tmp_path / "block.mp3", encoded.block.samples))
    assert (ours.pre_skip, ours.length, ours.silent_tail) == (theirs.pre_skip, theirs.length, theirs.silent_tail)
    assert ours.length == -(-encoded.block.samples * 48000 // 44100) and 0 < ours.silent_tail < ours.length
    assert theirs.packets <= ours.packets <= theirs.packets + 2, "a frame or two more of silence, never less"
    a, b = _decoded(beside.cache.path(key)), _decoded(again.cache.path(key))
    n = min(len(a), len(b))
    assert 10 * np.log10(np.sum(b[:n] ** 2) / max(np.sum((a[:n] - b[:n]) ** 2), 1e-12)) > 20


def test_the_intro_and_outro_are_encoded_as_music_and_the_segments_as_speech(episode):
    """Speech takes the setting's application ('voip' by default: hybrid mode, SILK below 8 kHz), the intro and
    the outro libopus's 'audio' (the intro, a jingle, comes out in CELT)."""
    _, built, settings = episode
    assert settings.audio.opus_application == "voip"
    coder = _coder(settings.paths.cache / "opus")
    mp3_keys = built.record.mastering.blocks
    assert built.record.opus.blocks == tuple(coder.key_of(key, n in (0, len(mp3_keys) - 1))
                                             for n, key in enumerate(mp3_keys))
    modes = [[packet[0] >> 3 for packet in opus.read_ogg(coder.cache.path(key).read_bytes())[1]]
             for key in built.record.opus.blocks]
    assert all(12 <= config <= 15 for block in modes[1:-1] for config in block), "speech in hybrid mode"
    assert sum(config >= 16 for config in modes[0]) > len(modes[0]) / 2, "the intro mostly in CELT"

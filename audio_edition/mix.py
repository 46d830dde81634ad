"""Stitch intro, speech with its pauses, and outro, and master it to the loudness target as an MP3, in one pass.

The speech streams through: each segment is written to a WAV on disk and into an ffmpeg encoder
while the next one is being synthesized, so memory holds one segment, not the episode, and the MP3
is done when the last segment is. The encoder starts at a gain known in advance (what the last build
needed), and the MP3 is measured as published, true peak included, by decoding what was encoded as it
comes out. Only if the MP3 misses the target is it encoded again, from the WAV, at the corrected gain.

The timeline (cues and chapters) is computed from sample counts while stitching, so the transcript
and chapters are exact, not estimated.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterable

import warnings

import numpy as np

with warnings.catch_warnings():
    # pydub looks for ffmpeg on PATH at import; we hand it the one we found instead.
    warnings.simplefilter("ignore", RuntimeWarning)
    from pydub import AudioSegment

from .errors import AudioError
from .model import Chapter, Cue, Episode, TimedChapter, Timeline
from .speak import Spoken

log = logging.getLogger(__name__)

# Speech from a neural voice peaks near full scale; a gentle compressor brings the peak-to-loudness
# ratio down so that -16 LUFS fits under a -1 dBTP ceiling without the limiter pumping.
_COMPRESS = "acompressor=threshold=0.1:ratio=4:attack=3:release=80:knee=4"

FIRST_GUESS = -28.0
"""Loudness (LUFS) to expect of speech after the compressor, when no episode has been built yet: Piper's
peak-normalized sentences come out near -27.4, and the limiter and the encoder take about 0.6 more.
Only the starting point; the MP3 is measured and corrected either way."""

TOLERANCE = 0.5
"""How far (LU) the MP3's integrated loudness may be from the target before it is encoded again."""


def ffmpeg() -> str:
    """Debian's ffmpeg when installed, else the one inside the imageio-ffmpeg wheel."""
    import shutil

    found = shutil.which("ffmpeg")
    if found:
        return found
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


@dataclass(frozen=True)
class Mastering:
    loudness: float
    """Integrated loudness target, LUFS."""
    true_peak: float
    """Ceiling, dBTP, before encoding; the MP3 may exceed it by at most half a dB (the encoder's overshoot)."""
    bitrate: int
    sample_rate: int


@dataclass(frozen=True)
class Mixed:
    """A mastered episode: where everything landed, and what the MP3 measures as published."""

    timeline: Timeline
    gain: float
    """dB applied after the compressor."""
    loudness: float
    true_peak: float
    encodes: int
    """1 when the gain guessed in advance was right; more when the MP3 had to be encoded again."""


def expected_gain(episodes: Iterable[Episode], number: int, loudness: float) -> float:
    """The gain this episode will need: what it took last time, else the newest episode's, else a first guess."""
    recorded = [(e.number == number, e.extra.get("built", ""), e.extra["mastering"]) for e in episodes
                if isinstance(e.extra.get("mastering"), dict)]
    if recorded:
        last = max(recorded, key=lambda r: (r[0], r[1]))[2]
        try:
            return float(last["gain"]) + loudness - float(last["loudness"])
        except (KeyError, TypeError, ValueError):
            pass
    return loudness - FIRST_GUESS


def produce(spoken: Iterable[Spoken], chapters: tuple[Chapter, ...], intro: Path, outro: Path, out: Path,
            mastering: Mastering, gain: float, meter_apart: bool = False) -> Mixed:
    """Stitch and master into `out` (written atomically), encoding at `gain` while the speech arrives.

    `meter_apart` measures the MP3 in a second ffmpeg, side by side with the encoder: a second sooner
    for an episode of 15 minutes, and 30 MB more; worth it when the speech is ready and the cores are free.
    """
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".mix-") as tmp:
        folder = Path(tmp)
        stream = _Stream(folder, mastering, gain, meter_apart)
        try:
            timeline = _stitch(spoken, chapters, intro, outro, stream)
            log.debug("stitched %.1f minutes; waiting for the encoder", timeline.duration / 60)
            heard, peak = stream.finish()
        finally:
            stream.abandon()
        log.debug("mixed at %+.2f dB: the MP3 measures %.2f LUFS, %.2f dBTP", gain, heard, peak)
        gain, heard, peak, encodes = _correct(folder, mastering, gain, heard, peak)
        os.replace(folder / _MP3, out)
    return Mixed(timeline, round(gain, 2), heard, peak, encodes)


def _correct(folder: Path, mastering: Mastering, gain: float, heard: float, peak: float) -> tuple[float, float, float, int]:
    """Encode again, from the WAV, while the MP3 misses the target (twice at most); fail if it still does."""
    encodes, limit_down = 1, 0.0
    while not _on_target(heard, peak, mastering, TOLERANCE) and encodes < 3:
        gain += mastering.loudness - heard
        limit_down += max(0.0, peak - _ceiling(mastering) + 0.1)
        heard, peak = _encode_again(folder, mastering, gain, limit_down)
        encodes += 1
        log.debug("encoded again at %+.2f dB: %.2f LUFS, %.2f dBTP", gain, heard, peak)
    if not _on_target(heard, peak, mastering, 1.0):
        raise AudioError(f"could not master to {mastering.loudness} LUFS under {_ceiling(mastering)} dBTP "
                         f"(the MP3 measures {heard:.1f} LUFS, {peak:.1f} dBTP)")
    return gain, heard, peak, encodes


def _on_target(heard: float, peak: float, mastering: Mastering, tolerance: float) -> bool:
    return abs(heard - mastering.loudness) <= tolerance and peak <= _ceiling(mastering)


def _ceiling(mastering: Mastering) -> float:
    """The true peak the MP3 may measure: the ceiling plus half a dB for the encoder's overshoot."""
    return mastering.true_peak + 0.5


_MP3 = "episode.mp3"
_WAV = "mix.wav"


class _Stream:
    """The mix on its way out: a WAV on disk (to encode again if needed) and an encoder measuring as it goes."""

    def __init__(self, folder: Path, mastering: Mastering, gain: float, meter_apart: bool) -> None:
        self.folder, self.mastering, self.gain, self.meter_apart = folder, mastering, gain, meter_apart
        self.rate = 0
        self.wav: wave.Wave_write | None = None
        self.encoder: _Encoder | None = None

    def start(self, rate: int) -> None:
        self.rate = rate
        self.wav = wave.open(str(self.folder / _WAV), "wb")
        self.wav.setnchannels(1)
        self.wav.setsampwidth(2)
        self.wav.setframerate(rate)
        source = ["-f", "s16le", "-ar", str(rate), "-ac", "1", "-i", "pipe:0"]
        self.encoder = _Encoder(self.folder, source, self.mastering, self.gain, meter_apart=self.meter_apart)

    def write(self, samples: np.ndarray) -> None:
        data = samples.astype(np.int16, copy=False).tobytes()
        self.wav.writeframesraw(data)  # the header is completed on close
        self.encoder.feed(data)

    def finish(self) -> tuple[float, float]:
        self.wav.close()
        return self.encoder.finish()

    def abandon(self) -> None:
        if self.wav:
            self.wav.close()
        if self.encoder:
            self.encoder.kill()


def _encode_again(folder: Path, mastering: Mastering, gain: float, limit_down: float) -> tuple[float, float]:
    encoder = _Encoder(folder, ["-i", _WAV], mastering, gain, limit_down, meter_apart=True)
    try:
        heard, peak = encoder.finish()
    finally:
        encoder.kill()
    return heard, peak


class _Encoder:
    """ffmpeg compressing, gaining, limiting and encoding to MP3, and decoding what it encoded to measure
    the MP3's loudness and true peak: in the same process (one process less, one copy of ffmpeg less in
    memory) where ffmpeg can decode its own output (7.1 and newer) and `meter_apart` is not asked for,
    else by a second ffmpeg reading the first one's output through a pipe, in parallel."""

    def __init__(self, folder: Path, source: list[str], mastering: Mastering, gain: float, limit_down: float = 0.0,
                 meter_apart: bool = False) -> None:
        # Limit at the output rate with 1 dB kept for inter-sample peaks and the MP3 encoder's overshoot.
        limit = 10 ** ((mastering.true_peak - 1.0 - limit_down) / 20)
        chain = (f"{_COMPRESS},volume={gain:.3f}dB,aresample={mastering.sample_rate},"
                 f"alimiter=limit={limit:.4f}:attack=2:release=60:level=false")
        encode = [ffmpeg(), "-hide_banner", "-nostdin", "-y", *source, "-map", "0:a", "-af", chain,
                  "-ar", str(mastering.sample_rate), "-ac", "1", "-c:a", "libmp3lame", "-b:a", f"{mastering.bitrate}k",
                  "-compression_level", _LAME_QUALITY, "-map_metadata", "-1"]
        stdin = subprocess.PIPE if source[-1] == "pipe:0" else subprocess.DEVNULL
        self.log = open(folder / "encoder.log", "w+b")
        self.meter_log = self.log
        if not meter_apart and _decodes_its_output():
            self.encoder = subprocess.Popen(
                [*encode, _MP3, "-dec", "0:0", "-filter_complex", f"[dec:0]{_meter(mastering.sample_rate)}[m]",
                 "-map", "[m]", "-f", "null", "-"],
                cwd=folder, stdin=stdin, stdout=subprocess.DEVNULL, stderr=self.log)
            self.processes = [self.encoder]
            return
        self.meter_log = open(folder / "meter.log", "w+b")
        self.encoder = subprocess.Popen([*encode, "-f", "tee", f"[f=mp3]{_MP3}|[f=mp3]pipe:1"],
                                        cwd=folder, stdin=stdin, stdout=subprocess.PIPE, stderr=self.log)
        meter = subprocess.Popen([ffmpeg(), "-hide_banner", "-nostdin", "-f", "mp3", "-i", "pipe:0", "-af",
                                  _meter(mastering.sample_rate),
                                  "-f", "null", "-"],
                                 stdin=self.encoder.stdout, stdout=subprocess.DEVNULL, stderr=self.meter_log)
        self.encoder.stdout.close()  # the meter holds the only reading end now
        self.processes = [self.encoder, meter]

    def feed(self, data: bytes) -> None:
        try:
            self.encoder.stdin.write(data)
        except BrokenPipeError:
            self.encoder.wait()
            raise AudioError(f"ffmpeg stopped encoding: {_tail(self.log)}") from None

    def finish(self) -> tuple[float, float]:
        """The MP3's integrated loudness and true peak."""
        if self.encoder.stdin:
            try:
                self.encoder.stdin.close()
            except BrokenPipeError:
                pass
        for process, log_file in zip(self.processes, (self.log, self.meter_log)):
            if process.wait() != 0:
                raise AudioError(f"ffmpeg failed encoding or measuring the MP3: {_tail(log_file)}")
        output = _read(self.meter_log)
        return _loudness(output, "the MP3"), _peak(output)

    def kill(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait()
        self.log.close()
        self.meter_log.close()


def _meter(rate: int) -> str:
    """The filters that measure the MP3 as decoded at `rate`: ebur128 for its integrated loudness, and
    for its true peak the method of ITU-R BS.1770 itself: 4x oversampling through an interpolating
    filter of 12 taps per phase, then the sample peak (astats). ebur128's own true-peak meter resamples
    to 192 kHz with a longer filter: on our episodes the same figure to 0.1 dB, at four times the CPU
    (2.4 s instead of 0.5 s for 15 minutes), which a rebuild after an edit spends waiting. The tests
    check the result with ebur128's meter (`measure`)."""
    oversampled = f"aresample={4 * rate}:filter_size=12:phase_shift=10:cutoff=0.97"
    return (f"asplit[loudness][peak];[peak]{oversampled},astats=measure_overall=Peak_level:measure_perchannel=none,"
            "anullsink;[loudness]ebur128=framelog=verbose")

_LAME_QUALITY = "7"
"""LAME's -q 7: its noise shaping off, which halves the encoder's time (1.5 s instead of 2.9 s for 15
minutes). At 96 kbps mono, speech loses nothing measurable: the MP3's signal-to-noise ratio against
the mix is 25.7 dB, against 25.3 dB at LAME's default -q 3."""


def _decodes_its_output() -> bool:
    """Whether this ffmpeg has loopback decoders (`-dec`, ffmpeg 7.1): a 50 ms silent encode says."""
    probe = [ffmpeg(), "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono",
             "-t", "0.05", "-c:a", "libmp3lame", "-f", "null", "-", "-dec", "0:0", "-filter_complex", "[dec:0]anull[o]",
             "-map", "[o]", "-f", "null", "-"]
    return subprocess.run(probe, capture_output=True).returncode == 0


def _read(handle: IO[bytes]) -> str:
    handle.flush()
    handle.seek(0)
    return handle.read().decode("utf-8", "replace")


def _tail(handle: IO[bytes]) -> str:
    lines = _read(handle).strip().splitlines()
    return lines[-1] if lines else "no output"


def _loudness(output: str, what: str) -> float:
    found = re.findall(r"I:\s+(-?[\d.]+|-inf) LUFS", output)
    if not found:
        raise AudioError(f"ffmpeg did not report the loudness of {what}")
    return float(found[-1])


def _peak(output: str) -> float:
    found = re.findall(r"Peak:\s+(-?[\d.]+|-inf) dBFS", output) or re.findall(r"Peak level dB:\s+(-?[\d.]+|-inf)", output)
    if not found:
        raise AudioError("ffmpeg did not report the true peak of the MP3")
    return float(found[-1])


def _load(path: Path, rate: int) -> np.ndarray:
    """Intro/outro audio in any format pydub reads, as mono int16 at the mix rate."""
    AudioSegment.converter = ffmpeg()
    try:
        sound = AudioSegment.from_file(path)
    except (OSError, IndexError, Exception) as exc:  # pydub raises CouldntDecodeError and friends
        raise AudioError(f"cannot read {path}: {exc}") from None
    sound = sound.set_channels(1).set_sample_width(2).set_frame_rate(rate)
    return np.frombuffer(sound.raw_data, dtype=np.int16)


def _stitch(spoken: Iterable[Spoken], chapters: tuple[Chapter, ...], intro: Path, outro: Path, stream: _Stream) -> Timeline:
    """Write everything at the speech's sample rate, in order, recording where each sentence and chapter lands."""
    cues: list[Cue] = []
    starts: dict[int, float] = {}
    rate = position = 0
    for item in spoken:
        if not rate:
            rate = item.speech.sample_rate
            stream.start(rate)
            intro_audio = _load(intro, rate)
            stream.write(intro_audio)
            position = len(intro_audio)
            starts[0] = 0.0
        samples = _resample(item.speech.samples, item.speech.sample_rate, rate)
        ratio = rate / item.speech.sample_rate
        starts.setdefault(item.segment.chapter, position / rate)
        offset = position
        for line, length in zip(item.lines, item.speech.sentence_samples):
            length = int(round(length * ratio))
            cues.append(Cue(offset / rate, (offset + length) / rate, line.written, item.segment.id))
            offset += length
        pause = np.zeros(int(rate * item.segment.pause_after), dtype=np.int16)
        stream.write(samples)
        stream.write(pause)
        position += len(samples) + len(pause)
    if not rate:
        raise AudioError("nothing to mix: the script has no speech")
    outro_audio = _load(outro, rate)
    stream.write(outro_audio)
    position += len(outro_audio)
    duration = position / rate
    return Timeline(duration, tuple(cues), _chapters(chapters, starts, duration))


def _chapters(chapters: tuple[Chapter, ...], starts: dict[int, float], duration: float) -> tuple[TimedChapter, ...]:
    present = sorted((start, index) for index, start in starts.items())
    timed = []
    for n, (start, index) in enumerate(present):
        end = present[n + 1][0] if n + 1 < len(present) else duration
        timed.append(TimedChapter(chapters[index], round(start, 3), round(end, 3)))
    return tuple(timed)


def _resample(samples: np.ndarray, source: int, target: int) -> np.ndarray:
    if source == target:
        return samples
    sound = AudioSegment(samples.astype(np.int16).tobytes(), frame_rate=source, sample_width=2, channels=1)
    return np.frombuffer(sound.set_frame_rate(target).raw_data, dtype=np.int16)


def measure(path: Path, true_peak: bool = True, before: str = "") -> tuple[float, float]:
    """Integrated loudness (LUFS) and true peak (dBTP) of an audio file, as a listener's player meets it."""
    chain = (before + "," if before else "") + "ebur128=framelog=verbose" + (":peak=true" if true_peak else "")
    result = subprocess.run([ffmpeg(), "-hide_banner", "-nostdin", "-i", str(path), "-af", chain, "-f", "null", "-"],
                            capture_output=True, text=True)
    if result.returncode != 0:
        tail = result.stderr.strip().splitlines()[-1:] or ["no output"]
        raise AudioError(f"ffmpeg failed: {tail[0]}")
    integrated = _loudness(result.stderr, str(path))
    return integrated, (_peak(result.stderr) if true_peak else float("nan"))

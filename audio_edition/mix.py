"""Stitch intro, speech with its pauses, and outro; master to the loudness target and encode the MP3.

The timeline (cues and chapters) is computed from sample counts while stitching, so the transcript
and chapters are exact, not estimated.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import warnings

import numpy as np

with warnings.catch_warnings():
    # pydub looks for ffmpeg on PATH at import; we hand it the one we found instead.
    warnings.simplefilter("ignore", RuntimeWarning)
    from pydub import AudioSegment

from .errors import AudioError
from .model import Chapter, Cue, TimedChapter, Timeline
from .speak import Spoken

log = logging.getLogger(__name__)


def ffmpeg() -> str:
    """Debian's ffmpeg when installed, else the one inside the imageio-ffmpeg wheel."""
    import shutil

    found = shutil.which("ffmpeg")
    if found:
        return found
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


@dataclass(frozen=True)
class Mixed:
    samples: np.ndarray
    sample_rate: int
    timeline: Timeline


def _load(path: Path, rate: int) -> np.ndarray:
    """Intro/outro audio in any format pydub reads, as mono int16 at the mix rate."""
    AudioSegment.converter = ffmpeg()
    try:
        sound = AudioSegment.from_file(path)
    except (OSError, IndexError, Exception) as exc:  # pydub raises CouldntDecodeError and friends
        raise AudioError(f"cannot read {path}: {exc}") from None
    sound = sound.set_channels(1).set_sample_width(2).set_frame_rate(rate)
    return np.frombuffer(sound.raw_data, dtype=np.int16)


def stitch(spoken: Iterable[Spoken], chapters: tuple[Chapter, ...], intro: Path, outro: Path) -> Mixed:
    """Concatenate everything at the speech's sample rate, recording where each sentence and chapter lands."""
    pieces: list[np.ndarray] = []
    cues: list[Cue] = []
    starts: dict[int, float] = {}
    rate = 0
    position = 0
    intro_audio: np.ndarray | None = None
    for item in spoken:
        if not rate:
            rate = item.speech.sample_rate
            intro_audio = _load(intro, rate)
            pieces.append(intro_audio)
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
        pieces.append(samples)
        pause = np.zeros(int(rate * item.segment.pause_after), dtype=np.int16)
        pieces.append(pause)
        position += len(samples) + len(pause)
    if not rate:
        raise AudioError("nothing to mix: the script has no speech")
    outro_audio = _load(outro, rate)
    pieces.append(outro_audio)
    position += len(outro_audio)
    duration = position / rate
    timed = _chapters(chapters, starts, duration)
    return Mixed(np.concatenate(pieces), rate, Timeline(duration, tuple(cues), timed))


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


def master(mixed: Mixed, out: Path, loudness: float, true_peak: float, bitrate: int, sample_rate: int) -> None:
    """Compress and limit like a produced podcast, gain to the loudness target, encode a CBR mono MP3.

    The gain comes from measuring the compressed mix, and is checked on the encoded MP3 (what a
    listener's player meets) and corrected once if the limiter moved it. Written atomically.
    """
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        wav = Path(tmp) / "mix.wav"
        AudioSegment(mixed.samples.tobytes(), frame_rate=mixed.sample_rate, sample_width=2, channels=1).export(
            wav, format="wav"
        )
        partial = Path(tmp) / "episode.mp3"
        gain = loudness - measure(wav, true_peak=False, before=_COMPRESS)[0]
        for attempt in range(3):
            _encode(wav, partial, gain, true_peak, bitrate, sample_rate)
            heard, peak = measure(partial)
            log.debug("mastered at %+.2f dB gain: %.2f LUFS, %.2f dBTP", gain, heard, peak)
            if abs(heard - loudness) <= 0.3:
                break
            gain += loudness - heard
        os.replace(partial, out)


# Speech from a neural voice peaks near full scale; a gentle compressor brings the peak-to-loudness
# ratio down so that -16 LUFS fits under a -1 dBTP ceiling without the limiter pumping.
_COMPRESS = "acompressor=threshold=0.1:ratio=4:attack=3:release=80:knee=4"


def _encode(wav: Path, out: Path, gain: float, true_peak: float, bitrate: int, sample_rate: int) -> None:
    # Limit at the output rate with 1 dB kept for inter-sample peaks and the MP3 encoder's overshoot.
    limit = 10 ** ((true_peak - 1.0) / 20)
    chain = (
        f"aresample={sample_rate},{_COMPRESS},volume={gain:.3f}dB,"
        f"alimiter=limit={limit:.4f}:attack=2:release=60:level=false"
    )
    _run([
        ffmpeg(), "-hide_banner", "-nostdin", "-y", "-i", str(wav), "-af", chain,
        "-ar", str(sample_rate), "-ac", "1", "-c:a", "libmp3lame", "-b:a", f"{bitrate}k",
        "-map_metadata", "-1", str(out),
    ])


def measure(path: Path, true_peak: bool = True, before: str = "") -> tuple[float, float]:
    """Integrated loudness (LUFS) and true peak (dBTP) of an audio file, as a listener's player meets it."""
    chain = (before + "," if before else "") + ("ebur128=peak=true" if true_peak else "ebur128")
    output = _run([ffmpeg(), "-hide_banner", "-nostdin", "-i", str(path), "-af", chain, "-f", "null", "-"])
    integrated = re.findall(r"I:\s+(-?[\d.]+) LUFS", output)
    peak = re.findall(r"Peak:\s+(-?[\d.]+|-inf) dBFS", output) if true_peak else ["nan"]
    if not integrated or not peak:
        raise AudioError(f"ffmpeg did not report the loudness of {path}")
    return float(integrated[-1]), float(peak[-1])


def _run(command: list[str]) -> str:
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        tail = result.stderr.strip().splitlines()[-1:] or ["no output"]
        raise AudioError(f"ffmpeg failed: {tail[0]}")
    return result.stderr

"""An episode's MP3 made of blocks: each stretch (the intro, one segment with the pause after it, the
outro) is mastered, encoded and measured on its own, and the episode is its blocks' frames end to end.

Why: an editor who fixes one sentence waits for that sentence's block only; every other block's frames
are reused byte for byte (re-encoding a 15-minute episode costs seconds, one block a few milliseconds).
The joins are clean by construction: a fresh LAME stream starts each block, so its first frame takes
nothing from a bit reservoir; and each block begins with the encoder's own delay (PRIMING samples that
decode as silence) and ends in the pause after its segment, so no decoder finds a seam inside sound.
No block carries a LAME tag, so no player trims anything: every decoder puts every sample at the same
time, and chapters and transcript land exactly. One Info frame at the front (as LAME writes for
constant bitrate) tells players the frame count.

Each block is measured as published, from its own MP3 decoded: the 400 ms loudness of every 100 ms
(which `mix` pools across blocks to gate the integrated loudness, as BS.1770 does) and its true peak.
The same run can make another rendering from the block as decoded (a `Branch`: the Opus rendering's
block), so that no block is decoded twice and no other process starts.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .store import Store
from .errors import AudioError

log = logging.getLogger(__name__)

PRIMING = 1105
"""Samples each block's decoded audio starts with before its first input sample: LAME's encoder delay
(576) and the MP3 decoder's (529)."""

LAME_QUALITY = "7"
"""LAME's -q 7: its noise shaping off, which halves the encoder's time. At 96 kbps mono, speech loses
nothing measurable: the MP3's signal-to-noise ratio against the mix is 25.7 dB, against 25.3 dB at
LAME's default -q 3."""

_BITRATES = {1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
             2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)}
_RATES = {1: (44100, 48000, 32000), 2: (22050, 24000, 16000), 2.5: (11025, 12000, 8000)}


def ffmpeg() -> str:
    """Debian's ffmpeg when installed, else the one inside the imageio-ffmpeg wheel."""
    import shutil

    found = shutil.which("ffmpeg")
    if found:
        return found
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


@dataclass(frozen=True)
class Block:
    """What a block's MP3 measures, kept beside it in the block cache."""

    frames: int
    samples_per_frame: int
    momentary: tuple[float, ...]
    """Loudness (LUFS) of each 400 ms window, every 100 ms, of the block as decoded."""
    peak: float
    """True peak of the block as decoded, dBTP (4x oversampled, BS.1770)."""
    size: int
    """Bytes of its MP3 frames."""

    @property
    def samples(self) -> int:
        """How many samples a decoder makes of it: its length in the episode."""
        return self.frames * self.samples_per_frame


def chain(gain: float, out_rate: int, limit: float) -> str:
    """The mastering filters. Speech from a neural voice peaks near full scale; a gentle compressor
    brings the peak-to-loudness ratio down so that the target loudness fits under the true-peak
    ceiling without the limiter pumping. The limiter works at the output rate and gives back its
    look-ahead (`latency`), so a block's samples keep their times."""
    return (f"acompressor=threshold=0.1:ratio=4:attack=3:release=80:knee=4,volume={gain:.3f}dB,"
            f"aresample={out_rate},alimiter=limit={limit:.4f}:attack=2:release=60:level=false:latency=1")


def meter(rate: int) -> str:
    """The filters that measure a block as decoded at `rate`: ebur128 for its loudness window by window
    (framelog=info prints them), and for its true peak the method of ITU-R BS.1770 itself: 4x
    oversampling through an interpolating filter of 12 taps per phase, then the sample peak (astats).
    ebur128's own true-peak meter resamples to 192 kHz with a longer filter: the same figure to 0.1 dB
    on our episodes, at four times the cost. The tests check the result with ebur128's meter."""
    oversampled = f"aresample={4 * rate}:filter_size=12:phase_shift=10:cutoff=0.97"
    return (f"asplit[loudness][peak];[peak]{oversampled},astats=measure_overall=Peak_level:measure_perchannel=none,"
            "anullsink;[loudness]ebur128=framelog=info")


@dataclass(frozen=True)
class Branch:
    """Another rendering of a block, made in the ffmpeg run that encodes and measures it, from the block as a
    player decodes its MP3 (the encoder's delay in front, as the MP3's times have it; silence after its last
    frame, for as long as the filters pad it)."""

    filters: str
    """One chain of filters from the decoded block (float samples at the MP3's rate) to what the outputs take."""
    outputs: tuple[tuple[str, ...], ...]
    """Each output's options, its file last; each takes the chain's result."""


@dataclass(frozen=True)
class Encoded:
    """One block as encoded: its MP3 frames and their measures."""

    data: bytes
    block: Block


def encode(ffmpeg: str, pcm: bytes, rate: int, filters: str, out_rate: int, bitrate: int,
           branch: Branch | None = None) -> Encoded:
    """Master, encode and measure one block of 16-bit mono PCM at `rate` (and make `branch` from it as decoded)."""
    source = [ffmpeg, "-hide_banner", "-nostdin", "-nostats", "-f", "s16le", "-ar", str(rate), "-ac", "1", "-i", "pipe:0"]
    output = ["-map", "0:a", "-af", filters, "-ar", str(out_rate), "-ac", "1", "-c:a", "libmp3lame",
              "-b:a", f"{bitrate}k", "-compression_level", LAME_QUALITY, "-map_metadata", "-1",
              "-write_xing", "0", "-id3v2_version", "0", "-f", "mp3", "pipe:1"]
    if decodes_its_output(ffmpeg):
        # The loopback decoder leaves out the encoder's delay, which a player of the file decodes as silence.
        done = _run([*source, *output, "-dec", "0:0", *_measuring("[dec:0]", out_rate, branch, f"adelay={PRIMING}S,")],
                    pcm, "encoding")
        data, report = done.stdout, done.stderr
    else:  # before ffmpeg 7.1: a second ffmpeg decodes what the first encoded
        data = _run([*source, *output], pcm, "encoding").stdout
        report = _run([ffmpeg, "-hide_banner", "-nostdin", "-f", "mp3", "-i", "pipe:0",
                       *_measuring("[0:a]", out_rate, branch, "")], data, "measuring").stderr
    frames, samples_per_frame = count_frames(data)
    return Encoded(data, Block(frames, samples_per_frame, _momentary(report), _peak(report), len(data)))


def _measuring(decoded: str, rate: int, branch: Branch | None, delay: str) -> list[str]:
    """The options that meter the decoded block (`decoded`, a filter graph input) and make `branch` from it."""
    if branch is None:
        return ["-filter_complex", f"{decoded}{meter(rate)}[m]", "-map", "[m]", "-f", "null", "-"]
    count = len(branch.outputs)
    labels = [f"[branch{n}]" for n in range(count)]
    split = f",asplit={count}" if count > 1 else ""
    graph = f"{decoded}aformat=fltp,asplit[a][b];[a]{meter(rate)}[m];[b]{delay}{branch.filters}{split}{''.join(labels)}"
    maps = [option for label, output in zip(labels, branch.outputs) for option in ("-map", label, *output)]
    return ["-filter_complex", graph, "-map", "[m]", "-f", "null", "-", *maps]


def _run(command: list[str], data: bytes, doing: str) -> subprocess.CompletedProcess:
    done = subprocess.run(command, input=data, capture_output=True)
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines() or ["no output"]
        raise AudioError(f"ffmpeg failed {doing} a block of the episode: {said[-1]}")
    done.stderr = done.stderr.decode("utf-8", "replace")
    return done


@functools.cache
def decodes_its_output(ffmpeg: str) -> bool:
    """Whether this ffmpeg has loopback decoders (`-dec`, ffmpeg 7.1): a 50 ms silent encode says."""
    probe = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono",
             "-t", "0.05", "-c:a", "libmp3lame", "-f", "null", "-", "-dec", "0:0", "-filter_complex", "[dec:0]anull[o]",
             "-map", "[o]", "-f", "null", "-"]
    return subprocess.run(probe, capture_output=True).returncode == 0


def _momentary(report: str) -> tuple[float, ...]:
    """ebur128's window loudness for every 100 ms once a whole 400 ms window is in (BS.1770's gating blocks)."""
    values = []
    for t, m in re.findall(r"\bt:\s*([\d.]+)\s.*?\bM:\s*(-?inf|nan|-?[\d.]+)", report):
        if float(t) >= 0.399 and m != "nan":
            values.append(float(m))
    return tuple(values)


def _peak(report: str) -> float:
    found = re.findall(r"Peak level dB:\s*(-?inf|-?[\d.]+)", report)
    if not found:
        raise AudioError("ffmpeg did not report the true peak of a block of the episode")
    return float(found[-1])


def count_frames(data: bytes) -> tuple[int, int]:
    """How many MPEG audio frames `data` is, and the samples in each; AudioError if it is anything else."""
    frames, offset, samples = 0, 0, 0
    while offset < len(data):
        size, per_frame = _frame(data, offset)
        if samples and per_frame != samples:
            raise AudioError("the encoder changed MPEG versions within a block")
        samples, offset, frames = per_frame, offset + size, frames + 1
    if offset != len(data):
        raise AudioError("the encoder's output ends inside a frame")
    return frames, samples or 1152


def _frame(data: bytes, offset: int) -> tuple[int, int]:
    """(bytes, samples) of the Layer III frame whose header is at `offset`."""
    if offset + 4 > len(data):
        raise AudioError("the encoder's output ends inside a frame header")
    header = int.from_bytes(data[offset:offset + 4], "big")
    version = {3: 1, 2: 2, 0: 2.5}.get((header >> 19) & 3)
    if header >> 21 != 0x7FF or version is None or (header >> 17) & 3 != 1:
        raise AudioError(f"the encoder's output is not MPEG Layer III frames (at byte {offset})")
    bitrate = _BITRATES[1 if version == 1 else 2][(header >> 12) & 15] * 1000
    rate = _RATES[version][(header >> 10) & 3] if (header >> 10) & 3 < 3 else 0
    if not bitrate or not rate:
        raise AudioError(f"the encoder wrote a frame with no bitrate or sample rate (at byte {offset})")
    per_frame = 1152 if version == 1 else 576
    return per_frame // 8 * bitrate // rate + ((header >> 9) & 1), per_frame


def info_frame(first: bytes, frames: int, audio_bytes: int) -> bytes:
    """The Info frame LAME puts before constant-bitrate audio, for frames of the kind `first` begins with:
    a silent frame that decoders skip, saying how many frames and bytes follow (apps read the duration
    from it, and mutagen the constant bitrate)."""
    header = bytearray(first[:4])
    header[2] &= ~0x02  # no padding byte
    size, _ = _frame(bytes(header) + bytes(4), 0)
    version = (header[1] >> 3) & 3
    mono = (header[3] >> 6) == 3
    side = (17 if mono else 32) if version == 3 else (9 if mono else 17)
    tag = b"Info" + (3).to_bytes(4, "big") + frames.to_bytes(4, "big") + (audio_bytes + size).to_bytes(4, "big")
    return bytes(header) + bytes(side) + tag + bytes(size - 4 - side - len(tag))


def join(parts: list[tuple[Path, Block]], out: Path) -> int:
    """Write the blocks' frames, end to end, behind one Info frame; the file's size in bytes."""
    if not parts:
        raise AudioError("nothing to join: the episode has no blocks")
    with parts[0][0].open("rb") as handle:
        first = handle.read(4)
    frames = sum(block.frames for _, block in parts)
    with out.open("wb") as handle:
        handle.write(info_frame(first, frames, sum(block.size for _, block in parts)))
        for path, _ in parts:
            handle.write(path.read_bytes())
    return out.stat().st_size


@dataclass
class BlockCache:
    """Encoded blocks on disk (store.Store), keyed by everything that shapes them; and how many this run reused."""

    folder: Path
    reused: int = 0

    @property
    def store(self) -> Store:
        return Store(self.folder, ".mp3")

    def path(self, key: str) -> Path:
        return self.store.path(key)

    def get(self, key: str) -> Block | None:
        """The block's measures if its MP3 is whole, else None."""
        record = self.store.read(key, "MP3 block")
        try:
            return Block(int(record["frames"]), int(record["samples_per_frame"]),
                         tuple(float(m) for m in record["momentary"]), float(record["peak"]), int(record["size"]))
        except (KeyError, TypeError, ValueError):
            return None

    def put(self, key: str, data: bytes, block: Block) -> None:
        self.store.write(key, {"frames": block.frames, "samples_per_frame": block.samples_per_frame,
                               "momentary": list(block.momentary), "peak": block.peak}, data)

    def keys(self) -> set[str]:
        return self.store.keys()

    def prune(self, keep: set[str], dry_run: bool = False) -> int:
        return self.store.prune(keep, dry_run)


def block_key(*parts: object) -> str:
    return hashlib.sha256("\n".join(map(str, ("block 1", *parts))).encode()).hexdigest()

"""The episode for slow connections: a third the size of the MP3, in Opus, made from the MP3's own mastered
blocks, joined into one Ogg stream at their times, and cached per block so that an edit re-encodes only its part.

Why from the MP3's blocks: they are the mastered audio as published, so the Opus rendering says exactly
what the MP3 says, at its loudness, and each block's cache key is the MP3 block's key.

How the blocks join. Opus runs at 48 kHz in 20 ms frames (960 samples) and a fresh encoder starts with its
look-ahead (`pre-skip`, 312 samples with libopus) before the first sample it was given. Each block is
encoded alone, from its MP3 decoded and resampled to 48 kHz, with one frame of silence after it; its
packets decode to `pre-skip` samples of the encoder's own silence, then the block's sound. In the episode's
stream, block i starts at the 20 ms frame nearest its time in the MP3 (B_i, from the MP3's exact sample
counts), so its sound lands within 10 ms of the MP3's, and that error never adds up from block to block:
each block is placed from the MP3's cumulative position, not from the blocks before it. Block i keeps as
many packets as there are frames before block i+1's first one; whatever that drops from its end must be
silence (each block ends in the pause after its segment), or the rendering is refused. One OpusHead
declares the pre-skip once, every page's granule position counts the 48 kHz samples decoded through its
last packet, and the last page's granule trims the stream to the MP3's length exactly.

A block's packets depend only on the MP3 block and the encoder settings, never on where it lands: moving
a block (an edit before it changed length) reuses it. Each is made in the same ffmpeg run that encodes and
meters its MP3 block (`Coder.alongside`, an mp3.Branch), from the samples that run decodes anyway, while the
voices are still speaking; only a block whose MP3 block came from the cache without it is made from the MP3
block's file (`Coder.block`). `verify` checks the whole file, decoded once by ffmpeg, before it may be
published: the same duration as the MP3 within one frame, and loudness within 1 LU.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import struct
import subprocess
import tempfile
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from . import files, mp3
from .store import Store
from .errors import AudioError

log = logging.getLogger(__name__)

RATE = 48_000
"""Opus's own rate: every sample count here is at 48 kHz."""
FRAME = 960
"""Samples of one 20 ms Opus frame."""
SILENCE = 33
"""A 16-bit sample at most this large (-60 dBFS) counts as silence where a join may drop it."""
TYPE = "audio/ogg"
CODECS = "opus"
COMPLEXITY = {"voip": 0, "audio": 10}
"""libopus's complexity (0-10, ffmpeg's -compression_level) for each application, chosen by measurement on #66
(17 minutes at 32 kbps; DNSMOS as `audio-edition check` rates the MP3: 3.32 overall, 4.08 P.808). 'voip'
codes speech in hybrid mode (SILK below 8 kHz, CELT above) at every complexity: at 0 its encoder takes 4.8 CPU
seconds and rates 3.33 / 3.98, the same as 'audio' at 10 (11.8 s, 3.33 / 4.00; 'voip' at 2: 7.4 s, 3.34 / 3.98).
'audio' below 7 leaves out its speech analysis and codes speech in CELT alone: 36.5 kbps for 32 asked (at 0:
31 kbps, but 3.25 / 3.95), so 'audio' keeps 10."""
MUSIC = "audio"
"""The application of the intro's and outro's blocks, whatever the speech's: 'voip' codes music less faithfully
(log-spectral distance from the MP3 over the intro 2.3 dB, against 1.0 dB with 'audio'), and they are seconds long."""
_BIT_REVERSED = bytes(int(f"{n:08b}"[::-1], 2) for n in range(256))


@dataclass(frozen=True)
class Encoding:
    """How the Opus rendering is encoded (the [alternate] settings)."""

    bitrate: int = 32
    """kbps, variable; 24 to 32 keeps speech clear at a third of the MP3's size."""
    application: str = "voip"
    """libopus's tuning for speech: 'voip' (speech intelligibility) or 'audio' (faithful, music included)."""


@dataclass(frozen=True)
class Source:
    """One MP3 block as the join needs it: its cache key, its file, and its length at the MP3's rate."""

    key: str
    path: Path
    samples: int
    music: bool = False
    """Whether it is the intro or the outro (encoded for music: MUSIC)."""


@dataclass(frozen=True)
class Block:
    """An encoded Opus block, as the cache keeps it beside its Ogg file."""

    packets: int
    pre_skip: int
    length: int
    """Samples of the block's sound (before the frame of silence encoded after it)."""
    silent_tail: int
    """Samples at the end of its sound that are silence: what a join may drop."""


@dataclass(frozen=True)
class Details:
    """What the Opus file says about itself: OpusTags comments (title, show ...)."""

    title: str = ""
    album: str = ""
    artist: str = ""
    date: str = ""
    number: int | None = None


@dataclass(frozen=True)
class Rendered:
    """The Opus file as written and decoded back."""

    path: Path
    size: int
    samples: int
    """Its length at 48 kHz, as ffmpeg decodes it."""
    loudness: float
    """Integrated loudness as ffmpeg's ebur128 measures the decoded file, LUFS."""
    blocks: tuple[str, ...]
    encoded: int
    reused: int
    shift: float
    """The largest distance (seconds) between a block's place in the Opus file and in the MP3."""

    @property
    def duration(self) -> float:
        return self.samples / RATE

    @property
    def bitrate(self) -> int:
        """Average bits per second of the whole file."""
        return round(self.size * 8 / self.duration) if self.samples else 0


def render(sources: list[Source], mp3_rate: int, out: Path, coder: "Coder", details: Details,
           workers: int = 0) -> Rendered:
    """Find (or make) every block, join them into `out` at the MP3's times, and decode it once to measure it."""
    if not sources:
        raise AudioError("nothing to render in Opus: the episode has no blocks")
    with ThreadPoolExecutor(workers if workers > 0 else (os.cpu_count() or 1), thread_name_prefix="opus") as pool:
        blocks = list(pool.map(coder.block, sources))
    starts = placement([source.samples for source in sources], mp3_rate)
    shift = join([coder.cache.path(coder.key(s)) for s in sources], blocks, starts, out, details)
    samples, loudness = measure(coder.ffmpeg, out)
    return Rendered(out, out.stat().st_size, samples, loudness, tuple(coder.key(s) for s in sources),
                    coder.encoded, coder.reused, shift)


def verify(rendered: Rendered, mp3_seconds: float, mp3_loudness: float) -> None:
    """AudioError unless the Opus file lasts as long as the MP3 (within one frame) and is as loud (within 1 LU)."""
    gap = abs(rendered.duration - mp3_seconds)
    if gap > FRAME / RATE:
        raise AudioError(f"the Opus rendering lasts {rendered.duration:.3f} s where the MP3 lasts {mp3_seconds:.3f} s")
    if not abs(rendered.loudness - mp3_loudness) <= 1.0:
        raise AudioError(f"the Opus rendering measures {rendered.loudness:.1f} LUFS where the MP3 measures "
                         f"{mp3_loudness:.1f} LUFS")


def placement(lengths: list[int], mp3_rate: int) -> list[int]:
    """Where each block starts in the MP3 (exact sample counts), at 48 kHz: B_i, and last the total length."""
    positions = np.concatenate([[0], np.cumsum(np.asarray(lengths, dtype=np.int64))])
    return [(int(p) * RATE * 2 + mp3_rate) // (2 * mp3_rate) for p in positions]  # rounded, in integers


class Coder:
    """Finds each Opus block in the cache or makes it from its MP3 block: in the ffmpeg run that encodes the MP3
    block (`alongside`), or from the MP3 block's file (`block`); counts which."""

    def __init__(self, ffmpeg: str, encoding: Encoding, cache: "OpusCache") -> None:
        self.ffmpeg, self.encoding, self.cache = ffmpeg, encoding, cache
        stat = os.stat(ffmpeg)
        self.identity = f"{ffmpeg}:{stat.st_size}:{stat.st_mtime_ns}"
        self.encoded = self.reused = 0
        self.made: set[str] = set()
        """The blocks this coder made (counted once, as encoded, however often they are asked for)."""
        self._counting = threading.Lock()

    def key(self, source: Source) -> str:
        return self.key_of(source.key, source.music)

    def key_of(self, mp3_key: str, music: bool) -> str:
        """An Opus block's cache key: its MP3 block's and the encoder's settings for it."""
        e, application = self.encoding, self._application(music)
        parts = ("opus block 2", mp3_key, e.bitrate, application, COMPLEXITY[application], FRAME, SILENCE,
                 self.identity)
        return hashlib.sha256("\n".join(map(str, parts)).encode()).hexdigest()

    def block(self, source: Source) -> Block:
        """The block from the cache, else made from the MP3 block's file (decoded, resampled, encoded)."""
        key = self.key(source)
        found = self.cache.get(key)
        if found:
            self._count(reused=0 if key in self.made else 1)
            return found
        sound = _decode(self.ffmpeg, source.path)
        padded = np.concatenate([sound, np.zeros(FRAME, dtype=np.int16)])
        command = [self.ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "s16le", "-ar", str(RATE),
                   "-ac", "1", "-i", "pipe:0", *self._options(source.music), "pipe:1"]
        data = _run(command, padded.tobytes(), "encoding").stdout
        return self.keep(key, data, sound)

    @contextlib.contextmanager
    def alongside(self, mp3_key: str, music: bool, mp3_rate: int) -> Iterator["Alongside"]:
        """What the encoding of an MP3 block needs to make its Opus block in the same run (mp3.encode's branch,
        None if the cache has the Opus block); `Alongside.keep` stores what it made."""
        key = self.key_of(mp3_key, music)
        if self.cache.get(key):
            yield Alongside(self, key, None, Path(), mp3_rate)
            return
        self.cache.folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.cache.folder, prefix=".alongside-") as tmp:
            ogg, pcm = Path(tmp) / "block.ogg", Path(tmp) / "block.pcm"
            # Enough silence after the MP3's last frame (at most one MP3 frame away) for one Opus frame more.
            filters = f"apad=pad_len={mp3_rate // 20},aresample={RATE},aformat=s16"
            branch = mp3.Branch(filters, ((*self._options(music), str(ogg)), ("-f", "s16le", str(pcm))))
            yield Alongside(self, key, branch, Path(tmp), mp3_rate)

    def keep(self, key: str, data: bytes, sound: np.ndarray) -> Block:
        """Store an encoded block, made from `sound` (its MP3 block decoded at 48 kHz) and a frame of silence."""
        head, packets = read_ogg(data)
        block = Block(len(packets), pre_skip(head), len(sound), _silent_tail(sound))
        self.cache.put(key, data, block)
        with self._counting:
            self.made.add(key)
        self._count(encoded=1)
        return block

    def _count(self, encoded: int = 0, reused: int = 0) -> None:
        with self._counting:
            self.encoded += encoded
            self.reused += reused

    def _application(self, music: bool) -> str:
        return MUSIC if music else self.encoding.application

    def _options(self, music: bool) -> list[str]:
        """libopus's options for a block, up to its output file."""
        application = self._application(music)
        return ["-c:a", "libopus", "-b:a", f"{self.encoding.bitrate}k", "-vbr", "on", "-application", application,
                "-compression_level", str(COMPLEXITY[application]), "-frame_duration", "20", "-map_metadata", "-1",
                "-f", "ogg"]


@dataclass(frozen=True)
class Alongside:
    """One Opus block being made in its MP3 block's ffmpeg run (`branch`, None if the cache already has it)."""

    coder: Coder
    key: str
    branch: mp3.Branch | None
    folder: Path
    mp3_rate: int

    def keep(self, mp3_samples: int) -> None:
        """Store the Opus block the run made, once the MP3 block (`mp3_samples` long, as decoded) is encoded."""
        if self.branch is None:
            return
        length = -(-mp3_samples * RATE // self.mp3_rate)  # as many samples as the resampler makes of the MP3 block
        sound = np.fromfile(self.folder / "block.pcm", dtype="<i2")[:length]
        self.coder.keep(self.key, (self.folder / "block.ogg").read_bytes(), sound)


def _decode(ffmpeg: str, mp3: Path) -> np.ndarray:
    """An MP3 block's samples at 48 kHz: every frame decoded (the blocks carry no gapless trimming)."""
    done = _run([ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "mp3", "-i", str(mp3),
                 "-af", f"aresample={RATE}", "-ac", "1", "-f", "s16le", "pipe:1"], b"", "decoding")
    return np.frombuffer(done.stdout, dtype="<i2")


def _run(command: list[str], data: bytes, doing: str) -> subprocess.CompletedProcess:
    done = subprocess.run(command, input=data, capture_output=True)
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines() or ["no output"]
        raise AudioError(f"ffmpeg failed {doing} a block of the Opus rendering: {said[-1]}")
    return done


def _silent_tail(sound: np.ndarray) -> int:
    loud = np.flatnonzero(np.abs(sound.astype(np.int32)) > SILENCE)
    return len(sound) - (int(loud[-1]) + 1 if len(loud) else 0)


def pre_skip(head: bytes) -> int:
    if not head.startswith(b"OpusHead") or len(head) < 19:
        raise AudioError("the Opus encoder's output does not start with an OpusHead")
    return struct.unpack_from("<H", head, 10)[0]


# --- Ogg -------------------------------------------------------------------------------------------


def read_ogg(data: bytes) -> tuple[bytes, list[bytes]]:
    """The OpusHead and the audio packets of a one-stream Ogg Opus file (OpusTags left out)."""
    packets, partial, at = [], b"", 0
    while at < len(data):
        if data[at:at + 4] != b"OggS" or at + 27 > len(data):
            raise AudioError(f"the Opus encoder's output is not Ogg pages (at byte {at})")
        count = data[at + 26]
        lacing = data[at + 27:at + 27 + count]
        body = at + 27 + count
        for size in lacing:
            partial += data[body:body + size]
            body += size
            if size < 255:
                packets.append(partial)
                partial = b""
        at = body
    if len(packets) < 2:
        raise AudioError("the Opus encoder's output has no headers")
    return packets[0], packets[2:]


def join(paths: list[Path], blocks: list[Block], starts: list[int], out: Path, details: Details) -> float:
    """Write the blocks' packets as one Ogg Opus stream, each block from the frame nearest its start (see the
    module's docstring); the largest shift of a block from its MP3 time, in seconds."""
    skip = blocks[0].pre_skip
    frames = [(start + FRAME // 2) // FRAME for start in starts[:-1]]
    total = starts[-1]
    frames.append(-(-(total + skip) // FRAME))  # enough frames for the whole length after the pre-skip
    serial = zlib.crc32(paths[0].name.encode())
    pages = [_page(serial, 0, 0, 2, [_head(skip)]), _page(serial, 1, 0, 0, [_comments(details)])]
    packets: list[bytes] = []
    for n, (path, block) in enumerate(zip(paths, blocks)):
        if block.pre_skip != skip:
            raise AudioError("the Opus blocks were encoded with different look-aheads; clear the Opus cache")
        keep = frames[n + 1] - frames[n]
        dropped = max(0, block.length - (keep * FRAME - skip))
        if dropped > block.silent_tail:
            raise AudioError(f"block {n + 1} of the Opus rendering would lose {dropped * 1000 // RATE} ms of sound "
                             "where it joins the next one")
        if keep > block.packets:
            raise AudioError(f"block {n + 1} of the Opus rendering is {keep - block.packets} frame(s) short of "
                             "its place; clear the Opus cache")
        packets += read_ogg(path.read_bytes())[1][:keep]
    for page in _pages(packets, skip + total):
        pages.append(_page(serial, len(pages), *page))
    files.atomic_write(out, b"".join(pages), durable=False)
    return max(abs(f * FRAME - s) for f, s in zip(frames, starts[:-1])) / RATE


def _pages(packets: list[bytes], end: int) -> list[tuple[int, int, list[bytes]]]:
    """(granule, flags, packets) of each audio page: about a second each, the last one ending the stream at `end`."""
    pages, page, lacing = [], [], 0
    for n, packet in enumerate(packets, 1):
        need = len(packet) // 255 + 1
        if page and (lacing + need > 255 or len(page) == 50):
            pages.append([(n - 1) * FRAME, 0, page])
            page, lacing = [], 0
        page.append(packet)
        lacing += need
    pages.append([end, 4, page])
    return [tuple(p) for p in pages]


def _page(serial: int, sequence: int, granule: int, flags: int, packets: list[bytes]) -> bytes:
    lacing = b"".join(bytes([255] * (len(p) // 255) + [len(p) % 255]) for p in packets)
    header = (b"OggS\x00" + bytes([flags]) + struct.pack("<qIII", granule, serial, sequence, 0)
              + bytes([len(lacing)]) + lacing)
    page = header + b"".join(packets)
    return page[:22] + struct.pack("<I", ogg_crc(page)) + page[26:]


def ogg_crc(data: bytes) -> int:
    """Ogg's CRC-32 (polynomial 0x04c11db7, unreflected, no initial or final inversion), computed by zlib's
    reflected CRC-32 on bit-reversed bytes: the same polynomial read the other way."""
    raw = ~zlib.crc32(data.translate(_BIT_REVERSED), 0xFFFFFFFF) & 0xFFFFFFFF
    return int(f"{raw:032b}"[::-1], 2)


def _head(skip: int) -> bytes:
    """OpusHead: version 1, mono, the pre-skip, 44.1 kHz as the original rate (information only), no gain."""
    return b"OpusHead" + struct.pack("<BBHIhB", 1, 1, skip, 44_100, 0, 0)


def _comments(details: Details) -> bytes:
    fields = {"TITLE": details.title, "ALBUM": details.album, "ARTIST": details.artist, "DATE": details.date,
              "TRACKNUMBER": "" if details.number is None else str(details.number)}
    comments = [f"{name}={value}".encode() for name, value in fields.items() if value]
    vendor = b"audio-edition"
    body = struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", len(comments))
    return b"OpusTags" + body + b"".join(struct.pack("<I", len(c)) + c for c in comments)


# --- measuring -------------------------------------------------------------------------------------


def measure(ffmpeg: str, path: Path) -> tuple[int, float]:
    """Samples (48 kHz) and integrated loudness (LUFS) of an Opus file, as ffmpeg decodes it: one decode, metered
    by ebur128; its length is where the decoded audio ends, which ffmpeg's progress report gives in microseconds
    (a 48 kHz sample is 20.8 of them). Counting the samples with astats instead costs a third more."""
    done = subprocess.run([ffmpeg, "-hide_banner", "-nostdin", "-nostats", "-progress", "pipe:1", "-i", str(path),
                           "-af", "ebur128=framelog=verbose", "-f", "null", "-"], capture_output=True, text=True)
    if done.returncode != 0:
        said = done.stderr.strip().splitlines()[-1:] or ["no output"]
        raise AudioError(f"ffmpeg cannot decode the Opus rendering: {said[0]}")
    ends = re.findall(r"^out_time_us=(\d+)$", done.stdout, re.M)
    loudness = re.findall(r"I:\s+(-?[\d.]+|-inf) LUFS", done.stderr)
    if not ends or not loudness:
        raise AudioError("ffmpeg did not report the length and loudness of the Opus rendering")
    return round(int(ends[-1]) * RATE / 1_000_000), float(loudness[-1])


# --- the cache -------------------------------------------------------------------------------------


@dataclass
class OpusCache:
    """Encoded Opus blocks on disk (<key>.ogg with <key>.json beside it, store.Store), keyed by the MP3 block and
    the encoder."""

    folder: Path

    @property
    def store(self) -> Store:
        return Store(self.folder, ".ogg")

    def path(self, key: str) -> Path:
        return self.store.path(key)

    def get(self, key: str) -> Block | None:
        record = self.store.read(key, "Opus block")
        try:
            return Block(int(record["packets"]), int(record["pre_skip"]), int(record["length"]),
                         int(record["silent_tail"]))
        except (KeyError, TypeError, ValueError):
            return None

    def put(self, key: str, data: bytes, block: Block) -> None:
        self.store.write(key, {"packets": block.packets, "pre_skip": block.pre_skip, "length": block.length,
                               "silent_tail": block.silent_tail}, data)

    def keys(self) -> set[str]:
        return self.store.keys()

    def prune(self, keep: set[str], dry_run: bool = False) -> int:
        return self.store.prune(keep, dry_run)

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
a block (an edit before it changed length) reuses it. `verify` decodes the whole file with ffmpeg before it
may be published: the same duration as the MP3 within one frame, and loudness within 1 LU.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import struct
import subprocess
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import files
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
_BIT_REVERSED = bytes(int(f"{n:08b}"[::-1], 2) for n in range(256))


@dataclass(frozen=True)
class Encoding:
    """How the Opus rendering is encoded (the [alternate] settings)."""

    bitrate: int = 32
    """kbps, variable; 24 to 32 keeps speech clear at a third of the MP3's size."""
    application: str = "audio"
    """libopus's tuning: 'audio' (faithful, music included) or 'voip' (speech intelligibility)."""


@dataclass(frozen=True)
class Source:
    """One MP3 block as the join needs it: its cache key, its file, and its length at the MP3's rate."""

    key: str
    path: Path
    samples: int


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


def render(sources: list[Source], mp3_rate: int, out: Path, encoding: Encoding, cache: "OpusCache",
           details: Details, ffmpeg: str, workers: int = 0) -> Rendered:
    """Encode (or reuse) every block, join them into `out` at the MP3's times, and decode it back to measure it."""
    if not sources:
        raise AudioError("nothing to render in Opus: the episode has no blocks")
    coder = _Coder(ffmpeg, encoding, cache)
    with ThreadPoolExecutor(workers if workers > 0 else (os.cpu_count() or 1), thread_name_prefix="opus") as pool:
        blocks = list(pool.map(coder.block, sources))
    starts = placement([source.samples for source in sources], mp3_rate)
    shift = join([cache.path(coder.key(s)) for s in sources], blocks, starts, out, details)
    samples, loudness = measure(ffmpeg, out)
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


class _Coder:
    """Finds each block in the cache or encodes it; counts which."""

    def __init__(self, ffmpeg: str, encoding: Encoding, cache: "OpusCache") -> None:
        self.ffmpeg, self.encoding, self.cache = ffmpeg, encoding, cache
        stat = os.stat(ffmpeg)
        self.identity = f"{ffmpeg}:{stat.st_size}:{stat.st_mtime_ns}"
        self.encoded = self.reused = 0
        self._counting = threading.Lock()

    def key(self, source: Source) -> str:
        e = self.encoding
        parts = ("opus block 1", source.key, e.bitrate, e.application, FRAME, SILENCE, self.identity)
        return hashlib.sha256("\n".join(map(str, parts)).encode()).hexdigest()

    def block(self, source: Source) -> Block:
        key = self.key(source)
        found = self.cache.get(key)
        if found:
            with self._counting:
                self.reused += 1
            return found
        sound = _decode(self.ffmpeg, source.path)
        data = _encode(self.ffmpeg, np.concatenate([sound, np.zeros(FRAME, dtype=np.int16)]), self.encoding)
        head, packets = read_ogg(data)
        block = Block(len(packets), pre_skip(head), len(sound), _silent_tail(sound))
        self.cache.put(key, data, block)
        with self._counting:
            self.encoded += 1
        return block


def _decode(ffmpeg: str, mp3: Path) -> np.ndarray:
    """An MP3 block's samples at 48 kHz: every frame decoded (the blocks carry no gapless trimming)."""
    done = _run([ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "mp3", "-i", str(mp3),
                 "-af", f"aresample={RATE}", "-ac", "1", "-f", "s16le", "pipe:1"], b"", "decoding")
    return np.frombuffer(done.stdout, dtype="<i2")


def _encode(ffmpeg: str, sound: np.ndarray, encoding: Encoding) -> bytes:
    command = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "s16le", "-ar", str(RATE), "-ac", "1",
               "-i", "pipe:0", "-c:a", "libopus", "-b:a", f"{encoding.bitrate}k", "-vbr", "on",
               "-application", encoding.application, "-frame_duration", "20", "-map_metadata", "-1", "-f", "ogg",
               "pipe:1"]
    return _run(command, sound.astype("<i2").tobytes(), "encoding").stdout


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
    """Samples (48 kHz) and integrated loudness (LUFS) of an Opus file, as ffmpeg decodes it."""
    chain = "ebur128=framelog=verbose,astats=measure_overall=Number_of_samples:measure_perchannel=none"
    done = subprocess.run([ffmpeg, "-hide_banner", "-nostdin", "-i", str(path), "-af", chain, "-f", "null", "-"],
                          capture_output=True, text=True)
    if done.returncode != 0:
        said = done.stderr.strip().splitlines()[-1:] or ["no output"]
        raise AudioError(f"ffmpeg cannot decode the Opus rendering: {said[0]}")
    samples = re.findall(r"Number of samples:\s*(\d+)", done.stderr)
    loudness = re.findall(r"I:\s+(-?[\d.]+|-inf) LUFS", done.stderr)
    if not samples or not loudness:
        raise AudioError("ffmpeg did not report the length and loudness of the Opus rendering")
    return int(samples[-1]), float(loudness[-1])


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

"""Files written whole or not at all, and files compared by their bytes: the project's one way to do each.

`Writer` is the one writer of public/: under one root, atomically, never the same path twice in a run
(Pelican's Writer, as ../shared/STYLE.md describes it).
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from .errors import PublishError

log = logging.getLogger(__name__)


def atomic_write(path: Path, data: bytes, durable: bool = True) -> None:
    """Write beside the target, then rename: readers see the old file or the new one, never half of one.
    `durable` also fsyncs first (what is published, the manifests); a cache entry needs no fsync, since one
    lost to a power cut is simply made again."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o644 & ~_umask())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def digest(path: Path, algorithm: str = "sha256") -> str:
    """The hex digest of a regular file's bytes (md5 where S3 asks for it); a link is not followed."""
    h = hashlib.new(algorithm, usedforsecurity=False)
    with open_regular(path) as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fingerprint(path: Path) -> str:
    """A file's size and digest, where a cache key names a file it depends on (a voice model); a link is followed."""
    return f"{path.stat().st_size}:{digest(path.resolve())[:16]}"


def same(source: Path, dest: Path) -> bool:
    """Whether `dest` is already a regular file with `source`'s bytes (a link at `dest` is not: replace it)."""
    try:
        there = dest.lstat()
    except FileNotFoundError:
        return False
    if not stat.S_ISREG(there.st_mode) or there.st_size != source.lstat().st_size:
        return False
    return digest(source) == digest(dest)


def open_regular(path: Path) -> BinaryIO:
    """`path` opened for reading if it is a regular file itself, not a link to one: checked as it is
    opened, so a file swapped for a link after it was listed is not followed either."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)  # a FIFO must not block
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, "not a regular file", str(path))
    return os.fdopen(fd, "rb")


@dataclass
class Writer:
    """Writes under one root only, atomically, and never the same path twice in one run."""

    root: Path
    written: set[Path] = field(default_factory=set)

    def path(self, relative: str) -> Path:
        target = (self.root / relative).resolve()
        if not target.is_relative_to(self.root.resolve()):
            raise PublishError(f"refusing to write {relative}: outside {self.root}")
        if target in self.written:
            raise PublishError(f"refusing to write {relative} twice in one run")
        self.written.add(target)
        return target

    def write(self, relative: str, data: bytes) -> Path:
        target = self.path(relative)
        atomic_write(target, data)
        return target

    def copy(self, source: Path, relative: str) -> Path:
        target = self.path(relative)
        if same(source, target):
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        shutil.copyfile(source, tmp)
        tmp.replace(target)
        return target


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current

"""The one lock that every run writing episodes/ or public/ holds: the scheduled job and the editor never overlap.

It is an flock on an open file (episodes/.watch/lock), which the kernel drops when its holder ends,
however it ends, so it is never stale. The file holds the holder's pid and start, for the message
another run prints and for `status`.
"""

from __future__ import annotations

import fcntl
import logging
import os
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from .errors import EditionError

log = logging.getLogger(__name__)

NAME = "lock"


class Busy(EditionError):
    """Another run holds the lock; this one leaves the work to it."""


@contextmanager
def hold(folder: Path, wait: bool = False) -> Iterator[None]:
    """Hold the lock in `folder` for the block: the job leaves at once if it is taken (`Busy`); the
    editor's commands (`wait`) wait for it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            who = _read(fd) or "starting"
            if not wait:
                raise Busy(f"another run ({who}) holds {path}; this run leaves the work to it") from None
            log.info("waiting for another run (%s) to finish", who)
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, since {datetime.now(timezone.utc):%Y-%m-%d %H:%M:%S} UTC\n".encode(), 0)
        yield
    finally:
        os.close(fd)


def holder(folder: Path) -> str | None:
    """Who holds the lock right now (pid and since when), or None: a run that died holds nothing."""
    path = folder / NAME
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read(fd) or "another run"
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _read(fd: int) -> str:
    return os.pread(fd, 200, 0).decode("utf-8", "replace").strip()

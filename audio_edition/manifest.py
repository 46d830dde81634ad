"""episodes/<slug>/episode.json: the record of a built episode, from which the feed is always regenerated."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import tempfile
from datetime import datetime
from pathlib import Path

from .errors import PublishError
from .model import Episode

log = logging.getLogger(__name__)

NAME = "episode.json"


def slug(number: int) -> str:
    """Safe, ASCII, sortable: the issue number is the only thing from the newsletter in a file name."""
    return f"an-{int(number):03d}"


def write(folder: Path, episode: Episode) -> None:
    data = dataclasses.asdict(episode)
    data["published"] = episode.published.isoformat()
    atomic_write(folder / NAME, (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode())


def read(folder: Path) -> Episode:
    path = folder / NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        data["published"] = datetime.fromisoformat(data["published"])
        return Episode(**data)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise PublishError(f"{path} is not a readable episode manifest ({exc})") from None


def all_episodes(episodes_dir: Path, strict: bool = False) -> list[tuple[Path, Episode]]:
    """Every built episode, oldest first. A damaged manifest is an error when publishing (`strict`:
    the feed would silently lose an episode) and otherwise reported and left out."""
    found = []
    for path in sorted(episodes_dir.glob(f"*/{NAME}")):
        try:
            found.append((path.parent, read(path.parent)))
        except PublishError as exc:
            if strict:
                raise PublishError(f"{exc}; rebuild that issue or remove its folder, then publish again") from None
            log.error("%s", exc)
    return sorted(found, key=lambda pair: pair[1].number)


def atomic_write(path: Path, data: bytes) -> None:
    """Write beside the target, fsync, rename: readers see the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o644 & ~_umask())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current

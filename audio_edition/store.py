"""Cache folders of keyed entries, as the speech, MP3-block and Opus-block caches keep them: one way for all three.

An entry is `<key[:2]>/<key><suffix>` (the payload) with `<key>.json` beside it (what the payload is,
and its size). The JSON is written first and the payload last, each by rename (files.atomic_write), so
an entry counts only once its payload is whole. Nothing is fsynced: an entry lost to a power cut is
simply made again.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .files import atomic_write

log = logging.getLogger(__name__)


@dataclass
class Store:
    """A cache folder whose payloads end in `suffix`."""

    folder: Path
    suffix: str

    def path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}{self.suffix}"

    def read(self, key: str, what: str = "cache entry") -> dict[str, Any] | None:
        """An entry's record, if its payload is whole (its size as recorded); None if it is missing, and a
        warning too if it is damaged (it is then made again)."""
        path = self.path(key)
        try:
            record = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
            if "size" in record and path.stat().st_size != int(record["size"]):  # speech entries before 0.2 had none
                raise ValueError(f"{path.stat().st_size} bytes where {record['size']} were written")
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("ignoring a damaged %s %s (%s)", what, path.name, exc)
            return None
        return record

    def write(self, key: str, record: dict[str, Any], payload: bytes) -> None:
        """The record first (with the payload's size), the payload last: the entry counts once it is whole."""
        path = self.path(key)
        atomic_write(path.with_suffix(".json"), json.dumps({**record, "size": len(payload)}).encode(), durable=False)
        atomic_write(path, payload, durable=False)

    def keys(self) -> set[str]:
        return {path.stem for path in self.folder.glob(f"*/*{self.suffix}")}

    def prune(self, keep: set[str], dry_run: bool = False) -> int:
        """Delete every entry not in `keep`, and what interrupted writes left; returns how many entries go."""
        stale = time.time() - 3600  # a younger .tmp may be a write in progress
        doomed = [
            path for path in sorted(self.folder.glob("*/*"))
            if path.suffix in (self.suffix, ".json") and path.stem not in keep
            or path.suffix == ".tmp" and path.stat().st_mtime < stale
        ]
        removed = sum(1 for path in doomed if path.suffix == self.suffix)
        if dry_run:
            return removed
        for path in doomed:
            path.unlink(missing_ok=True)
        for sub in self.folder.glob("*/"):
            if not any(sub.iterdir()):
                sub.rmdir()
        return removed

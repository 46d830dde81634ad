"""Cache folders of keyed entries, as the speech cache and the block cache keep them.

An entry is `<key[:2]>/<key><suffix>` (the payload) with `<key>.json` beside it. The JSON is written
first and the payload last, each by rename (files.atomic_write), so an entry counts only once its payload
is whole. Nothing is fsynced: an entry lost to a power cut is simply made again.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

log = logging.getLogger(__name__)


def keys(folder: Path, suffix: str) -> set[str]:
    return {path.stem for path in folder.glob(f"*/*{suffix}")}


def prune(folder: Path, keep: set[str], suffix: str, dry_run: bool = False) -> int:
    """Delete every entry not in `keep`, and what interrupted writes left; returns how many entries go."""
    stale = time.time() - 3600  # a younger .tmp may be a write in progress
    doomed = [
        path for path in sorted(folder.glob("*/*"))
        if path.suffix in (suffix, ".json") and path.stem not in keep
        or path.suffix == ".tmp" and path.stat().st_mtime < stale
    ]
    removed = sum(1 for path in doomed if path.suffix == suffix)
    if dry_run:
        return removed
    for path in doomed:
        path.unlink(missing_ok=True)
    for sub in folder.glob("*/"):
        if not any(sub.iterdir()):
            sub.rmdir()
    return removed

"""The scheduled job's memory between runs (episodes/.watch/state.json): it only saves work, and may be deleted.

What is published is decided by the episode manifests, never by this file: losing it costs one
full fetch of the feed and a retry of the issues it had refused, nothing more.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from .files import atomic_write
from .settings import Settings

log = logging.getLogger(__name__)

FOLDER = ".watch"
"""Under episodes/: the job's state, the feed as last fetched (feed.body), the pings and the lock."""
NAME = "state.json"
PINGS = "pings.json"
"""What each service pinged after a release was last told (ping.py); written by every release, job or editor's."""


@dataclass(frozen=True)
class Refusal:
    """An issue refused for its content; retried only when the text, the limits or the program change."""

    source_hash: str
    fingerprint: str
    reason: str


@dataclass(frozen=True)
class State:
    feed: str = ""
    """The feed URL the validators and the saved body belong to."""
    etag: str = ""
    last_modified: str = ""
    unpublished: bool = False
    """Set before building or publishing, cleared once public/ and the host have it all: a run killed or
    failed in between is finished by the next one."""
    refused: dict[int, Refusal] = field(default_factory=dict)
    seen: dict[int, str] = field(default_factory=dict)
    """Every issue the feed listed (number -> title), for `status`."""
    failed: dict[int, str] = field(default_factory=dict)
    """Why an issue's last build failed; cleared when it builds."""
    building: int | None = None
    """The issue being built; if no run holds the lock, that build was interrupted."""
    last_run: dict = field(default_factory=dict)
    """When the last run started, how long it took, and what it did (its summary line)."""


def folder(settings: Settings) -> Path:
    """Where the job keeps its state, its last feed and the lock."""
    return settings.paths.episodes / FOLDER


def load(where: Path) -> State:
    """The state saved in `where`; a missing or damaged file is a fresh start (with a warning if damaged)."""
    path = where / NAME
    if not path.exists():
        return State()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        refused = {int(k): Refusal(**v) for k, v in data.pop("refused", {}).items()}
        seen = {int(k): str(v) for k, v in data.pop("seen", {}).items()}
        failed = {int(k): str(v) for k, v in data.pop("failed", {}).items()}
        return State(**data, refused=refused, seen=seen, failed=failed)
    except (OSError, ValueError, TypeError, AttributeError) as exc:
        log.warning("ignoring a damaged %s (%s); it only saves work", path, exc)
        return State()


def save(where: Path, state: State) -> None:
    data = dataclasses.asdict(state)
    for name in ("refused", "seen", "failed"):
        data[name] = {str(k): v for k, v in sorted(data[name].items())}
    atomic_write(where / NAME, (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode())


@dataclass(frozen=True)
class PingRecord:
    """What one service (a WebSub hub, the Podcast Index) was last told about the feed, for `status`."""

    service: str
    """How logs and `status` name it: 'the WebSub hub at pubsubhubbub.appspot.com'."""
    feed: str = ""
    """The digest of the feed it was last told about: a release that leaves the feed as it is pings no one."""
    succeeded: str = ""
    """When it last accepted a ping, as an ISO 8601 UTC time."""
    tried: str = ""
    problem: str = ""
    """Why the last try failed; empty when it succeeded."""


def load_pings(where: Path) -> dict[str, PingRecord]:
    """The pings saved in `where`, by service; a missing or damaged file is none (the next release pings again)."""
    path = where / PINGS
    if not path.exists():
        return {}
    try:
        return {str(k): PingRecord(**v) for k, v in json.loads(path.read_text(encoding="utf-8")).items()}
    except (OSError, ValueError, TypeError, AttributeError) as exc:
        log.warning("ignoring a damaged %s (%s); the next release pings again", path, exc)
        return {}


def save_pings(where: Path, pings: dict[str, PingRecord]) -> None:
    data = {key: dataclasses.asdict(record) for key, record in sorted(pings.items())}
    atomic_write(where / PINGS, (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode())

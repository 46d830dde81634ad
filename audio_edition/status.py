"""`audio-edition status`: what the editor needs at a glance, read from the job's state and the manifests.

Nothing here fetches or builds: the issues are those the last watch run saw in the newsletter feed
and those built, each in one of the states an editor acts on.
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from . import corrections, manifest
from .model import Episode
from .settings import Settings
from .watch import STATE_DIR, State, load_state, published_guids


@dataclass(frozen=True)
class Line:
    number: int
    state: str
    title: str
    note: str = ""


def report(settings: Settings) -> str:
    folder = settings.paths.episodes / STATE_DIR
    state = load_state(folder)
    built = {episode.number: (path, episode) for path, episode in manifest.all_episodes(settings.paths.episodes)}
    live = published_guids(settings.paths.public / "feed.xml")
    lines = [issue_line(n, state, built.get(n), live, _holder(folder)) for n in sorted(set(state.seen) | set(built), reverse=True)]
    mode = settings.watch.publish
    out = [f"Publishing: {mode}" + (" (new issues wait for `make publish ISSUE=N`)" if mode == "review" else
                                     " (the scheduled job publishes what it builds)"),
           _last_run(state), ""]
    if lines:
        width = max(len(line.state) for line in lines)
        out += [f"#{line.number:<5} {line.state:<{width}}  {line.title}" + (f"\n       {line.note}" if line.note else "")
                for line in lines]
    else:
        out.append("No issue seen or built yet: run `make episode` or `audio-edition watch`.")
    pending = [text for n in sorted(built, reverse=True) if (text := pending_corrections(*built[n]))]
    out += ["", "Corrections:"] + (pending or ["  none waiting to be built"])
    return "\n".join(out)


def issue_line(number: int, state: State, built: tuple[Path, Episode] | None, live: set[str], holder: str | None) -> Line:
    """One issue's state, in the order an editor cares: in progress, failed, waiting, published, new."""
    title = built[1].title if built else state.seen.get(number, "")
    if state.building == number:
        if holder:
            return Line(number, "building", title, f"by {holder}")
        return Line(number, "interrupted", title, "a build stopped part-way; the next watch run builds it again")
    if number in state.refused:
        return Line(number, "refused", title, state.refused[number].reason)
    if built is None:
        return Line(number, "failed", title, state.failed[number]) if number in state.failed else Line(number, "new", title)
    episode = built[1]
    if episode.waiting:
        line = Line(number, "waiting for review", title, f"listen, then `make publish ISSUE={number}`")
    elif episode.guid in live:
        line = Line(number, "published", title)
    else:
        line = Line(number, "built, not published", title, "`make publish` publishes it")
    if number in state.failed:  # a rebuild failed; the episode built before stands
        return Line(number, line.state, title, f"the last rebuild failed: {state.failed[number]}")
    return line


def pending_corrections(folder: Path, episode: Episode) -> str:
    """What the editor still has to rebuild, and the corrections that no longer match anything."""
    record = episode.extra.get("corrections") or {}
    notes = []
    if corrections.file_digest(folder) != record.get("digest", ""):
        notes.append(f"{folder / corrections.NAME} changed since the last build: `make episode ISSUE={episode.number}`")
    for find in record.get("unmatched", []):
        notes.append(f"correction {find!r} matched nothing in the last build")
    return "\n".join(f"  #{episode.number}: {note}" for note in notes)


def _last_run(state: State) -> str:
    run = state.last_run
    if not run:
        return "Last watch run: never"
    started = datetime.fromisoformat(run["started"])
    text = f"Last watch run: {started:%Y-%m-%d %H:%M} UTC, took {_duration(run.get('seconds', 0))}: {run.get('summary', '')}"
    return "\n".join([text] + [f"  failed: {failure}" for failure in run.get("failures", [])])


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def _holder(folder: Path) -> str | None:
    """Who holds the watch lock right now, if anyone (a run that died holds nothing)."""
    path = folder / "lock"
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another run"
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)

"""`audio-edition status`: what the editor needs at a glance, read from the job's state and the manifests.

Nothing here fetches or builds: the issues are those the last watch run saw in the newsletter feed
and those built, each in one of the states an editor acts on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from . import clock, corrections, lock, manifest
from . import state as job_state
from .model import Episode
from .release import listed_guids
from .settings import Settings
from .state import State

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IssueStatus:
    """One issue as `status` lists it: its number, where it stands, its title, and what to do about it."""

    number: int
    state: str
    title: str
    note: str = ""


def report(settings: Settings) -> str:
    folder = job_state.folder(settings)
    state = job_state.load(folder)
    built = {episode.number: (path, episode) for path, episode in manifest.all_episodes(settings.paths.episodes)}
    live = listed_guids(settings.paths.public / "feed.xml")
    holder = lock.holder(folder)
    lines = [issue_status(n, state, built.get(n), live, holder) for n in sorted(set(state.seen) | set(built), reverse=True)]
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
    out += ["", "Pings (apps told at once after a release that changed the feed):"]
    out += pings(job_state.load_pings(folder))
    return "\n".join(out)


def pings(records: dict[str, job_state.PingRecord]) -> list[str]:
    """When each service was last told the feed changed, and why the last try failed if it did."""
    if not records:
        return ["  none yet"]
    lines = []
    for record in records.values():
        told = f"last told {_when(record.succeeded)}" if record.succeeded else "never told"
        failed = f"; the last try, {_when(record.tried)}, failed: {record.problem}" if record.problem else ""
        lines.append(f"  {record.service}: {told}{failed}")
    return lines


def _when(iso: str) -> str:
    try:
        return f"{datetime.fromisoformat(iso):%Y-%m-%d %H:%M} UTC"
    except ValueError:
        return iso


def issue_status(number: int, state: State, built: tuple[Path, Episode] | None, live: set[str],
                 holder: str | None) -> IssueStatus:
    """One issue's state, in the order an editor cares: in progress, failed, waiting, published, new."""
    title = built[1].title if built else state.seen.get(number, "")
    if state.building == number:
        if holder:
            return IssueStatus(number, "building", title, f"by {holder}")
        return IssueStatus(number, "interrupted", title, "a build stopped part-way; the next watch run builds it again")
    if number in state.refused:
        return IssueStatus(number, "refused", title, state.refused[number].reason)
    if built is None:
        return IssueStatus(number, "failed", title, state.failed[number]) if number in state.failed else IssueStatus(number, "new", title)
    episode = built[1]
    if episode.waiting:
        line = IssueStatus(number, "waiting for review", title, f"listen, then `make publish ISSUE={number}`")
    elif episode.guid in live:
        line = IssueStatus(number, "published", title)
    else:
        line = IssueStatus(number, "built, not published", title, "`make publish` publishes it")
    if number in state.failed:  # a rebuild failed; the episode built before stands
        return IssueStatus(number, line.state, title, f"the last rebuild failed: {state.failed[number]}")
    return line


def pending_corrections(folder: Path, episode: Episode) -> str:
    """What the editor still has to rebuild, and the corrections that no longer match anything."""
    record = episode.record.corrections
    notes = []
    if corrections.file_digest(folder) != record.digest:
        notes.append(f"{folder / corrections.NAME} changed since the last build: `make episode ISSUE={episode.number}`")
    for find in record.unmatched:
        notes.append(f"correction {find!r} matched nothing in the last build")
    return "\n".join(f"  #{episode.number}: {note}" for note in notes)


def _last_run(state: State) -> str:
    run = state.last_run
    if not run:
        return "Last watch run: never"
    started = datetime.fromisoformat(run["started"])
    text = f"Last watch run: {started:%Y-%m-%d %H:%M} UTC, took {clock.duration(run.get('seconds', 0))}: {run.get('summary', '')}"
    return "\n".join([text] + [f"  failed: {failure}" for failure in run.get("failures", [])])

"""The scheduled job: publish every issue the newsletter feed lists exactly once, whatever the day brings.

What is published is decided by the episode manifests (episodes/<slug>/episode.json), whose guid
depends only on the newsletter and the issue number, so a rerun, or a feed that re-lists or
re-orders its entries, can never make a duplicate. The job's own state (episodes/.watch/) only saves
work: the feed's validators and last body (an unchanged feed costs one 304), the issues refused for
their content, and whether built episodes still wait to be published; state.json can be deleted at
any time. The lock is an flock on episodes/.watch/lock, which the kernel drops when its holder dies.

Policy for an edited issue: when the newsletter changes an issue's title or text after it was built
(its source_hash differs), the episode is rebuilt under the same guid and republished, so podcast
apps update it in place; the speech cache makes that cost only the changed sentences.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import logging
import os
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from lxml import etree

from . import __version__, build, fetch, manifest, notify
from . import feed as feed_stage
from .errors import EditionError, FeedError, IssueError, SettingsError
from .hosting import push
from .model import Entry, Episode
from .publish import publish, remove_leftovers
from .settings import Settings

log = logging.getLogger(__name__)

STATE_DIR = ".watch"
EXIT_BUSY = 75
"""Exit status when another run holds the lock (EX_TEMPFAIL): nothing wrong, nothing done."""
MIN_INTERVAL = 60.0


class Busy(EditionError):
    """Another run holds the lock; this one leaves the work to it."""


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


@dataclass(frozen=True)
class Outcome:
    built: tuple[int, ...] = ()
    failures: tuple[str, ...] = ()
    current: int = 0
    """Issues already published and unchanged."""
    refused: int = 0
    """Issues refused before for their content, and unchanged since."""
    published: int | None = None
    """Episodes in the feed, when this run published it."""

    @property
    def status(self) -> int:
        return 1 if self.failures else 0


# --- running ---------------------------------------------------------------------------------------


def once(settings: Settings, source: str) -> int:
    """One check of the feed; the exit status: 0 done, 1 something failed, EXIT_BUSY another run is at it."""
    try:
        outcome = run(settings, source)
    except Busy as exc:
        log.warning("%s", exc)
        return EXIT_BUSY
    except EditionError as exc:
        log.error("error: %s", exc)
        return 1
    except OSError as exc:
        log.error("error: %s", _os_reason(exc))
        return 1
    except Exception as exc:  # an unattended job reports a bug in one line too; -v shows the traceback
        log.debug("watch failed", exc_info=True)
        log.error("error: watch failed unexpectedly: %s: %s", type(exc).__name__, exc)
        return 1
    log.info("%s", summary(outcome))
    return outcome.status


def every(settings: Settings, source: str, interval: float) -> int:
    """Check the feed every `interval` seconds until stopped; a failed check never ends the loop."""
    fetch.Policy.of(settings.watch)  # a settings mistake ends it at once, not every hour
    while True:
        started = time.monotonic()
        once(settings, source)
        wait = max(0.0, interval - (time.monotonic() - started))
        log.info("next check in %s", _duration(wait))
        time.sleep(wait)


def run(settings: Settings, source: str) -> Outcome:
    """Check the feed, then build and publish what it lists that is not yet published, under the lock."""
    folder = settings.paths.episodes / STATE_DIR
    with lock(folder):
        started, clock = datetime.now(timezone.utc), time.monotonic()
        remove_leftovers(settings.paths.public)  # a killed run's temporary files, even if nothing is published now
        state = load_state(folder)
        tell = Teller(settings)
        failures: list[str] = []
        try:
            entries, state = read_feed(source, settings, state, folder)
        except FeedError as exc:
            failures.append(_fail(str(exc)))
            tell.failed(None, str(exc))
            entries = []
        state = dataclasses.replace(state, seen={**state.seen, **{e.number: e.title for e in entries}})
        new, edited, current, refused = plan(entries, settings, state)
        built: list[int] = []
        published: int | None = None
        publish_failed = False
        voice = None
        for entry in new + edited:
            state, voice, error = _build_one(entry, settings, state, folder, voice)
            if error:
                failures.append(error)
                tell.failed(entry.number, error)
                continue
            built.append(entry.number)
            tell.built(settings.paths.episodes / manifest.slug(entry.number))
            if not publish_failed and tell.to_publish:  # each issue goes out as soon as it is built
                state, published, error = _publish(settings, state, folder)
                publish_failed = bool(error)
                failures += [error] if error else []
                tell.published() if not error else tell.failed(None, error)
        if not tell.to_publish and needs_publishing(settings, state):
            state, published, error = _publish(settings, state, folder)
            failures += [error] if error else []
            tell.published() if not error else tell.failed(None, error)
        outcome = Outcome(tuple(built), tuple(failures), current, refused, published)
        state = dataclasses.replace(state, last_run={
            "started": started.isoformat(timespec="seconds"), "seconds": round(time.monotonic() - clock, 1),
            "summary": summary(outcome), "failures": list(failures)})
        save_state(folder, state)
        return outcome


class Teller:
    """Who hears what the job did ([notify]): each episode that waits for review, each one that went out
    with a publish, each failure. Undeliverable notices are logged by notify.send, never raised."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.to_publish: list[Episode] = []

    def built(self, folder: Path) -> None:
        episode = manifest.read(folder)
        if episode.waiting:
            self._send("review", episode, str(folder / episode.audio))
        else:
            self.to_publish.append(episode)

    def published(self) -> None:
        base = self.settings.podcast.base_url.rstrip("/")
        for episode in self.to_publish:
            self._send("published", episode, f"{base}/episodes/{episode.slug}/{episode.audio}")
        self.to_publish = []

    def failed(self, number: int | None, error: str) -> None:
        notify.send(self.settings.notify, notify.Event("failed", number, error=error))

    def _send(self, kind: str, episode: Episode, url: str) -> None:
        notify.send(self.settings.notify, notify.Event(kind, episode.number, episode.title, url))


def summary(outcome: Outcome) -> str:
    parts = []
    if outcome.built:
        parts.append("built " + ", ".join(f"#{n}" for n in outcome.built))
    if outcome.failures:
        parts.append(f"{len(outcome.failures)} failed")
    if outcome.current or not parts:
        parts.append(f"{outcome.current} already published")
    if outcome.refused:
        parts.append(f"{outcome.refused} still refused")
    if outcome.published is not None:
        parts.append(f"the feed now lists {outcome.published} episode(s)")
    return "watch: " + "; ".join(parts)


# --- the feed --------------------------------------------------------------------------------------


def read_feed(source: str, settings: Settings, state: State, folder: Path) -> tuple[list[Entry], State]:
    """The feed's issues, oldest first; over HTTP conditionally, reusing the saved body on a 304."""
    pattern = settings.newsletter.issue_pattern
    policy = fetch.Policy.of(settings.watch)
    if not feed_stage.is_url(source):
        return _must_list(feed_stage.parse_entries(feed_stage.load(source, policy), pattern, source)), state
    saved = folder / "feed.body"
    known = state.feed == source and saved.exists()
    validators = fetch.Validators(state.etag, state.last_modified) if known else fetch.Validators()
    response = fetch.get(source, policy, validators)
    if response.not_modified:
        log.info("the feed has not changed since the last check (HTTP 304)")
        return _must_list(feed_stage.parse_entries(saved.read_bytes(), pattern, source)), state
    entries = _must_list(feed_stage.parse_entries(response.body or b"", pattern, source))
    manifest.atomic_write(saved, response.body or b"")
    state = dataclasses.replace(state, feed=source, etag=response.validators.etag,
                                last_modified=response.validators.last_modified)
    save_state(folder, state)
    return entries, state


def _must_list(entries: list[Entry]) -> list[Entry]:
    if not entries:
        raise FeedError("the feed lists no issues; nothing was changed")
    return entries


def plan(entries: list[Entry], settings: Settings, state: State) -> tuple[list[Entry], list[Entry], int, int]:
    """New issues (oldest first), edited ones, how many are current, and how many stay refused."""
    new, edited, current, skipped = [], [], 0, 0
    fingerprint = _fingerprint(settings)
    for entry in entries:
        source = build.source_hash(entry)
        refusal = state.refused.get(entry.number)
        if refusal and refusal.source_hash == source and refusal.fingerprint == fingerprint:
            log.info("issue #%d stays refused until it changes: %s", entry.number, refusal.reason)
            skipped += 1
            continue
        built = _manifest(settings.paths.episodes / manifest.slug(entry.number))
        if built is None:
            new.append(entry)
        elif built.source_hash and built.source_hash != source:
            log.info("issue #%d was edited in the newsletter; rebuilding it under the same guid", entry.number)
            edited.append(entry)
        else:
            current += 1
    return new, edited, current, skipped


def _manifest(folder: Path):
    if not (folder / manifest.NAME).exists():
        return None
    try:
        return manifest.read(folder)
    except EditionError as exc:
        log.warning("%s; building it again", exc)
        return None


def _fingerprint(settings: Settings) -> str:
    return f"{__version__}:{settings.limits.max_words}"


# --- building and publishing -----------------------------------------------------------------------


def _build_one(entry: Entry, settings: Settings, state: State, folder: Path, voice):
    """Build one issue; a failure is one line, recorded for `status`, and leaves everything else as it was."""
    try:
        build.prepare(entry, settings)  # refuses an oversized or empty issue before the voice loads
        voice = voice or build.load_voice(settings)
        state = dataclasses.replace(state, unpublished=True, building=entry.number)
        save_state(folder, state)
        build.remove_stale_builds(settings.paths.episodes / manifest.slug(entry.number))
        build.build(entry, settings, voice, approve=False)
    except Exception as exc:
        error = _build_error(entry, exc)
        refused = state.refused
        if isinstance(exc, IssueError):
            refused = {**refused, entry.number: Refusal(build.source_hash(entry), _fingerprint(settings), str(exc))}
        state = dataclasses.replace(state, building=None, refused=refused, failed={**state.failed, entry.number: error})
        save_state(folder, state)
        return state, voice, _fail(error)
    state = dataclasses.replace(state, building=None, failed=_without(state.failed, entry.number),
                                refused=_without(state.refused, entry.number))
    return state, voice, ""


def _build_error(entry: Entry, exc: Exception) -> str:
    if isinstance(exc, IssueError):
        return f"{exc} (it will be tried again when the issue changes)"
    if isinstance(exc, EditionError):
        return f"issue #{entry.number}: {exc}"
    if isinstance(exc, OSError):
        return f"issue #{entry.number}: {_os_reason(exc)}"
    # A bug must not stop the other issues; -v shows the traceback.
    log.debug("issue #%d failed", entry.number, exc_info=(type(exc), exc, exc.__traceback__))
    return f"issue #{entry.number} failed unexpectedly: {type(exc).__name__}: {exc}"


def _without(table: dict, key) -> dict:
    return {k: v for k, v in table.items() if k != key}


def _publish(settings: Settings, state: State, folder: Path) -> tuple[State, int | None, str]:
    """Regenerate public/ (validated, feed swapped last), then copy it to the host named in [hosting]."""
    state = dataclasses.replace(state, unpublished=True)
    save_state(folder, state)
    try:
        feed = publish(settings)
        push(settings)
    except EditionError as exc:
        return state, None, _fail(f"publish: {exc}; the next run tries again")
    except OSError as exc:
        return state, None, _fail(f"publish: {_os_reason(exc)}; the next run tries again")
    state = dataclasses.replace(state, unpublished=False)
    save_state(folder, state)
    return state, len(published_guids(feed)), ""


def needs_publishing(settings: Settings, state: State) -> bool:
    """True after a run stopped between building and publishing, or when the feed misses an episode."""
    built = {episode.guid for _, episode in manifest.all_episodes(settings.paths.episodes) if not episode.waiting}
    if not built:
        return False
    return state.unpublished or published_guids(settings.paths.public / "feed.xml") != built


def published_guids(feed: Path) -> set[str]:
    try:
        root = etree.parse(str(feed), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
    except (OSError, etree.XMLSyntaxError):
        return set()
    return {guid.text or "" for guid in root.iter("guid")}


def _fail(message: str) -> str:
    log.error("error: %s", message)
    return message


def _os_reason(exc: OSError) -> str:
    where = f" ({exc.filename})" if exc.filename else ""
    return f"{exc.strerror or exc}{where}"


# --- state and lock --------------------------------------------------------------------------------


def load_state(folder: Path) -> State:
    path = folder / "state.json"
    if not path.exists():
        return State()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        refused = {int(k): Refusal(**v) for k, v in data.pop("refused", {}).items()}
        seen = {int(k): str(v) for k, v in data.pop("seen", {}).items()}
        failed = {int(k): str(v) for k, v in data.pop("failed", {}).items()}
        return State(**data, refused=refused, seen=seen, failed=failed)
    except (OSError, ValueError, TypeError) as exc:
        log.warning("ignoring a damaged %s (%s); it only saves work", path, exc)
        return State()


def save_state(folder: Path, state: State) -> None:
    data = dataclasses.asdict(state)
    for name in ("refused", "seen", "failed"):
        data[name] = {str(k): v for k, v in sorted(data[name].items())}
    manifest.atomic_write(folder / "state.json", (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode())


@contextmanager
def lock(folder: Path, wait: bool = False) -> Iterator[None]:
    """flock on an open file: held while the process lives, released by the kernel however it ends.

    The watch job leaves when the lock is taken; the editor's `episode` and `publish` wait for it.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
            if not wait:
                raise Busy(f"another run ({holder or 'starting'}) holds {path}; this run leaves the work to it") from None
            log.info("waiting for another run (%s) to finish", holder or "starting")
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, since {datetime.now(timezone.utc):%Y-%m-%d %H:%M:%S} UTC\n".encode(), 0)
        yield
    finally:
        os.close(fd)


# --- intervals -------------------------------------------------------------------------------------


def parse_interval(text: str) -> float:
    """'1h', '30m', '90s', '1h30m' or plain seconds; at least a minute, to stay polite to the server."""
    units = {"h": 3600, "m": 60, "s": 1}
    text = text.strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        seconds = float(text)
    elif re.fullmatch(r"(\d+[hms])+", text):
        seconds = float(sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([hms])", text)))
    else:
        raise SettingsError(f"--every takes a duration like 1h, 30m or 90s, not {text!r}")
    if seconds < MIN_INTERVAL:
        raise SettingsError(f"--every {text} is too often; check the feed at most once a minute")
    return seconds


def _duration(seconds: float) -> str:
    return f"{round(seconds / 60)} min" if seconds >= 60 else f"{round(seconds)} s"

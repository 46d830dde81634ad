"""The scheduled job: publish every issue the newsletter feed lists exactly once, whatever the day brings.

What is published is decided by the episode manifests (episodes/<slug>/episode.json), whose guid
depends only on the newsletter and the issue number, so a rerun, or a feed that re-lists or
re-orders its entries, can never make a duplicate. The job's own state (state.py) only saves
work: the feed's validators and last body (an unchanged feed costs one 304), the issues refused for
their content, and whether built episodes still wait to be published; state.json can be deleted at
any time. The lock (lock.py) is an flock on episodes/.watch/lock, which the kernel drops when its holder dies.

Policy for an edited issue: when the newsletter changes an issue's title or text after it was built
(its source_hash differs), the episode is rebuilt under the same guid and republished, so podcast
apps update it in place; the speech cache makes that cost only the changed sentences.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from . import __version__, build, clock, fetch, files, lock, manifest, notify
from . import feed as feed_stage
from . import state as job_state
from .errors import EditionError, FeedError, IssueError, SettingsError
from .model import Entry, Episode
from .publish import remove_leftovers
from .release import listed_guids, release
from .settings import Settings
from .state import Refusal, State

log = logging.getLogger(__name__)

EXIT_BUSY = 75
"""Exit status when another run holds the lock (EX_TEMPFAIL): nothing wrong, nothing done."""
MIN_INTERVAL = 60.0


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
    except lock.Busy as exc:
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
    fetch.Policy.of(settings.fetch)  # a settings mistake ends it at once, not every hour
    while True:
        started = time.monotonic()
        once(settings, source)
        wait = max(0.0, interval - (time.monotonic() - started))
        log.info("next check in %s", clock.duration(wait))
        time.sleep(wait)


def run(settings: Settings, source: str) -> Outcome:
    """Check the feed, then build and release what it lists that is not yet published, under the lock."""
    folder = job_state.folder(settings)
    with lock.hold(folder):
        started, clock = datetime.now(timezone.utc), time.monotonic()
        remove_leftovers(settings.paths.public)  # a killed run's temporary files, even if nothing is published now
        job = Job(settings, folder)
        entries = job.read_feed(source)
        new, edited, current, refused = triage(entries, settings, job.state)
        for entry in new + edited:
            if job.build(entry) and job.tell.to_publish and not job.release_failed:
                job.release()  # each issue goes out as soon as it is built
        if not job.tell.to_publish and needs_publishing(settings, job.state):
            job.release()
        outcome = Outcome(tuple(job.built), tuple(job.failures), current, refused, job.published)
        job.save(last_run={"started": started.isoformat(timespec="seconds"),
                           "seconds": round(time.monotonic() - clock, 1),
                           "summary": summary(outcome), "failures": list(job.failures)})
        return outcome


class Job:
    """One run's work under the lock: the job's state (saved at every step, so a killed run is resumed),
    the voice once loaded, the failures (one line each), and the notices to send."""

    def __init__(self, settings: Settings, folder: Path) -> None:
        self.settings, self.folder = settings, folder
        self.state = job_state.load(folder)
        self.tell = Teller(settings)
        self.voice = None
        self.failures: list[str] = []
        self.built: list[int] = []
        self.published: int | None = None
        self.release_failed = False

    def save(self, **changes) -> None:
        self.state = dataclasses.replace(self.state, **changes)
        job_state.save(self.folder, self.state)

    def fail(self, message: str, number: int | None = None) -> None:
        self.failures.append(_fail(message))
        self.tell.failed(number, message)

    def read_feed(self, source: str) -> list[Entry]:
        """The feed's issues (none if it cannot be read: that is this run's failure), remembered for `status`."""
        try:
            entries, self.state = read_feed(source, self.settings, self.state, self.folder)
        except FeedError as exc:
            self.fail(str(exc))
            entries = []
        self.state = dataclasses.replace(self.state, seen={**self.state.seen, **{e.number: e.title for e in entries}})
        return entries

    def build(self, entry: Entry) -> bool:
        """Build one issue; a failure is one line, recorded for `status`, and leaves everything else as it was."""
        try:
            build.prepare(entry, self.settings)  # refuses an oversized or empty issue before the voice loads
            self.voice = self.voice or build.load_voice(self.settings)
            self.save(unpublished=True, building=entry.number)
            built = build.build(entry, self.settings, self.voice, approve=False)
        except Exception as exc:
            error = _build_error(entry, exc)
            refused = self.state.refused
            if isinstance(exc, IssueError):
                refused = {**refused, entry.number: Refusal(build.source_hash(entry), _fingerprint(self.settings), str(exc))}
            self.save(building=None, refused=refused, failed={**self.state.failed, entry.number: error})
            self.fail(error, entry.number)
            return False
        self.state = dataclasses.replace(self.state, building=None, failed=_without(self.state.failed, entry.number),
                                         refused=_without(self.state.refused, entry.number))
        self.built.append(entry.number)
        self.tell.built(built.folder, built.episode)
        return True

    def release(self) -> None:
        """Regenerate public/ (validated, feed swapped last), then copy it to the host named in [hosting]."""
        self.save(unpublished=True)
        try:
            feed = release(self.settings)
        except EditionError as exc:
            return self._release_failed(str(exc))
        except OSError as exc:
            return self._release_failed(_os_reason(exc))
        self.save(unpublished=False)
        self.published = len(listed_guids(feed))
        self.tell.published()

    def _release_failed(self, reason: str) -> None:
        self.release_failed = True
        self.fail(f"publish: {reason}; the next run tries again")


class Teller:
    """Who hears what the job did ([notify]): each episode that waits for review, each one that went out
    with a publish, each failure. Undeliverable notices are logged by notify.send, never raised."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.to_publish: list[Episode] = []

    def built(self, folder: Path, episode: Episode) -> None:
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
    policy = fetch.Policy.of(settings.fetch)
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
    files.atomic_write(saved, response.body or b"")
    state = dataclasses.replace(state, feed=source, etag=response.validators.etag,
                                last_modified=response.validators.last_modified)
    job_state.save(folder, state)
    return entries, state


def _must_list(entries: list[Entry]) -> list[Entry]:
    if not entries:
        raise FeedError("the feed lists no issues; nothing was changed")
    return entries


def triage(entries: list[Entry], settings: Settings, state: State) -> tuple[list[Entry], list[Entry], int, int]:
    """Sort the feed's issues: new ones (oldest first), edited ones, how many are current, how many stay refused."""
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


def _manifest(folder: Path) -> Episode | None:
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


def needs_publishing(settings: Settings, state: State) -> bool:
    """True after a run stopped between building and publishing, or when the feed misses an episode."""
    built = {episode.guid for _, episode in manifest.all_episodes(settings.paths.episodes) if not episode.waiting}
    if not built:
        return False
    return state.unpublished or listed_guids(settings.paths.public / "feed.xml") != built


def _fail(message: str) -> str:
    log.error("error: %s", message)
    return message


def _os_reason(exc: OSError) -> str:
    where = f" ({exc.filename})" if exc.filename else ""
    return f"{exc.strerror or exc}{where}"


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


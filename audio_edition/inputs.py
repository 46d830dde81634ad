"""What a build reads, in one digest: when nothing an episode was built from has changed, it is not built again.

The digest is deliberately wide, like make's view of a target: the issue as the feed gave it, every
setting, the program's own source, every installed distribution's version (the engine, the voice
packages, the encoder), ffmpeg, and the size and time of every file the build reads (intro, outro,
cover, the voice profiles and lexicon, voice model files they name). Any change falls through to an
ordinary build, which still reuses every sentence the speech cache has; only an exact match skips it.
It costs a few milliseconds, and needs neither the voice nor the text normalizer loaded.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import logging
import tomllib
from pathlib import Path
from typing import Any, Iterable

from .manifest import slug
from .model import Entry
from .settings import Settings

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
    yield repr(settings)
    yield _source_digest()
    yield repr(sorted((d.metadata["Name"] or "", d.version) for d in importlib.metadata.distributions()))
    corrections = settings.paths.episodes / slug(entry.number) / "corrections.toml"
    files = [Path(ffmpeg), settings.audio.intro, settings.audio.outro, settings.podcast.cover, corrections]
    files += sorted(settings.paths.voices.glob("*")) + _named_files(settings.paths.voices, settings.voice.profile)
    yield repr([_stat(path) for path in files])


def _source_digest() -> str:
    h = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            h.update(str(path.relative_to(PACKAGE)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def _named_files(voices: Path, profile: str) -> list[Path]:
    """Files a voice profile names (a model, its config), wherever they are; packaged voices are versions."""
    path = Path(profile) if profile.endswith(".toml") else voices / f"{profile}.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
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

"""episodes/<slug>/episode.json: the record of a built episode, from which the feed is always regenerated."""

from __future__ import annotations

import dataclasses
import json
import logging
import typing
from datetime import datetime
from pathlib import Path
from typing import Any

from .errors import EditionError, PublishError
from .files import atomic_write
from .model import Episode

log = logging.getLogger(__name__)

NAME = "episode.json"


def slug(number: int) -> str:
    """Safe, ASCII, sortable: the issue number is the only thing from the newsletter in a file name."""
    return f"an-{int(number):03d}"


VERSION = 2
"""Version 1 kept what the build learned in an untyped `extra` table; it still loads (`_from_version_1`)."""


def write(folder: Path, episode: Episode) -> None:
    data = {"version": VERSION, **dataclasses.asdict(episode)}
    data["published"] = episode.published.isoformat()
    atomic_write(folder / NAME, (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode())


def read(folder: Path) -> Episode:
    path = folder / NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        version = data.pop("version", 1)
        if version == 1:
            data = _from_version_1(data)
        elif version != VERSION:
            raise ValueError(f"written by a newer audio-edition (manifest version {version})")
        data["published"] = datetime.fromisoformat(data["published"])
        return _typed(Episode, data)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise PublishError(f"{path} is not a readable episode manifest ({exc})") from None


def _typed(cls: type, data: dict) -> Any:
    """A dataclass from its asdict() form: nested records rebuilt, lists made tuples again."""
    hints = typing.get_type_hints(cls)
    values = {}
    for spec in dataclasses.fields(cls):
        if spec.name not in data:
            continue
        value, kind = data[spec.name], hints[spec.name]
        if dataclasses.is_dataclass(kind):
            value = _typed(kind, value)
        elif typing.get_origin(kind) is tuple:
            value = tuple(tuple(v) if isinstance(v, list) else v for v in value)
        values[spec.name] = value
    return cls(**values)


def _from_version_1(data: dict) -> dict:
    """An episode.json written before the build record was typed: its `extra` table becomes the record."""
    extra = data.pop("extra", None) or {}
    mastering = extra.get("mastering") or {}
    speech, fixes = extra.get("speech") or {}, extra.get("corrections") or {}
    data["record"] = {
        "built": extra.get("built", ""),
        "inputs": {"digest": extra.get("inputs", ""), "source_hash": data.pop("source_hash", ""),
                   "voice": extra.get("voice", "")},
        "speech": {"segments": extra.get("segments", []), **speech},
        "mastering": {**{k: v for k, v in mastering.items() if k != "blocks"}, "blocks": extra.get("blocks", []),
                      **(mastering.get("blocks") or {})},
        "corrections": fixes,
        "outputs": [[name, *stamp] for name, stamp in (extra.get("outputs") or {}).items() if len(stamp) == 2],
    }
    return data


def all_episodes(episodes_dir: Path, strict: bool = False) -> list[tuple[Path, Episode]]:
    """Every built episode, oldest first. A damaged manifest is an error when publishing (`strict`:
    the feed would silently lose an episode) and otherwise reported and left out."""
    found = []
    for path in sorted(episodes_dir.glob(f"*/{NAME}")):
        try:
            found.append((path.parent, read(path.parent)))
        except PublishError as exc:
            if strict:
                raise PublishError(f"{exc}; rebuild that issue or remove its folder, then publish again") from None
            log.error("%s", exc)
    return sorted(found, key=lambda pair: pair[1].number)


def find(episodes_dir: Path, name: str) -> Path:
    """A built episode's folder, named as an editor names it: 'latest', an issue number ('66', '#66'), its
    slug ('an-066'), its folder or its MP3."""
    path = Path(name).expanduser()
    if path.suffix.lower() == ".mp3" and path.is_file():
        path = path.parent
    if (path / NAME).is_file():
        return path
    built = all_episodes(episodes_dir)
    if name == "latest" and built:
        return built[-1][0]
    for folder, episode in built:
        if name.lstrip("#") == str(episode.number) or name == folder.name:
            return folder
    listed = ", ".join(f"#{episode.number}" for _, episode in built) or "none yet: run `make episode` first"
    raise EditionError(f"no built episode {name!r} in {episodes_dir} (built: {listed}); "
                       "name one by its issue number, its slug, its folder or 'latest'")

"""The one writer of public/: media first, then a validated feed.xml swapped in atomically.

A listener's app may fetch feed.xml at any moment, so it must always be whole and must never name a
file that is not already in place with exactly the length it declares.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import feedparser
from lxml import etree

from . import manifest, site
from .errors import PublishError
from .model import Episode
from .podcast import Media, feed_xml
from .settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Writer:
    """Writes under one root only, atomically, and never the same path twice in one run."""

    root: Path
    written: set[Path] = field(default_factory=set)

    def path(self, relative: str) -> Path:
        target = (self.root / relative).resolve()
        if not target.is_relative_to(self.root.resolve()):
            raise PublishError(f"refusing to write {relative}: outside {self.root}")
        if target in self.written:
            raise PublishError(f"refusing to write {relative} twice in one run")
        self.written.add(target)
        return target

    def write(self, relative: str, data: bytes) -> Path:
        target = self.path(relative)
        manifest.atomic_write(target, data)
        return target

    def copy(self, source: Path, relative: str) -> Path:
        target = self.path(relative)
        if target.exists() and _same(source, target):
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        shutil.copyfile(source, tmp)
        tmp.replace(target)
        return target


def publish(settings: Settings, approve: set[int] = frozenset()) -> Path:
    """Regenerate public/ from the built episodes, feed last: every episode but those waiting for the
    editor's review, once `approve` (issue numbers) has approved those it names."""
    public = settings.paths.public
    remove_leftovers(public)
    built = manifest.all_episodes(settings.paths.episodes, strict=True)
    built = _approve(built, approve)
    writer = Writer(public)
    base = settings.podcast.base_url.rstrip("/")
    pairs: list[tuple[Episode, Media]] = []
    for folder, episode in built:
        if episode.waiting:
            log.info("issue #%d waits for review, not published; `audio-edition publish --issue %d` approves it",
                     episode.number, episode.number)
            continue
        try:
            pairs.append((episode, _publish_media(writer, folder, episode, base)))
        except OSError as exc:
            raise PublishError(f"cannot publish {episode.slug}: {exc}") from None
    if not settings.podcast.cover.is_file():
        raise PublishError(f"the cover {settings.podcast.cover} does not exist (podcast.cover)")
    writer.copy(settings.podcast.cover, settings.podcast.cover.name)
    xml = feed_xml(settings.podcast, pairs)
    validate(xml, public, base)
    site.render(writer, settings, [episode for episode, _ in pairs])
    target = writer.write("feed.xml", xml)
    log.info("published %s with %d episode(s)", target, len(pairs))
    return target


def _approve(built: list[tuple[Path, Episode]], numbers: set[int]) -> list[tuple[Path, Episode]]:
    """Mark the named episodes approved in their manifests; an issue that is not built is an error."""
    missing = set(numbers) - {episode.number for _, episode in built}
    if missing:
        raise PublishError(f"cannot approve issue #{min(missing)}: it is not built (run `make episode ISSUE={min(missing)}`)")
    approved = []
    for folder, episode in built:
        if episode.number in numbers and episode.waiting:
            episode = dataclasses.replace(episode, waiting=False)
            manifest.write(folder, episode)
            log.info("issue #%d approved", episode.number)
        approved.append((folder, episode))
    return approved


def _publish_media(writer: Writer, folder: Path, episode: Episode, base: str) -> Media:
    prefix = f"episodes/{episode.slug}"
    audio = writer.copy(folder / episode.audio, f"{prefix}/{episode.audio}")
    writer.copy(folder / episode.transcript, f"{prefix}/{episode.transcript}")
    writer.copy(folder / episode.chapters, f"{prefix}/{episode.chapters}")
    if episode.art:
        writer.copy(folder / episode.art, f"{prefix}/{episode.art}")
    return Media(
        audio_url=f"{base}/{prefix}/{episode.audio}",
        audio_bytes=audio.stat().st_size,
        transcript_url=f"{base}/{prefix}/{episode.transcript}",
        chapters_url=f"{base}/{prefix}/{episode.chapters}",
        image_url=f"{base}/{prefix}/{episode.art}" if episode.art else None,
        notes=(folder / episode.notes).read_text(encoding="utf-8") if episode.notes else "",
    )


def validate(xml: bytes, public: Path, base: str) -> None:
    """Refuse a feed that a podcast app would choke on, before it replaces the one listeners have."""
    try:
        root = etree.fromstring(xml)
    except etree.XMLSyntaxError as exc:
        raise PublishError(f"the generated feed is not well-formed XML ({exc})") from None
    parsed = feedparser.parse(xml)
    if parsed.bozo:
        raise PublishError(f"the generated feed does not parse as RSS ({parsed.bozo_exception})")
    guids = [g.text for g in root.iter("guid")]
    if len(guids) != len(set(guids)):
        raise PublishError("the generated feed has two episodes with the same guid")
    for enclosure in root.iter("enclosure"):
        url = enclosure.get("url", "")
        if not url.startswith(base + "/"):
            raise PublishError(f"enclosure {url} is not under the base URL {base}")
        local = public / urlparse(url).path[len(urlparse(base).path):].lstrip("/")
        if not local.exists() or local.stat().st_size != int(enclosure.get("length", "-1")):
            raise PublishError(f"enclosure {url} does not match the file published at {local}")


def _same(a: Path, b: Path) -> bool:
    if a.stat().st_size != b.stat().st_size:
        return False
    return _digest(a) == _digest(b)


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def remove_leftovers(public: Path) -> None:
    """Temporary files a killed run left behind; never referenced, since renames are the only publishing."""
    if public.is_dir():
        for leftover in public.rglob(".*.tmp"):
            leftover.unlink(missing_ok=True)

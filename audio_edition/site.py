"""The show's web page: listeners find a podcast through a page before an app, so public/ gets one.

Rendered with Jinja2 (autoescaped: every title, chapter and transcript line came from the newsletter)
from the files publish just put in public/, so the page always shows what the feed points to.
"""

from __future__ import annotations

import html
import io
import json
import logging
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2

from . import clock
from .errors import PublishError
from .files import atomic_write, digest
from .model import Cue, Episode
from .settings import Settings
from .urls import publishable

if TYPE_CHECKING:
    from .files import Writer

log = logging.getLogger(__name__)

STATIC = ("style.css", "player.js")
"""Files from templates/ copied as they are to the root of public/."""
COVER = "cover-600.jpg"
"""A small copy of the cover for the page; the full-size one stays for podcast apps."""
PARAGRAPH_GAP = 0.5
"""Seconds of silence between two cues that start a new paragraph of the transcript."""

_TIMING = re.compile(r"^\s*(\S+)\s+-->\s+(\S+)")
_VTT_TAG = re.compile(r"</?(?:c|i|b|u|v|lang|ruby|rt)(?:[.\s][^>]*)?>|<\d[\d:.]*>")


@dataclass(frozen=True)
class Paragraph:
    start: float
    text: str


@dataclass(frozen=True)
class PageChapter:
    """A chapter as the page shows it: its title and link, and the transcript spoken during it."""

    title: str
    start: float
    url: str
    """The chapter's link if `urls.publishable` accepts it; empty otherwise."""
    section: bool
    """A chapter that only announces a section (toc false in the JSON chapters): shown as a heading."""
    paragraphs: tuple[Paragraph, ...]
    """The transcript's paragraphs spoken during the chapter."""


@dataclass(frozen=True)
class Page:
    """One episode as the templates show it; paths are relative to public/."""

    episode: Episode
    headline: str
    summary: str
    """The description without the headline it starts with (the page shows the headline above it)."""
    folder: str
    chapters: tuple[PageChapter, ...]

    @property
    def page(self) -> str:
        return f"episodes/{self.episode.slug}.html"


@dataclass(frozen=True)
class Link:
    name: str
    url: str


APPS = {
    "apple_podcasts": "Apple Podcasts",
    "spotify": "Spotify",
    "youtube_music": "YouTube Music",
    "pocket_casts": "Pocket Casts",
    "overcast": "Overcast",
    "antennapod": "AntennaPod",
}
"""The [site] settings, in the order the page lists them."""


def render(writer: Writer, settings: Settings, episodes: list[Episode]) -> list[Path]:
    """Write index.html, one page per episode and the static files through publish's Writer."""
    pages = sorted((_page(writer.root, settings, e) for e in episodes),
                   key=lambda p: (p.episode.published, p.episode.number), reverse=True)
    env = environment()
    show = _show(settings)
    written = [writer.write(name, _static(name)) for name in STATIC]
    written.append(writer.write(COVER, thumbnail(settings.podcast.cover, settings.paths.cache / "site")))
    for page in pages:
        html_text = env.get_template("episode.html").render(show=show, page=page, root="../")
        written.append(writer.write(page.page, html_text.encode("utf-8")))
    index = env.get_template("index.html").render(show=show, pages=pages, root="")
    written.append(writer.write("index.html", index.encode("utf-8")))
    log.info("rendered the site: index.html and %d episode page(s)", len(pages))
    return written


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("audio_edition", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(clock=clock.position, duration=clock.duration, date=clock.date, href=href)
    return env


def _show(settings: Settings) -> dict:
    podcast = settings.podcast
    apps = []
    for key, name in APPS.items():
        if url := href(getattr(settings.site, key)):
            apps.append(Link(name, url))
        elif getattr(settings.site, key):
            log.warning("site.%s is not an http or https URL; the page leaves it out", key)
    return {"podcast": podcast, "feed_url": href(podcast.feed_url), "apps": apps, "cover": COVER}


def _page(public: Path, settings: Settings, episode: Episode) -> Page:
    folder = public / "episodes" / episode.slug
    chapters = read_chapters(folder / episode.chapters)
    cues = read_webvtt(folder / episode.transcript)
    prefix = f"{settings.newsletter.name} #{episode.number}: "
    headline = episode.title[len(prefix):] if episode.title.startswith(prefix) else episode.title
    summary = episode.description.removeprefix(f"{headline}. ").strip()
    return Page(episode, headline, summary, f"episodes/{episode.slug}", _with_transcript(chapters, cues))


def read_chapters(path: Path) -> list[tuple[str, float, str, bool]]:
    """(title, start, url, section) per chapter of a Podcasting 2.0 JSON chapters file. Apps hide the
    chapters that only announce a section (toc false); the page shows them as the headings they are."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [(str(c["title"]), float(c["startTime"]), href(str(c.get("url") or "")), c.get("toc", True) is False)
                for c in data["chapters"]]
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise PublishError(f"{path} is not a readable chapters file ({exc})") from None


def read_webvtt(path: Path) -> list[Cue]:
    """The cues of a WebVTT file, as plain text (entities decoded, voice and style tags removed)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise PublishError(f"cannot read the transcript {path} ({exc})") from None
    if not text.startswith("WEBVTT"):
        raise PublishError(f"{path} is not a WebVTT file")
    cues = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
        lines = block.strip("\n").split("\n")
        for n, line in enumerate(lines):
            timing = _TIMING.match(line)
            if timing:
                body = " ".join(lines[n + 1:])
                words = html.unescape(_VTT_TAG.sub("", body)).strip()
                if words:
                    cues.append(Cue(_seconds(timing[1], path), _seconds(timing[2], path), words))
                break
    return cues


def _seconds(stamp: str, path: Path) -> float:
    try:
        parts = [float(p) for p in stamp.split(":")]
    except ValueError:
        raise PublishError(f"{path} has a bad timestamp {stamp!r}") from None
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + part
    return seconds


def _with_transcript(chapters: list[tuple[str, float, str, bool]], cues: list[Cue]) -> tuple[PageChapter, ...]:
    """Each chapter with the transcript paragraphs that start inside it."""
    result = []
    for n, (title, start, url, section) in enumerate(chapters):
        end = chapters[n + 1][1] if n + 1 < len(chapters) else float("inf")
        inside = [c for c in cues if start <= c.start < end or (n == 0 and c.start < start)]
        result.append(PageChapter(title, start, url, section, paragraphs(inside)))
    return tuple(result)


def paragraphs(cues: list[Cue]) -> tuple[Paragraph, ...]:
    """Sentences joined into paragraphs; a pause of PARAGRAPH_GAP or more starts a new one."""
    groups: list[list[Cue]] = []
    for cue in cues:
        if groups and cue.start - groups[-1][-1].end < PARAGRAPH_GAP:
            groups[-1].append(cue)
        else:
            groups.append([cue])
    return tuple(Paragraph(g[0].start, " ".join(c.text for c in g)) for g in groups)


def thumbnail(cover: Path, cache: Path, size: int = 600) -> bytes:
    """The cover at `size` pixels square, for the page: a phone need not fetch the 3000-pixel original. Kept in
    `cache` under the cover's digest: drawing it took every publish a sixth of a second."""
    from PIL import Image

    try:
        kept = cache / f"cover-{size}-{digest(cover)[:16]}.jpg"
        if kept.is_file():
            return kept.read_bytes()
        with Image.open(cover) as image:
            small = image.convert("RGB")
            small.thumbnail((size, size), Image.Resampling.LANCZOS)
    except OSError as exc:
        raise PublishError(f"cannot read the cover {cover} ({exc})") from None
    out = io.BytesIO()
    small.save(out, "JPEG", quality=85, optimize=True, progressive=True)
    atomic_write(kept, out.getvalue())
    return out.getvalue()


def _static(name: str) -> bytes:
    return resources.files("audio_edition").joinpath("templates", name).read_bytes()


def href(url: str | None) -> str:
    """What a page may put in an href: the URL as `urls.publishable` passes it, else nothing."""
    return publishable(url) or ""

"""The one writer of public/: media first, then a validated feed.xml swapped in atomically.

A listener's app may fetch feed.xml at any moment, so it must always be whole and must never name a
file that is not already in place with exactly the length it declares.
"""

from __future__ import annotations

import base64
import dataclasses
import logging
from pathlib import Path
from urllib.parse import urlparse

import feedparser
import lxml.html
from lxml import etree

from . import files, manifest, notes, site
from .files import Writer
from .errors import PublishError
from .model import Episode
from .podcast import PODCAST, AlternateEnclosure, Channel, Image, Media, Transcript, feed_xml
from .settings import Settings
from .urls import publishable

log = logging.getLogger(__name__)

URL_ATTRIBUTES = frozenset({"href", "url", "src"})
"""Attributes whose value is a link, in the feed (enclosure url, itunes:image href ...) and in its HTML."""
FEED_URL_ATTRIBUTES = URL_ATTRIBUTES | {"uri", "img", "accountUrl"}
"""Attributes of the feed's own tags whose value is a link (podcast:source uri, podcast:person img ...)."""
URL_ELEMENTS = frozenset({"link", "url", "docs", "comments"})
"""RSS elements whose text is a link."""
_HTML = ("description", "{http://purl.org/rss/1.0/modules/content/}encoded")
"""Elements whose text apps render as HTML."""


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
    xml = feed_xml(settings.podcast, pairs, _channel(settings, base))
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
    transcripts = []
    for name, kind in ((episode.transcript_json, "application/json"), (episode.transcript_srt, "application/x-subrip")):
        if name:
            writer.copy(folder / name, f"{prefix}/{name}")
            transcripts.append(Transcript(f"{base}/{prefix}/{name}", kind))
    return Media(
        audio_url=f"{base}/{prefix}/{episode.audio}",
        audio_bytes=audio.stat().st_size,
        transcript_url=f"{base}/{prefix}/{episode.transcript}",
        chapters_url=f"{base}/{prefix}/{episode.chapters}",
        image_url=f"{base}/{prefix}/{episode.art}" if episode.art else None,
        notes=(folder / episode.notes).read_text(encoding="utf-8") if episode.notes else "",
        transcripts=tuple(transcripts),
        alternate=_publish_alternate(writer, folder, episode, base, prefix),
        image_width=_width(folder / episode.art) if episode.art else 0,
    )


def _publish_alternate(writer: Writer, folder: Path, episode: Episode, base: str,
                       prefix: str) -> AlternateEnclosure | None:
    """The Opus rendering, copied and described with its SRI digest; none if the build made none."""
    alternate = episode.alternate
    if not alternate.audio:
        return None
    published = writer.copy(folder / alternate.audio, f"{prefix}/{alternate.audio}")
    return AlternateEnclosure(f"{base}/{prefix}/{alternate.audio}", published.stat().st_size, alternate.type,
                     alternate.codecs, alternate.bitrate, sri(published))


def sri(path: Path) -> str:
    """The file's Subresource Integrity string (sha384, base64), as podcast:integrity carries it."""
    return "sha384-" + base64.b64encode(bytes.fromhex(files.digest(path, "sha384"))).decode("ascii")


def _width(image: Path) -> int:
    """An image's width in pixels, read from its header (0 if it cannot be read)."""
    from PIL import Image as Picture

    try:
        with Picture.open(image) as picture:
            return picture.width
    except OSError:
        return 0


def _channel(settings: Settings, base: str) -> Channel:
    """The channel's people, listing tags and hub from settings, and the cover at the sizes published:
    the original and the page's thumbnail (site.COVER, at most 600 pixels wide)."""
    width = _width(settings.podcast.cover)
    images = (Image(f"{base}/{settings.podcast.cover.name}", width), Image(f"{base}/{site.COVER}", min(width, 600)))
    return Channel(settings.people, settings.listing, settings.ping.websub_hub, images if width else ())


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
    _check_links(root)
    for enclosure in root.iter("enclosure"):
        url = enclosure.get("url", "")
        local = _published_file(url, public, base, "enclosure")
        if not local.exists() or local.stat().st_size != int(enclosure.get("length", "-1")):
            raise PublishError(f"enclosure {url} does not match the file published at {local}")
    _check_alternates(root, public, base)


def _published_file(url: str, public: Path, base: str, what: str) -> Path:
    if not url.startswith(base + "/"):
        raise PublishError(f"{what} {url} is not under the base URL {base}")
    return public / urlparse(url).path[len(urlparse(base).path):].lstrip("/")


def _check_alternates(root: etree._Element, public: Path, base: str) -> None:
    """Each podcast:alternateEnclosure names a published file of its declared length and SRI digest."""
    for alternate in root.iter(f"{{{PODCAST}}}alternateEnclosure"):
        source, integrity = alternate.find(f"{{{PODCAST}}}source"), alternate.find(f"{{{PODCAST}}}integrity")
        if source is None or integrity is None:
            raise PublishError("an alternate enclosure in the generated feed has no source or no integrity")
        url = source.get("uri", "")
        local = _published_file(url, public, base, "alternate enclosure")
        if not local.exists() or local.stat().st_size != int(alternate.get("length", "-1")):
            raise PublishError(f"alternate enclosure {url} does not match the file published at {local}")
        if sri(local) != integrity.get("value"):
            raise PublishError(f"alternate enclosure {url} does not have the digest its podcast:integrity gives")


def _check_links(root: etree._Element) -> None:
    """The last line of defence: every link in the feed, and every href or src in the HTML it carries,
    is one `urls.publishable` passes unchanged (the show notes may also hold a mailto: address)."""
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        links = [value for name, value in element.attrib.items() if etree.QName(name).localname in FEED_URL_ATTRIBUTES]
        if "srcset" in element.attrib:  # podcast:images: 'URL 3000w, URL 600w'
            links += [entry.strip().rpartition(" ")[0] for entry in element.get("srcset", "").split(", ")]
        if etree.QName(element).localname in URL_ELEMENTS and element.text:
            links.append(element.text)
        if element.tag == "guid" and element.get("isPermaLink", "true") == "true":
            links.append(element.text or "")
        for url in links:
            if publishable(url) != url:
                raise PublishError(f"the generated feed links to {_shown(url)}: only http and https URLs are published")
        if element.tag in _HTML and element.text and element.text.strip():
            _check_html_links(element.text)


def _check_html_links(markup: str) -> None:
    try:
        root = lxml.html.fragment_fromstring(markup, create_parent="div")
    except (etree.ParserError, ValueError):
        return  # not HTML an app could read either: no link in it can be followed
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        for name, value in node.attrib.items():
            if name.rpartition(":")[2] in URL_ATTRIBUTES and not notes.linkable(value):
                raise PublishError(f"the generated feed's show notes link to {_shown(value)}: "
                                   "only http and https URLs are published")


def _shown(url: str) -> str:
    """A refused link as an error line may quote it: short, and with its control characters escaped."""
    return ascii(url[:80] + ("..." if len(url) > 80 else ""))


def remove_leftovers(public: Path) -> None:
    """Temporary files a killed run left behind; never referenced, since renames are the only publishing."""
    if public.is_dir():
        for leftover in public.rglob(".*.tmp"):
            leftover.unlink(missing_ok=True)

"""The podcast feed: podgen, extended by subclass with what Apple asks and the Podcasting 2.0 namespace.

Every Podcasting 2.0 tag is added here, in the two subclasses, from plain data: the manifest's Episode, the
Media publish found, and the Channel settings give. Every URL in them has passed `urls.publishable`.
"""

from __future__ import annotations

import dataclasses
import html
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import podgen
from lxml import etree

from .errors import SettingsError
from .model import Episode, Soundbite
from .settings import Listing, People, Person
from .settings import Podcast as ShowSettings
from .urls import publishable

log = logging.getLogger(__name__)

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
ATOM = "http://www.w3.org/2005/Atom"
# The Podcasting 2.0 spec's namespace for podcast:guid (UUIDv5 of the feed URL, scheme stripped).
GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")


def podcast_guid(feed_url: str) -> str:
    bare = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", feed_url).rstrip("/")
    return str(uuid.uuid5(GUID_NAMESPACE, bare))


def episode_guid(newsletter: str, number: int) -> str:
    """Depends only on the newsletter and the issue number: moving the host never duplicates an episode."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'audio-edition:{newsletter}:issue:{number}')}"


@dataclass(frozen=True)
class Image:
    """A picture as published, with its width in pixels (for podcast:images)."""

    url: str
    width: int


@dataclass(frozen=True)
class Channel:
    """What the channel carries beyond the [podcast] settings: people, listing tags, the WebSub hub, and the
    cover's sizes."""

    people: People = People()
    listing: Listing = Listing()
    hub: str = ""
    """The WebSub hub declared with <atom:link rel="hub"> (empty: none)."""
    images: tuple[Image, ...] = ()
    """The show's cover at each size published, largest first."""


class Show(podgen.Podcast):
    """podgen.Podcast plus the Podcasting 2.0 channel tags (guid, locked, medium, updateFrequency, images, person,
    license, funding, txt), a WebSub hub, and itunes:explicit as Apple documents it."""

    def __init__(self, *, locked: bool = True, channel: Channel = Channel(), **kwargs):
        super().__init__(**kwargs)
        self._nsmap["podcast"] = PODCAST
        self.locked = locked
        self.channel = channel
        self.episode_class = ShowEpisode

    def _create_rss(self):
        rss = super()._create_rss()
        channel = rss.find("channel")
        channel.find(f"{{{ITUNES}}}explicit").text = "true" if self.explicit else "false"
        if hub := publishable(self.channel.hub):
            etree.SubElement(channel, f"{{{ATOM}}}link", href=hub, rel="hub")
        etree.SubElement(channel, f"{{{PODCAST}}}guid").text = podcast_guid(self.feed_url)
        locked = etree.SubElement(channel, f"{{{PODCAST}}}locked")
        locked.text = "yes" if self.locked else "no"
        if self.owner and self.owner.email:
            locked.attrib["owner"] = self.owner.email
        etree.SubElement(channel, f"{{{PODCAST}}}medium").text = "podcast"
        self._listing(channel, self.channel.listing)
        _images(channel, self.channel.images)
        for person in self.channel.people.show:
            _person(channel, person, "host", "cast")
        # Items last, after every channel element, as readers expect.
        for item in channel.findall("item"):
            channel.remove(item)
            channel.append(item)
        return rss

    @staticmethod
    def _listing(channel, listing: Listing) -> None:
        if listing.update_frequency.strip():
            frequency = etree.SubElement(channel, f"{{{PODCAST}}}updateFrequency")
            frequency.text = listing.update_frequency.strip()[:128]
            if listing.update_rrule.strip():
                frequency.attrib["rrule"] = listing.update_rrule.strip()
        if listing.license.strip():
            licence = etree.SubElement(channel, f"{{{PODCAST}}}license")
            licence.text = listing.license.strip()[:128]
            if url := publishable(listing.license_url):
                licence.attrib["url"] = url
        if url := publishable(listing.funding_url):
            etree.SubElement(channel, f"{{{PODCAST}}}funding", url=url).text = listing.funding.strip()[:128]
        if listing.txt.strip():
            txt = etree.SubElement(channel, f"{{{PODCAST}}}txt")
            txt.text = listing.txt.strip()[:4000]
            if listing.txt_purpose.strip():
                txt.attrib["purpose"] = listing.txt_purpose.strip()[:128]


@dataclass(frozen=True)
class Transcript:
    url: str
    type: str
    """text/vtt, application/json or application/x-subrip."""


@dataclass(frozen=True)
class AlternateEnclosure:
    """The smaller rendering as published: where, how big, and its SRI digest (podcast:integrity)."""

    url: str
    length: int
    type: str
    codecs: str
    bitrate: int
    integrity: str
    """'sha384-<base64>' of the published file."""
    title: str = "Smaller file (Opus)"


class ShowEpisode(podgen.Episode):
    """podgen.Episode plus itunes:episode/episodeType, the RSS <comments> link, and the Podcasting 2.0 item tags
    (episode, transcript, chapters, person, soundbite, alternateEnclosure, socialInteract, images)."""

    def __init__(self, **kwargs):
        self.number: int | None = None
        self.episode_type = "full"
        self.transcripts: tuple[Transcript, ...] = ()
        self.chapters_url: str | None = None
        self.people: tuple[tuple[Person, str, str], ...] = ()
        """Each person with the role and group to assume when their entry names none."""
        self.soundbite = Soundbite()
        self.alternate: AlternateEnclosure | None = None
        self.discussion: str | None = None
        self.images: tuple[Image, ...] = ()
        super().__init__(**kwargs)

    def rss_entry(self):
        item = super().rss_entry()
        if self.discussion:
            etree.SubElement(item, "comments").text = self.discussion
        if self.number is not None:
            etree.SubElement(item, f"{{{ITUNES}}}episode").text = str(self.number)
            etree.SubElement(item, f"{{{PODCAST}}}episode").text = str(self.number)
        etree.SubElement(item, f"{{{ITUNES}}}episodeType").text = self.episode_type
        for transcript in self.transcripts:
            etree.SubElement(item, f"{{{PODCAST}}}transcript", url=transcript.url, type=transcript.type, language="en")
        if self.chapters_url:
            etree.SubElement(item, f"{{{PODCAST}}}chapters", url=self.chapters_url, type="application/json+chapters")
        for person, role, group in self.people:
            _person(item, person, role, group)
        if self.soundbite.duration > 0:
            bite = etree.SubElement(item, f"{{{PODCAST}}}soundbite", startTime=f"{self.soundbite.start:.3f}",
                                    duration=f"{self.soundbite.duration:.3f}")
            bite.text = self.soundbite.title
        if self.alternate:
            _alternate(item, self.alternate)
        if self.discussion and (found := social(self.discussion)):
            protocol, account, account_url = found
            etree.SubElement(item, f"{{{PODCAST}}}socialInteract", protocol=protocol, uri=self.discussion,
                             accountId=account, accountUrl=account_url)
        _images(item, self.images)
        return item


def _person(parent, person: Person, role: str, group: str) -> None:
    tag = etree.SubElement(parent, f"{{{PODCAST}}}person", role=person.role or role, group=person.group or group)
    for name in ("href", "img"):
        if url := publishable(getattr(person, name)):
            tag.attrib[name] = url
    tag.text = person.name.strip()[:128]


def _images(parent, images: tuple[Image, ...]) -> None:
    """podcast:images: the picture at each size, as an HTML srcset ('URL 3000w, URL 600w')."""
    if images:
        srcset = ", ".join(f"{image.url} {image.width}w" for image in images)
        etree.SubElement(parent, f"{{{PODCAST}}}images", srcset=srcset)


def _alternate(item, alternate: AlternateEnclosure) -> None:
    element = etree.SubElement(item, f"{{{PODCAST}}}alternateEnclosure", type=alternate.type,
                               length=str(alternate.length), bitrate=str(alternate.bitrate),
                               codecs=alternate.codecs, title=alternate.title, lang="en")
    etree.SubElement(element, f"{{{PODCAST}}}source", uri=alternate.url)
    etree.SubElement(element, f"{{{PODCAST}}}integrity", type="sri", value=alternate.integrity)


def social(url: str) -> tuple[str, str, str] | None:
    """(protocol, accountId, accountUrl) when a discussion link is a post apps can read and answer through a
    protocol of the Podcasting 2.0 list: a Mastodon-style post (activitypub), a post on X/Twitter (twitter) or
    on Bluesky (atproto). None for any other page (a forum thread): that is the RSS <comments> link alone."""
    parts = urlsplit(url)
    host, path = (parts.hostname or "").lower(), [p for p in parts.path.split("/") if p]
    origin = f"{parts.scheme.lower()}://{parts.netloc}"
    if host in ("twitter.com", "www.twitter.com", "mobile.twitter.com", "x.com") and len(path) >= 3 \
            and path[1] == "status":
        return "twitter", f"@{path[0]}", f"{origin}/{path[0]}"
    if host == "bsky.app" and len(path) >= 4 and path[0] == "profile" and path[2] == "post":
        return "atproto", f"@{path[1]}", f"{origin}/profile/{path[1]}"
    if len(path) >= 2 and path[0].startswith("@") and len(path[0]) > 1 and path[1].isdigit():
        return "activitypub", f"{path[0]}@{host}", f"{origin}/{path[0]}"
    if len(path) >= 4 and path[0] == "users" and path[2] == "statuses":
        return "activitypub", f"@{path[1]}@{host}", f"{origin}/@{path[1]}"
    return None


@dataclass(frozen=True)
class Media:
    """Where an episode's files are published and how big the audio is, as publish found them, with
    the show notes read from the episode's folder."""

    audio_url: str
    audio_bytes: int
    transcript_url: str
    chapters_url: str
    image_url: str | None = None
    notes: str = ""
    """HTML for content:encoded, already restricted to the tags apps render (see notes.py)."""
    transcripts: tuple[Transcript, ...] = ()
    """The transcript in other formats than WebVTT (JSON, SRT)."""
    alternate: AlternateEnclosure | None = None
    image_width: int = 0
    """The episode art's width in pixels (0: unknown, no podcast:images)."""


def feed_xml(show: ShowSettings, episodes: list[tuple[Episode, Media]], channel: Channel = Channel()) -> bytes:
    """The whole feed, newest episode first; the same manifests always give the same bytes. An issue's
    link becomes the episode's <link> only if `urls.publishable` accepts it; the show's must be a web address."""
    base = show.base_url.rstrip("/")
    website = publishable(show.website)
    if website is None:
        raise SettingsError(f"podcast.website must be an http or https URL, not {show.website!r}")
    podcast = Show(
        name=show.title,
        description=show.description,
        website=website,
        explicit=show.explicit,
        language=show.language,
        authors=[podgen.Person(show.author)],
        owner=podgen.Person(show.owner_name, show.owner_email),
        category=podgen.Category(show.category, show.subcategory or None),
        image=f"{base}/{show.cover.name}",
        feed_url=show.feed_url,
        generator="audio-edition",
        channel=channel,
    )
    ordered = sorted(episodes, key=lambda pair: (pair[0].published, pair[0].number), reverse=True)
    podcast.last_updated = ordered[0][0].published if ordered else None
    for episode, media in ordered:
        podcast.add_episode(
            ShowEpisode(
                id=episode.guid,
                title=episode.title,
                link=publishable(episode.link),
                summary=html.escape(episode.description, quote=False),
                long_summary=media.notes or None,
                image=media.image_url,
                publication_date=episode.published,
                media=podgen.Media(
                    media.audio_url,
                    size=media.audio_bytes,
                    type="audio/mpeg",
                    duration=timedelta(seconds=round(episode.duration)),
                ),
            )
        )
        _fill(podcast.episodes[-1], episode, media, channel.people)
    return podcast.rss_str(encoding="UTF-8").encode("utf-8")


def _fill(added: ShowEpisode, episode: Episode, media: Media, people: People) -> None:
    """The Podcasting 2.0 item tags of one episode, from its manifest and what publish found."""
    added.number = episode.number
    added.transcripts = (Transcript(media.transcript_url, "text/vtt"), *media.transcripts)
    added.chapters_url = media.chapters_url
    added.people = episode_people(people, episode.summarizers)
    added.soundbite = episode.soundbite
    added.alternate = media.alternate
    added.discussion = publishable(episode.discussion)
    if media.image_url and media.image_width:
        added.images = (Image(media.image_url, media.image_width),)


def episode_people(people: People, summarizers: tuple[str, ...]) -> tuple[tuple[Person, str, str], ...]:
    """An episode's podcast:person list: the show's people (an episode's list replaces the show's, so they are
    restated), then each summarizer once, in the writing group, with the name, link and picture of the settings
    entry whose `credited_as` (or name) is how the newsletter names them, else as the newsletter names them."""
    known: dict[str, Person] = {}
    for person in (*people.summarizers, *people.show):
        for key in (person.credited_as.strip(), person.name.strip()):
            if key:
                known.setdefault(key.casefold(), person)
    listed = [(person, "host", "cast") for person in people.show]
    for name in summarizers:
        entry = known.get(name.strip().casefold())
        writer = dataclasses.replace(entry, role="", group="") if entry in people.show else entry
        listed.append((writer or Person(name.strip()), "writer", "writing"))
    return tuple(listed)

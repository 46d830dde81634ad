"""The podcast feed: podgen, extended by subclass with what Apple asks and the Podcasting 2.0 namespace."""

from __future__ import annotations

import html
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta

import podgen
from lxml import etree

from .model import Episode
from .settings import Podcast as ShowSettings

log = logging.getLogger(__name__)

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
# The Podcasting 2.0 spec's namespace for podcast:guid (UUIDv5 of the feed URL, scheme stripped).
GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")


def podcast_guid(feed_url: str) -> str:
    bare = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", feed_url).rstrip("/")
    return str(uuid.uuid5(GUID_NAMESPACE, bare))


def episode_guid(newsletter: str, number: int) -> str:
    """Depends only on the newsletter and the issue number: moving the host never duplicates an episode."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'audio-edition:{newsletter}:issue:{number}')}"


class Show(podgen.Podcast):
    """podgen.Podcast plus podcast:guid and podcast:locked, and itunes:explicit as Apple documents it."""

    def __init__(self, *, locked: bool = True, **kwargs):
        super().__init__(**kwargs)
        self._nsmap["podcast"] = PODCAST
        self.locked = locked
        self.episode_class = ShowEpisode

    def _create_rss(self):
        rss = super()._create_rss()
        channel = rss.find("channel")
        channel.find(f"{{{ITUNES}}}explicit").text = "true" if self.explicit else "false"
        etree.SubElement(channel, f"{{{PODCAST}}}guid").text = podcast_guid(self.feed_url)
        locked = etree.SubElement(channel, f"{{{PODCAST}}}locked")
        locked.text = "yes" if self.locked else "no"
        if self.owner and self.owner.email:
            locked.attrib["owner"] = self.owner.email
        # Items last, after every channel element, as readers expect.
        for item in channel.findall("item"):
            channel.remove(item)
            channel.append(item)
        return rss


class ShowEpisode(podgen.Episode):
    """podgen.Episode plus itunes:episode/episodeType and podcast:transcript/chapters."""

    def __init__(self, **kwargs):
        self.number: int | None = None
        self.episode_type = "full"
        self.transcript_url: str | None = None
        self.chapters_url: str | None = None
        super().__init__(**kwargs)

    def rss_entry(self):
        item = super().rss_entry()
        if self.number is not None:
            etree.SubElement(item, f"{{{ITUNES}}}episode").text = str(self.number)
        etree.SubElement(item, f"{{{ITUNES}}}episodeType").text = self.episode_type
        if self.transcript_url:
            etree.SubElement(
                item, f"{{{PODCAST}}}transcript", url=self.transcript_url, type="text/vtt", language="en"
            )
        if self.chapters_url:
            etree.SubElement(item, f"{{{PODCAST}}}chapters", url=self.chapters_url, type="application/json+chapters")
        return item


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


def feed_xml(show: ShowSettings, episodes: list[tuple[Episode, Media]]) -> bytes:
    """The whole feed, newest episode first; the same manifests always give the same bytes."""
    base = show.base_url.rstrip("/")
    podcast = Show(
        name=show.title,
        description=show.description,
        website=show.website,
        explicit=show.explicit,
        language=show.language,
        authors=[podgen.Person(show.author)],
        owner=podgen.Person(show.owner_name, show.owner_email),
        category=podgen.Category(show.category, show.subcategory or None),
        image=f"{base}/{show.cover.name}",
        feed_url=show.feed_url,
        generator="audio-edition",
    )
    ordered = sorted(episodes, key=lambda pair: (pair[0].published, pair[0].number), reverse=True)
    podcast.last_updated = ordered[0][0].published if ordered else None
    for episode, media in ordered:
        podcast.add_episode(
            ShowEpisode(
                id=episode.guid,
                title=episode.title,
                link=episode.link or None,
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
        added = podcast.episodes[-1]
        added.number = episode.number
        added.transcript_url = media.transcript_url
        added.chapters_url = media.chapters_url
    return podcast.rss_str(encoding="UTF-8").encode("utf-8")

"""Releasing: public/ regenerated from the built episodes, copied to the host, then the apps' services told;
one step for the editor and the job."""

from __future__ import annotations

import logging
from pathlib import Path

from lxml import etree

from . import ping
from .hosting import push
from .publish import publish
from .settings import Settings

log = logging.getLogger(__name__)


def release(settings: Settings, approve: set[int] = frozenset(), to: str | None = None) -> Path:
    """Publish public/ (validated, feed.xml swapped in last), copy it to the host (`to`, else [hosting]), then,
    if the feed is new to them, ping the services apps watch ([ping]): a failed ping is only logged."""
    feed = publish(settings, approve)
    push(settings, to)
    ping.announce(settings, feed)
    return feed


def listed_guids(feed: Path) -> set[str]:
    """The guids of the episodes a published feed lists; none if there is no readable feed."""
    try:
        root = etree.parse(str(feed), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
    except (OSError, etree.XMLSyntaxError):
        return set()
    return {guid.text or "" for guid in root.iter("guid")}

"""The one rule for a URL that may be published: listeners' apps, pages and notices only ever get web links.

Every output that carries a link from the newsletter (the feed, the show notes, the site, the JSON
chapters, the ID3 link frames, the notifications) asks `publishable` first, and `publish.validate`
asks it again of the finished feed: one rule, so that no output is looser than another.
"""

from __future__ import annotations

import logging
import unicodedata
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

SCHEMES = ("http", "https")
LONGEST = 2048
"""Characters; the sitemap protocol's limit. A longer 'link' is not one a listener follows."""
_NEVER = frozenset('"<>`\\')
"""Characters a well-formed URL never holds unencoded; a browser reads a backslash as '/', so
'https://good.example\\@evil.example/' would open another host than the one it shows."""
_INVISIBLE = ("C", "Z")
"""Unicode categories refused anywhere in a URL: controls, format characters (direction overrides),
surrogates, unassigned and private-use code points, and every space or line separator."""


def publishable(url: str | None) -> str | None:
    """`url` without its surrounding whitespace if it is an absolute http or https address (any case)
    with a host, a valid port, no user or password, and no control, invisible or space character;
    None for anything else: javascript:, data:, relative, scheme-relative ('//evil'), 'http:/x'."""
    if not url:
        return None
    url = url.strip()
    if not url or len(url) > LONGEST:
        return None
    if any(char in _NEVER or unicodedata.category(char)[0] in _INVISIBLE for char in url):
        return None
    try:
        parts = urlsplit(url)
        parts.port  # raises ValueError for a port that is not a number from 0 to 65535
    except ValueError:
        return None
    if parts.scheme.lower() not in SCHEMES or not parts.hostname:
        return None
    if parts.username is not None or parts.password is not None:
        return None  # 'https://good.example@evil.example/' shows one host and opens another
    return url

"""Each episode's own cover: the show's cover with the issue number and date, so apps tell episodes apart.

Apple Podcasts and most players show an episode's `itunes:image` (and the MP3's embedded picture) in
lists as a thumbnail of about 300 pixels, so the number and the date sit in a band across the lower part
of the cover, drawn large enough to read at that size; the rest of the show's cover is left as it is.
The result is a baseline RGB JPEG, square, between 1400 and 3000 pixels as Apple requires.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from datetime import datetime
from pathlib import Path

from . import clock
from .errors import SettingsError
from .files import atomic_write

log = logging.getLogger(__name__)

VERSION = 1
"""Raise when the drawing changes, so every episode's art is drawn again."""

NAME = "cover.jpg"
RECORD = "cover.json"
"""What cover.jpg was drawn from, next to it: when it matches, the art is not drawn again."""

MIN_SIZE, MAX_SIZE = 1400, 3000
BAND = 0.24
"""The band's height as a fraction of the cover: below the waveform, over the show cover's subtitle."""

_INK = (255, 255, 255)
_ACCENT = (120, 220, 210)  # the waveform's colour in tools/assets.py's cover
_SHADE = (10, 22, 44)  # near the gradient's darkest colour, opaque so the subtitle does not show through
_QUALITY = 88

def draw(show_cover: bytes, number: int, published: datetime, newsletter: str) -> bytes:
    """JPEG bytes; the same inputs always give the same bytes (deterministic)."""
    return _render(_open(show_cover, "the show cover"), number, published, newsletter)


def _render(image, number: int, published: datetime, newsletter: str) -> bytes:
    """The band: "#66" large on the left; on the right, the newsletter's name (so the art stands alone
    whatever the show cover shows) over the date. Sizes are fractions of the cover, so any size looks alike."""
    from PIL import ImageDraw

    image = _square(image)
    size = image.width
    top = round(size * (1 - BAND))
    pen = ImageDraw.Draw(image)
    pen.rectangle([0, top, size, size], fill=_SHADE)
    pen.rectangle([0, top, size, top + max(2, round(size * 0.006))], fill=_ACCENT)

    margin = round(size * 0.1)  # the show's title starts at 10%, as in assets.cover
    middle = top + (size - top) / 2
    label = f"#{number}"
    big = _font(label, round(size * 0.16), size * 0.42)
    pen.text((margin, middle), label, font=big, fill=_INK, anchor="lm", stroke_width=max(1, size // 500),
             stroke_fill=_INK)
    left = margin + pen.textlength(label, font=big) + size * 0.06
    width = size - margin - left
    rule = round(size * 0.004)
    pen.rectangle([left - size * 0.03 - rule / 2, middle - size * 0.07, left - size * 0.03 + rule / 2,
                   middle + size * 0.07], fill=_ACCENT)
    when = clock.date(published)
    date = _font(when, round(size * 0.06), width)
    name = _font(newsletter, round(size * 0.04), width)
    pen.text((left, middle - size * 0.012), newsletter, font=name, fill=_ACCENT, anchor="ls")
    pen.text((left, middle + size * 0.012), when, font=date, fill=_INK, anchor="lt")

    out = io.BytesIO()
    image.save(out, "JPEG", quality=_QUALITY, optimize=True, progressive=False)
    return out.getvalue()


def ensure(folder: Path, show_cover: Path, number: int, published: datetime, newsletter: str) -> Path:
    """folder/"cover.jpg", drawn again only when what it is drawn from changed; otherwise left untouched.

    The record of what it was drawn from (folder/"cover.json") is written after the picture, so a build
    killed between the two leaves a stale record and the next build draws the picture again.
    """
    try:
        cover = show_cover.read_bytes()
    except OSError as exc:
        raise SettingsError(f"cannot read the show cover {show_cover} (podcast.cover): {exc.strerror or exc}") from None
    target, record_path = folder / NAME, folder / RECORD
    record = {
        "version": VERSION,
        "show_cover_sha256": hashlib.sha256(cover).hexdigest(),
        "number": number,
        "published": published.isoformat(),
        "newsletter": newsletter,
    }
    if target.is_file() and _read_record(record_path) == record:
        return target
    picture = _open(cover, f"the show cover {show_cover} (podcast.cover)")
    art = _render(picture, number, published, newsletter)
    atomic_write(target, art)
    atomic_write(record_path, (json.dumps(record, indent=2, ensure_ascii=False) + "\n").encode())
    log.info("drew the cover of issue #%d in %s (%d KB)", number, target, len(art) // 1024)
    return target


def _open(data: bytes, what: str):
    """The decoded picture, or SettingsError saying that `what` is not one."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            return image.convert("RGB")
    except UnidentifiedImageError:
        raise SettingsError(f"{what} is not an image Pillow can read") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise SettingsError(f"{what} is not an image Pillow can read ({exc})") from None


def _square(image):
    """Centre-cropped to a square, scaled into the range Apple accepts (1400 to 3000 pixels)."""
    from PIL import Image

    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    image = image.crop((left, top, left + side, top + side))
    size = min(max(side, MIN_SIZE), MAX_SIZE)
    return image if size == side else image.resize((size, size), Image.Resampling.LANCZOS)


def _font(text: str, size: int, width: float):
    """Pillow's bundled scalable font at `size`, smaller if `text` would be wider than `width`."""
    from PIL import ImageFont

    font = ImageFont.load_default(size=size)
    length = font.getlength(text)
    if length > width:
        font = ImageFont.load_default(size=max(1, int(size * width / length)))
    return font


def _read_record(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None

"""Episode art: the show cover with the issue number and date in a band, readable, stable, redrawn when needed."""

from __future__ import annotations

import io
import shutil
from datetime import datetime

import numpy as np
import pytest
from conftest import REPO
from PIL import Image

from audio_edition import art
from audio_edition.errors import EditionError

SHOW_COVER = REPO / "audio" / "cover.jpg"
WHEN = datetime(2019, 10, 2)
NAME = "Alignment Newsletter"


def _pixels(jpeg: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(jpeg)) as image:
        return np.asarray(image.convert("RGB"), dtype=np.int16)


def _png(size: tuple[int, int], colour=(30, 60, 90)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def show() -> bytes:
    return SHOW_COVER.read_bytes()


@pytest.fixture(scope="module")
def episode(show) -> bytes:
    return art.draw(show, 66, WHEN, NAME)


def test_a_baseline_rgb_jpeg_of_the_show_covers_size(episode):
    with Image.open(io.BytesIO(episode)) as image:
        assert image.format == "JPEG" and image.mode == "RGB"
        assert image.size == (3000, 3000)
        assert not image.info.get("progressive")
    assert len(episode) < 600 * 1024


def test_the_band_is_drawn_and_the_rest_is_the_show_cover(show, episode):
    before, after = _pixels(show), _pixels(episode)
    top = round(3000 * (1 - art.BAND))
    above = np.abs(before[: top - 30] - after[: top - 30]).mean()
    band = np.abs(before[top:] - after[top:]).mean()
    assert above < 2, "the show cover above the band should be untouched (up to JPEG re-encoding)"
    assert band > 20
    assert after[top + 30:].std() > 30, "the band should carry text, not a plain colour"


def test_number_and_date_are_visible_in_their_parts_of_the_band(show, episode):
    """Another number changes the band's left, another date its right; nothing above the band moves."""
    top = round(3000 * (1 - art.BAND))
    base = _pixels(episode)
    other_number = np.abs(_pixels(art.draw(show, 67, WHEN, NAME)) - base).mean(axis=2) > 40
    other_date = np.abs(_pixels(art.draw(show, 66, datetime(2019, 11, 20), NAME)) - base).mean(axis=2) > 40
    assert not other_number[:top].any() and not other_date[:top].any()
    assert other_number[top:, :1200].sum() > 5000
    assert other_date[top:, 1200:].sum() > 5000 and not other_date[top:, :900].any()


def test_same_inputs_same_bytes(show, episode):
    assert art.draw(show, 66, WHEN, NAME) == episode


@pytest.mark.parametrize(("side", "expected"), [(600, 1400), (4000, 3000)])
def test_size_is_clamped_into_apples_range(side, expected):
    with Image.open(io.BytesIO(art.draw(_png((side, side)), 7, WHEN, NAME))) as image:
        assert image.size == (expected, expected)


def test_a_cover_that_is_not_square_is_cropped_square():
    with Image.open(io.BytesIO(art.draw(_png((2000, 1600)), 7, WHEN, NAME))) as image:
        assert image.size == (1600, 1600)


def test_ensure_redraws_only_when_an_input_changes(tmp_path, show):
    cover = tmp_path / "show.jpg"
    shutil.copyfile(SHOW_COVER, cover)
    folder = tmp_path / "an-066"

    path = art.ensure(folder, cover, 66, WHEN, NAME)
    assert path == folder / "cover.jpg" and path.read_bytes() == art.draw(show, 66, WHEN, NAME)
    first = path.stat().st_mtime_ns
    assert art.ensure(folder, cover, 66, WHEN, NAME) == path
    assert path.stat().st_mtime_ns == first, "nothing changed, so the art must not be rewritten"

    art.ensure(folder, cover, 67, WHEN, NAME)
    assert path.read_bytes() == art.draw(show, 67, WHEN, NAME)

    cover.write_bytes(_png((1500, 1500)))
    art.ensure(folder, cover, 67, WHEN, NAME)
    with Image.open(path) as image:
        assert image.size == (1500, 1500)
    assert not [p.name for p in folder.iterdir() if p.name not in ("cover.jpg", "cover.json")], "no temp files left"


def test_ensure_redraws_a_missing_picture_or_a_damaged_record(tmp_path):
    cover = tmp_path / "show.png"
    cover.write_bytes(_png((1400, 1400)))
    path = art.ensure(tmp_path / "ep", cover, 3, WHEN, NAME)
    path.unlink()
    assert art.ensure(tmp_path / "ep", cover, 3, WHEN, NAME).is_file()
    (tmp_path / "ep" / "cover.json").write_text("{", encoding="utf-8")
    first = path.stat().st_mtime_ns
    art.ensure(tmp_path / "ep", cover, 3, WHEN, NAME)
    assert path.stat().st_mtime_ns != first


def test_a_show_cover_that_is_not_an_image_names_the_file(tmp_path):
    cover = tmp_path / "cover.jpg"
    cover.write_text("<html>not found</html>", encoding="utf-8")
    with pytest.raises(EditionError, match=r"cover\.jpg.*not an image"):
        art.ensure(tmp_path / "ep", cover, 66, WHEN, NAME)
    with pytest.raises(EditionError, match="does-not-exist"):
        art.ensure(tmp_path / "ep", tmp_path / "does-not-exist.jpg", 66, WHEN, NAME)
    with pytest.raises(EditionError, match="not an image"):
        art.draw(b"\xff\xd8\xff\xe0 truncated", 66, WHEN, NAME)
    assert not (tmp_path / "ep" / "cover.jpg").exists()

"""The show's own intro/outro jingle and cover art, generated here so the project ships no third-party media.

Run `python tools/assets.py audio/` (`make assets`) to regenerate audio/intro.wav, audio/outro.wav, audio/cover.jpg.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from audio_edition.speak.cache import write_wav

RATE = 44100


def _tone(freq: float, seconds: float, rate: int = RATE) -> np.ndarray:
    """A soft electric-piano-like note: a few harmonics, a fast attack and an exponential decay."""
    t = np.arange(int(seconds * rate)) / rate
    wave_ = sum(amp * np.sin(2 * np.pi * freq * k * t) for k, amp in ((1, 1.0), (2, 0.35), (3, 0.12), (4, 0.05)))
    envelope = np.minimum(t / 0.01, 1.0) * np.exp(-3.2 * t)
    return wave_ * envelope


def jingle(notes: list[tuple[float, float]], length: float, rate: int = RATE) -> np.ndarray:
    """Notes as (start seconds, frequency) over a quiet pad chord, faded at both ends."""
    out = np.zeros(int(length * rate))
    for start, freq in notes:
        note = _tone(freq, length - start, rate)
        begin = int(start * rate)
        out[begin:begin + len(note)] += note[: len(out) - begin]
    t = np.arange(len(out)) / rate
    pad = sum(np.sin(2 * np.pi * f * t) for f in (130.81, 196.0, 261.63)) * 0.08
    out += pad * np.minimum(t / 0.8, 1.0)
    fade = int(0.6 * rate)
    out[-fade:] *= np.linspace(1.0, 0.0, fade)
    return out / np.max(np.abs(out)) * 0.7


INTRO = [(0.0, 523.25), (0.25, 659.25), (0.5, 783.99), (0.75, 1046.5), (1.25, 987.77), (1.5, 783.99)]
OUTRO = [(0.0, 783.99), (0.3, 659.25), (0.6, 523.25), (1.0, 392.0)]


def cover(path: Path, title: str = "Alignment Newsletter", subtitle: str = "audio edition", size: int = 3000) -> None:
    """A square cover: dark gradient, a waveform motif, the show's name (Pillow's bundled font)."""
    from PIL import Image, ImageDraw, ImageFont

    y = np.linspace(0, 1, size)[:, None]
    x = np.linspace(0, 1, size)[None, :]
    top, bottom = np.array([18, 32, 64]), np.array([8, 96, 112])
    mix = (0.7 * y + 0.3 * x)[..., None]
    pixels = (top * (1 - mix) + bottom * mix).astype(np.uint8)
    image = Image.fromarray(pixels, "RGB")
    draw = ImageDraw.Draw(image)
    bars = 48
    for i in range(bars):
        height = size * 0.22 * (0.25 + 0.75 * abs(np.sin(i * 0.55) * np.cos(i * 0.21)))
        cx = size * (0.1 + 0.8 * i / (bars - 1))
        draw.rounded_rectangle(
            [cx - size * 0.006, size * 0.62 - height / 2, cx + size * 0.006, size * 0.62 + height / 2],
            radius=int(size * 0.006),
            fill=(120, 220, 210),
        )
    big = ImageFont.load_default(size=int(size * 0.085))
    small = ImageFont.load_default(size=int(size * 0.06))
    draw.text((size * 0.1, size * 0.16), title.split()[0], font=big, fill=(255, 255, 255))
    draw.text((size * 0.1, size * 0.26), " ".join(title.split()[1:]), font=big, fill=(255, 255, 255))
    draw.text((size * 0.1, size * 0.82), subtitle, font=small, fill=(190, 235, 230))
    image.save(path, "JPEG", quality=88, optimize=True)


def main(folder: str = "audio") -> None:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    write_wav(out / "intro.wav", (jingle(INTRO, 4.0) * 32767).astype(np.int16), RATE)
    write_wav(out / "outro.wav", (jingle(OUTRO, 3.5) * 32767).astype(np.int16), RATE)
    cover(out / "cover.jpg")


if __name__ == "__main__":
    main(*sys.argv[1:])

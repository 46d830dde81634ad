"""Progress of long work: a bar on a terminal, plain log lines under cron, both from the same stream."""

from __future__ import annotations

import logging
import sys
import time
from typing import Callable, Iterable, Iterator, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


def track(items: Iterable[T], total: int, what: str, seconds_of: Callable[[T], float], every: float = 10.0) -> Iterator[T]:
    """Yield items unchanged while reporting count, audio produced and time left."""
    if sys.stderr.isatty():
        yield from _bar(items, total, what, seconds_of)
        return
    started = last = time.monotonic()
    audio = 0.0
    for done, item in enumerate(items, 1):
        audio += seconds_of(item)
        now = time.monotonic()
        if now - last >= every or done == total:
            last = now
            left = (now - started) / done * (total - done)
            log.info("%s: %d of %d segments, %.1f minutes of audio, about %ds left", what, done, total, audio / 60, left)
        yield item


def _bar(items: Iterable[T], total: int, what: str, seconds_of: Callable[[T], float]) -> Iterator[T]:
    from tqdm import tqdm

    audio = 0.0
    with tqdm(total=total, desc=what, unit="seg", file=sys.stderr, dynamic_ncols=True) as bar:
        for item in items:
            audio += seconds_of(item)
            bar.set_postfix_str(f"{audio / 60:.1f} min audio")
            bar.update(1)
            yield item

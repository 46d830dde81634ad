"""Progress of long work: a bar on a terminal, plain log lines under cron, both from the same stream.

Time left is estimated from the work still to do, not from the count of items: a segment found in
the cache costs nothing, and a long paragraph costs more than a heading.
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Sequence, TypeVar

from . import clock

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass
class _Estimate:
    """Items and audio so far, and the time left at the rate the weighted work has gone."""

    weights: Sequence[float]
    started: float
    done: int = 0
    audio: float = 0.0
    spent: float = 0.0
    """Weight of the work done so far."""

    def advance(self, seconds_of_audio: float) -> None:
        self.spent += self.weights[self.done] if self.done < len(self.weights) else 0.0
        self.done += 1
        self.audio += seconds_of_audio

    def left(self, now: float) -> float | None:
        remaining = sum(self.weights[self.done:])
        if not remaining:
            return 0.0
        if not self.spent:
            return None
        return (now - self.started) / self.spent * remaining


def track(items: Iterable[T], total: int, what: str, seconds_of: Callable[[T], float],
          weights: Sequence[float] | None = None, every: float = 10.0) -> Iterator[T]:
    """Yield items unchanged while reporting the count, the audio produced and the time left.

    `weights` says how much work each item is (e.g. characters to synthesize, 0 for a cached one);
    without them every item counts the same.
    """
    estimate = _Estimate(list(weights) if weights is not None else [1.0] * total, time.monotonic())
    if sys.stderr.isatty():
        yield from _bar(items, total, what, seconds_of, estimate)
        return
    last = estimate.started
    for item in items:
        estimate.advance(seconds_of(item))
        now = time.monotonic()
        if now - last >= every or estimate.done == total:
            last = now
            left = estimate.left(now)
            log.info("%s: %d of %d segments, %.1f minutes of audio, %s left",
                     what, estimate.done, total, estimate.audio / 60, _clock(left))
        yield item


def _bar(items: Iterable[T], total: int, what: str, seconds_of: Callable[[T], float], estimate: _Estimate) -> Iterator[T]:
    from tqdm import tqdm

    form = "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} segments [{elapsed}{postfix}]"
    with tqdm(total=total, desc=what, file=sys.stderr, dynamic_ncols=True, bar_format=form) as bar:
        for item in items:
            estimate.advance(seconds_of(item))
            bar.set_postfix_str(f"{estimate.audio / 60:.1f} min audio, {_clock(estimate.left(time.monotonic()))} left",
                                refresh=False)
            bar.update(1)
            yield item


def _clock(seconds: float | None) -> str:
    return "?" if seconds is None else clock.duration(seconds)

"""The ONNX Runtime session a long build speaks through: one per Piper voice file, its memory held in check.

Piper's own loader gives each voice its own session with onnxruntime's defaults; a build that speaks
several sentences at once wants one session for every role, one thread per sentence, and a memory
arena that does not keep growing. onnxruntime's arena keeps what it has allocated, and sentences of
every length running side by side leave it fragmented: over a two-hour issue it grows from 0.8 GB
to 1.5 GB. Giving its free regions back after every run holds it at the size of what is running, at
15% of Piper's speed, so that is done after a long sentence (`LONG_INPUT`), whose hundreds of MB would
otherwise stay beside the other engine's work, and after any run once the process is past `MEMORY_HIGH`.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import onnxruntime
from piper import PiperVoice as Engine
from piper.config import PiperConfig

from ..errors import VoiceError

log = logging.getLogger(__name__)

MEMORY_HIGH = 700 * 2**20
"""Resident bytes past which every run gives the arena's free regions back when it ends."""

LONG_INPUT = 250
"""Phoneme ids (about 2.2 a character, so a part of about 110 characters or more: see piper.MAX_CHARS) past
which a run gives the arena back when it ends, whatever the process holds: the 150 to 200 MB such a part
needs would otherwise stay beside whatever runs next (the other engine's sentences, the encoder). On #66's
opinions, shrinking after every run cost 15% more CPU; after the long ones only, the few percent of a handful
of runs."""


class Session(onnxruntime.InferenceSession):
    """An InferenceSession that shrinks its memory arena after a long run, or after any run while the process
    is above `MEMORY_HIGH`."""

    def run(self, output_names, input_feed, run_options=None):
        long = any(getattr(value, "size", 0) > LONG_INPUT for value in input_feed.values())
        if run_options is None and (long or _resident() > MEMORY_HIGH):
            run_options = onnxruntime.RunOptions()
            run_options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
        return super().run(output_names, input_feed, run_options)


def load(model: Path, config: Path, threads: int) -> Engine:
    """Piper's engine for a voice file, as the library loads it, on a `Session` with `threads` intra-op threads."""
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = max(0, threads)
    try:
        session = Session(str(model), sess_options=options, providers=["CPUExecutionProvider"])
        settings = PiperConfig.from_dict(json.loads(config.read_text(encoding="utf-8")))
    except Exception as exc:  # onnxruntime raises its own types for a corrupt model
        raise VoiceError(f"cannot load Piper voice {model}: {exc}") from None
    log.debug("loaded Piper voice %s: one ONNX session, %s intra-op threads", model.name, threads or "default")
    return Engine(config=settings, session=session)


def suits(engine: Engine | None, threads: int) -> bool:
    """Whether an engine (None: not loaded yet) already runs `threads` intra-op threads (0: onnxruntime's
    default), on a `Session` when that is one thread per sentence."""
    if engine is None or engine.session.get_session_options().intra_op_num_threads != max(0, threads):
        return False
    return threads == 0 or isinstance(engine.session, Session)


def _resident() -> int:
    """This process's resident memory in bytes, from /proc; 0 where there is none (the arena is then left alone)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0

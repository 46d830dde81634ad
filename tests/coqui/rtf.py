"""Benchmark: real-time factor of the Coqui engine against Piper (joe) on the same sentences.

    .venv-coqui/bin/python tests/coqui/rtf.py [--model CHECKPOINT] [--sentences 20]

With no --model it builds two random VITS models with make_tiny_vits.py: the tiny one of the tests
(the engine's overhead) and one with the layer sizes of Coqui's released VITS models (about what a
real VITS voice costs; its random durations make the speech rate unlike a trained voice's). XTTS,
an autoregressive model, is far slower than either and cannot be measured here without its weights.
The real-time factor is seconds of computing per second of speech; below 1 is faster than real time.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent


def sentences(count: int) -> list[str]:
    from audio_edition.speak import Lexicon, spoken_sentences

    text = (REPO / "tests" / "fixtures" / "an-066.txt").read_text(encoding="utf-8")
    lexicon = Lexicon.load(REPO / "voices" / "lexicon.toml")
    lines = [line.spoken for paragraph in text.split("\n\n") for line in spoken_sentences(paragraph, lexicon)]
    return [line for line in lines if len(line) > 40][:count]


def rtf(voice, texts: list[str]) -> tuple[float, float]:
    voice.speak(texts[0])  # warm up
    start = time.perf_counter()
    samples = sum(len(voice.speak(text)) for text in texts)
    spent = time.perf_counter() - start
    audio = samples / voice.sample_rate
    return spent / audio, audio


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="a Coqui checkpoint (config.json beside it)")
    parser.add_argument("--sentences", type=int, default=20)
    options = parser.parse_args(argv)
    sys.path.insert(0, str(HERE))
    from make_tiny_vits import build

    from audio_edition.speak.coqui import CoquiSpeaker
    from audio_edition.speak.piper import PiperSpeaker

    texts = sentences(options.sentences)
    with tempfile.TemporaryDirectory() as tmp:
        models = {"given": options.model} if options.model else {
            "tiny random VITS": build(Path(tmp) / "tiny", sample_rate=22050)[0],
            "full-size random VITS": build(Path(tmp) / "full", sample_rate=22050, full_size=True)[0],
        }
        voices = {"piper joe-medium": PiperSpeaker.from_options({}, REPO / "voices", "piper")}
        for name, model in models.items():
            voices[f"coqui {name}"] = CoquiSpeaker.from_options({"model_path": str(model)}, REPO / "voices", name)
        print(f"{len(texts)} sentences, {sum(map(len, texts))} characters")
        for name, voice in voices.items():
            factor, audio = rtf(voice, texts)
            print(f"{name:28s} {voice.sample_rate:6d} Hz  {audio:7.1f} s of speech  real-time factor {factor:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

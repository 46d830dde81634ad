"""Number words for numbers as written, of any length: a long run of digits is read, never a crash."""

# Cardinals and ordinals the American way, without "and"; years as narrators say them. These are the
# words num2words gives (tests/test_normalize.py holds them to it), made here in 1 to 7 microseconds
# because num2words takes 20 to 350 a number: a megabyte of numbers would take from ten seconds to
# minutes. Past a sextillion (and for identifiers) digits are read one by one.

from __future__ import annotations

import logging
import re

log = logging.getLogger(__name__)

LONGEST = 15
"""Digits read as one number (below a quadrillion); a longer run is an identifier, read digit by digit."""
LONGEST_GROUPED = 21
"""Thousands separators show a quantity: read as one number up to a sextillion."""

DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
ONES = (*DIGITS, "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
        "nineteen")
TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
THOUSANDS = ("", " thousand", " million", " billion", " trillion", " quadrillion", " quintillion")
IRREGULAR_ORDINALS = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
                      "nine": "ninth", "twelve": "twelfth"}
ORDINAL_DIGITS = ("zeroth", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth")
FRACTION_NAMES = {2: ("half", "halves"), 4: ("quarter", "quarters")}
LARGEST_NAMED_DENOMINATOR = 10
"""'three eighths', but 'seven out of twenty': a listener follows small denominators only."""

ROMAN = re.compile(r"M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})")
ROMAN_VALUES = {"M": 1000, "D": 500, "C": 100, "L": 50, "X": 10, "V": 5, "I": 1}


def digits(text: str) -> str:
    """'0451' -> 'zero four five one': every digit in the text, one word each."""
    return " ".join(DIGITS[int(c)] for c in text if c.isdecimal())


def integer(text: str, longest: int = LONGEST) -> str:
    """'1234' -> 'one thousand two hundred thirty-four'; '007' and runs longer than `longest` digit by digit."""
    if len(text) > longest or (len(text) > 1 and text.startswith("0")):
        return digits(text)
    return _words(int(text))


def cardinal(number: str) -> str:
    """'1,234.50' -> 'one thousand two hundred thirty-four point five zero'; '-3' -> 'minus three'."""
    text = number.strip()
    sign = "minus " if text[:1] in "-−" else ""
    text = text.lstrip("-−+")
    whole, dot, fraction = text.replace(",", "").partition(".")
    words = integer(whole, LONGEST_GROUPED if "," in text else LONGEST) if whole else ""
    if dot:
        words = f"{words} point {digits(fraction)}".strip()
    return sign + words


def ordinal(number: str) -> str:
    """'21' -> 'twenty-first', '1,000' -> 'one thousandth', '99.9' -> 'ninety-nine point ninth'."""
    text = number.strip().replace(",", "")
    whole, dot, fraction = text.partition(".")
    whole = whole.lstrip("0") or "0"
    if dot and fraction:
        return f"{cardinal(whole)} point {digits(fraction[:-1])} {ORDINAL_DIGITS[int(fraction[-1])]}".replace("  ", " ")
    if len(whole) > LONGEST:
        return " ".join([*(DIGITS[int(c)] for c in whole[:-1]), ORDINAL_DIGITS[int(whole[-1])]])
    head, _, last = _words(int(whole)).rpartition(" ")
    stem, dash, word = last.rpartition("-")
    word = IRREGULAR_ORDINALS.get(word) or (word[:-1] + "ieth" if word.endswith("y") else word + "th")
    return f"{head} {stem}{dash}{word}".lstrip()


def year(number: str) -> str:
    """'2019' -> 'twenty nineteen', '2005' -> 'two thousand five', '1506' -> 'fifteen oh six'."""
    value = int(number)
    high, low = divmod(value, 100)
    if high == 0 or (high % 10 == 0 and low < 10) or high >= 100:
        return _words(value)
    return f"{_words(high)} {'hundred' if low == 0 else f'oh {ONES[low]}' if low < 10 else _words(low)}"


def plural(words: str) -> str:
    """The plural of a number word: 'nineteen ninety' -> 'nineteen nineties', 'half' -> 'halves', 'six' -> 'sixes'."""
    if words.endswith("y"):
        return words[:-1] + "ies"
    if words.endswith("f"):
        return words[:-1] + "ves"
    if words.endswith("x"):
        return words + "es"
    return words + "s"


def fraction(top: str, bottom: str) -> str:
    """'3', '4' -> 'three quarters'; '1', '2' -> 'one half'; '7', '20' -> 'seven out of twenty'."""
    denominator = int(bottom) if len(bottom) <= 3 else 0
    if not 2 <= denominator <= LARGEST_NAMED_DENOMINATOR or len(top) > LONGEST:
        return f"{cardinal(top)} out of {cardinal(bottom)}"
    return f"{cardinal(top)} {denominator_name(denominator, many=int(top) != 1)}"


def denominator_name(denominator: int, many: bool = False) -> str:
    """2 -> 'half' ('halves' if many), 4 -> 'quarter', 8 -> 'eighth' ('eighths')."""
    name = ordinal(str(denominator))
    one, several = FRACTION_NAMES.get(denominator) or (name, name + "s")
    return several if many else one


def roman(numeral: str) -> int | None:
    """'XIV' -> 14; None when the letters are not a well-formed numeral ('IIII', 'IC', '')."""
    if not numeral or not ROMAN.fullmatch(numeral):
        return None
    values = [ROMAN_VALUES[c] for c in numeral]
    return sum(-v if v < after else v for v, after in zip(values, values[1:] + [0]))


def _words(value: int) -> str:
    """1234 -> 'one thousand two hundred thirty-four', for any value below a sextillion."""
    if value == 0:
        return "zero"
    groups = []
    for scale in THOUSANDS:
        value, group = divmod(value, 1000)
        if group:
            groups.append(_below_thousand(group) + scale)
    return " ".join(reversed(groups))


def _below_thousand(value: int) -> str:
    hundreds, rest = divmod(value, 100)
    words = f"{ONES[hundreds]} hundred" if hundreds else ""
    if rest:
        tens = ONES[rest] if rest < 20 else TENS[rest // 10] + (f"-{ONES[rest % 10]}" if rest % 10 else "")
        words = f"{words} {tens}".lstrip()
    return words

"""Written text to the words a careful narrator would say: the voice must never see a symbol it would misread."""

# The knowledge is in tables (tables.py) and number words (numbers.py); the rules below only find where
# a table applies, in an order that matters. Every pattern runs in time linear in its input, whatever
# the newsletter sends: a quantifier that could start anywhere inside a run starts only at the run's
# start (a look-behind for its own characters), nothing is searched for again from every position,
# and what a rule looks at around a match is a window of a few dozen characters, never the whole text
# before it. tests/test_normalize.py holds each hostile shape to linear growth.

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from typing import Callable

from .numbers import cardinal, denominator_name, fraction, ordinal, plural, roman, year
from .tables import (
    ABBREVIATIONS, CROSS_REFERENCES, CURRENCIES, CURRENCY_CODES, DISTRIBUTED, DOMAINS, ERAS, FRACTIONS, FUNCTION_WORDS,
    FUNCTIONS, GREEK, LENGTHS, LETTERLIKE, LINK_WORDS, LOOSE_SYMBOLS, MONTH_NAMES, MONTHS, NOT_NAMES,
    NUMBERED_ABBREVIATIONS, NUMBERING, PER, PER_WORDS, PLACES, REFERENCES, REGNAL, SCALE_WORDS, SCALES, SUBSCRIPTS,
    SUPERSCRIPTS, SYMBOLS, TIME_ZONES, TITLES, UNITS, VERB_MONTHS, WEAK_YEAR_CUES, YEAR_CUES, YEAR_FOLLOWERS,
)

log = logging.getLogger(__name__)

WINDOW = 40
"""Characters a rule may look at on either side of its match (the word before, the word after)."""

_NUM = r"(?:\d{1,3}(?:,\d{3})+(?!\d)|\d{1,2}(?:,\d\d)+,\d{3}(?!\d)|\d+)(?:\.\d+)?|\.\d+"
"""An unsigned number as written: 7, 1,000, 1,00,000 (Indian grouping), 3.14, .5"""
_RANGE = r"\s?(?:–|—|-|to)\s?"
_START = r"(?<![\w.^])(?<![A-Za-z]-)"
"""Where a number may start: not inside a word, a number or a name ('GPT-3'), nor as an exponent ('10^23 FLOPs')."""
_NEG = r"(?:(?P<neg>[-−])(?=\.?\d))?"
_AMPM = r"[ap]\.?m\b\.?|[AP]\.?M\b\.?"
_A_TIME = rf"\d\d?(?::\d\d|(?:\.\d\d)?\s?(?:{_AMPM})|\s?[–—-]\s?\d\d?(?:[:.]\d\d)?\s?(?:{_AMPM}))"
"""What makes a number a time: minutes after a colon, or A M or P M (on it, or on the end of its range)."""


# --- the text around a match: bounded windows --------------------------------------------------------

_FIRST_WORD = re.compile(r"\s*(\w+)")
_LAST_WORD_BACKWARDS = re.compile(r"\W*(\w+)")
_TRAILING_SPACE = re.compile(r"\s*\Z")
_OPERAND_BACKWARDS = re.compile(r"[\d)\]]|[^\W\d_](?![\w'])|[A-Z\d]+[A-Z](?!\w)")
"""Read backwards from a symbol: a number, a bracket, a one-letter variable or an acronym stands before it."""


def _before(m: re.Match[str], size: int = WINDOW) -> str:
    return m.string[max(0, m.start() - size):m.start()]


def _after(m: re.Match[str], size: int = WINDOW) -> str:
    return m.string[m.end():m.end() + size]


def _previous_word(m: re.Match[str]) -> str:
    """The word before the match, read backwards from it (a match at the start, never a search)."""
    found = _LAST_WORD_BACKWARDS.match(_before(m)[::-1])
    return found.group(1)[::-1] if found else ""


def _next_word(m: re.Match[str]) -> str:
    found = _FIRST_WORD.match(_after(m))
    return found.group(1) if found else ""


def _at_end(m: re.Match[str]) -> bool:
    """Nothing but spaces follows the match: an abbreviation there keeps the full stop it carried."""
    return _TRAILING_SPACE.match(m.string, m.end()) is not None


def _full_stop(m: re.Match[str]) -> str:
    return "." if m.group(0).endswith(".") and _at_end(m) else ""


def _span(a: str, b: str | None, say: Callable[[str], str] = cardinal) -> str:
    return f"{say(a)} to {say(b)}" if b else say(a)


# --- the rules ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """Where a table applies (pattern) and what it says there (a string template or a function)."""

    name: str
    pattern: re.Pattern[str]
    say: Callable[[re.Match[str]], str] | str

    def apply(self, text: str) -> str:
        return self.pattern.sub(self.say, text)


def _clean(text: str) -> str:
    """Unicode that is only visual: emoji, joiners, smart quotes, footnote markers; digits in other dress."""
    text = unicodedata.normalize("NFC", text)
    text = re.sub(r"(?<=\d)[\u2009\u202f](?=\d{3}(?!\d))", "", text)
    text = text.translate(LETTERLIKE).translate(SUBSCRIPTS).replace("º", "°")
    text = _FRACTION_SIGN.sub(lambda m: f"{m.group(1)} {FRACTIONS[m.group(2)]}", text)
    text = _NOT_ASCII.sub(lambda m: _visible(m.group(0)), text).translate(_BLANKS)
    text = re.sub(r" {2,}", " ", text)
    text = re.sub(r"(?<=\w)[’‘`´](?=\w)", "'", text)
    text = re.sub(r"[“”„«»\"‘’`´]", " ", text)
    text = re.sub(r"(?<![\w'.])'(?!\d0s\b)|(?<![s.])'(?!\w)", " ", text)
    text = text.replace("…", "...").replace("−", "-").replace("‐", "-").replace("‑", "-")
    text = _SUPERSCRIPT.sub(_superscript, text)
    return re.sub(r"\[(?:[1-9]\d*(?:\s?[-–,]\s?\d+)*|[a-z]|note \d+|citation needed)\]", "", text)


_NOT_ASCII = re.compile(r"[^\x00-\x7f]")
_BLANKS = str.maketrans("\t\n\r", "   ")
_FRACTION_SIGN = re.compile(rf"(\d?)([{''.join(FRACTIONS)}])")
_SUPERSCRIPT = re.compile(r"(?<![⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺])[⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺]+")
_POWER_BASE = re.compile(rf"(?:[\d)\]|]|(?<![\w'])[A-Za-zα-ωΑ-Ω]|(?<![\w'])(?:{'|'.join(map(re.escape, UNITS))}))\Z")


def _visible(char: str) -> str:
    category = unicodedata.category(char)
    if char in SYMBOLS or char in GREEK or char == "°":
        return char
    if category in ("So", "Cf", "Co", "Cs") or 0xFE00 <= ord(char) <= 0xFE0F or 0x1F3FB <= ord(char) <= 0x1F3FF:
        return " " if category == "So" else ""
    return " " if category == "Zs" else char


def _superscript(m: re.Match[str]) -> str:
    """A power after a number, a one-letter variable or a unit ('x²', 'km²'), else a footnote marker ('proofs¹')."""
    return "^" + m.group(0).translate(SUPERSCRIPTS) if _POWER_BASE.search(_before(m, 12)) else ""


# Links and addresses: a listener can follow none of them, so none is spelled out.


def _link(m: re.Match[str]) -> str:
    link = m.group(0)
    return LINK_WORDS + link[len(link.rstrip(".,;:!?)]")):]


def _domain(m: re.Match[str]) -> str:
    if m.group("path") and len(m.group("path")) > 1:
        return LINK_WORDS
    return m.group("host").replace(".", " dot ")


def _email(m: re.Match[str]) -> str:
    return f"{m.group(1).replace('.', ' dot ')} at {m.group(2).replace('.', ' dot ')}"


def _cross_reference(m: re.Match[str]) -> str:
    return f"{CROSS_REFERENCES[m.group(1)]} number {m.group(2)}"


# Abbreviations, references and Roman numerals: what they stand for depends on the words around them.


def _abbreviation(m: re.Match[str]) -> str:
    if m.group("plain"):
        return ABBREVIATIONS[m.group("plain")] + _full_stop(m)
    if m.group("numbered"):
        key = m.group("numbered")
        a_year = re.match(r"\s?\d{4}(?!\d)", _after(m)) is not None
        if key == "c." and not a_year:
            return m.group(0)
        return "estimated" if key == "est." and not a_year else NUMBERED_ABBREVIATIONS[key]
    if m.group("title"):
        return TITLES[m.group("title")]
    return _place(m) + _full_stop(m)


def _place(m: re.Match[str]) -> str:
    """'St. Patrick' is Saint Patrick, 'Main St.' Main Street: before a name it is a title; after a name or a
    number, with no name to follow, it names the place; alone, 'Dr.' is a doctor and 'St.' a street."""
    before_name, after_name = PLACES[m.group("place")]
    if _next_word(m)[:1].isupper():
        return before_name
    previous = _previous_word(m)
    named = previous[:1].isupper() and previous.lower() not in FUNCTION_WORDS and _before(m).rstrip()[-1:].isalnum()
    if named or previous[:1].isdecimal():
        return after_name
    return before_name if m.group("place") == "Dr" else after_name


def _reference(m: re.Match[str]) -> str:
    """'equation (4)' -> 'equation 4', 'figure 2b' -> 'figure 2 b', 'equations (3)–(5)' -> 'equations 3 to 5'."""
    panel = m.group("panel") or m.group("panel2")
    text = f"{m.group('word')} {m.group('n')}" + (f" {panel}" if panel else "")
    return text + (f" to {m.group('n2')}" if m.group("n2") else "")


def _numeral(m: re.Match[str]) -> str:
    """'Chapter IV' -> 'Chapter four', 'Henry VIII' -> 'Henry the eighth', '(ii)' -> 'two'."""
    if m.group("enum"):
        return f"{cardinal(str(roman(m.group('enum').upper())))}, "
    numeral = m.group("num")
    value = roman(numeral)
    single = len(numeral) == 1
    if value is None or (single and (numeral not in "IVX" or _after(m, 1) == ".")):  # 'John V. Smith'
        return m.group(0)
    if m.group("cue") and not (single and m.group("cue").islower()):  # 'in part I agree'
        return f"{m.group('cue')} {cardinal(str(value))}"
    if m.group("regnal"):
        return f"{m.group('regnal')} the {ordinal(str(value))}"
    if single or set(numeral) - set("IVX") or m.group("name").lower() in NOT_NAMES:
        return m.group(0)
    return f"{m.group('name')} {cardinal(str(value))}"


def _spelled(m: re.Match[str]) -> str:
    """'U.S.' -> 'U S': dotted initials are spelled, their dots are not pauses."""
    return " ".join(m.group(0).replace(".", "")) + _full_stop(m)


# Dates and times.


def _month(written: str) -> str:
    return MONTH_NAMES[written.rstrip(".").lower()]


def _not_a_month(month: str, year_: str | None) -> bool:
    """'we march 3 miles': a lower-case month that is also a verb is a month only with a year."""
    return month.rstrip(".").lower() in VERB_MONTHS and month.islower() and not year_


def _named_date(m: re.Match[str]) -> str:
    """'July 4th, 1776' -> 'July fourth, seventeen seventy-six'; 'June 5–7' -> 'June fifth to seventh'."""
    day, day2, year_ = m.group("day"), m.group("day2"), m.group("year")
    if _not_a_month(m.group("month"), year_) or not 1 <= int(day) <= 31:
        return m.group(0)
    text = f"{_month(m.group('month'))} {ordinal(day)}" + (f" to {ordinal(day2)}" if day2 else "")
    return text + (f", {year(year_)}" if year_ else "") + _full_stop(m)


def _day_month_date(m: re.Match[str]) -> str:
    """'25 July 2012' -> 'the twenty-fifth of July, twenty twelve'."""
    day, year_ = m.group("day"), m.group("year")
    if _not_a_month(m.group("month"), year_) or not 1 <= int(day) <= 31:
        return m.group(0)
    the = m.group("the") or "the "
    return f"{the}{ordinal(day)} of {_month(m.group('month'))}" + (f", {year(year_)}" if year_ else "") + _full_stop(m)


def _month_year(m: re.Match[str]) -> str:
    text = f"{_month(m.group('month'))} {year(m.group('year'))}"
    if m.group("month2"):
        text += f" to {_month(m.group('month2'))} {year(m.group('year2'))}"
    return text


def _numeric_date(m: re.Match[str]) -> str:
    """'10/15/2019' month first, '15/10/2019' and '01.10.2010' day first, '2016/07/03' year first."""
    first, second, y = int(m.group("a")), int(m.group("b")), m.group("y")
    day_first = m.group("sep") == "." and second <= 12 or first > 12
    day, month = (first, second) if day_first else (second, first)
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return m.group(0)
    if len(y) == 2:
        y = ("20" if int(y) < 50 else "19") + y
    month_name = MONTHS[month - 1]
    if day_first:
        return f"the {ordinal(str(day))} of {month_name}, {year(y)}"
    return f"{month_name} {ordinal(str(day))}, {year(y)}"


def _iso_date(m: re.Match[str]) -> str:
    return f"{MONTHS[int(m.group('m')) - 1]} {ordinal(m.group('d'))}, {year(m.group('y'))}"


def _decade(m: re.Match[str]) -> str:
    digits = m.group("digits")
    return plural(year(digits) if len(digits) == 4 else cardinal(digits))


def _era(m: re.Match[str]) -> str:
    """'500 BC' -> 'five hundred B C', 'AD 1066' -> 'A D ten sixty-six'."""
    if m.group("ad"):
        number = m.group("n2")
        return f"{ERAS['AD']} {year(number) if len(number) == 4 else cardinal(number)}"
    number = m.group("n")
    return f"{year(number) if len(number) == 4 else cardinal(number)} {ERAS[m.group('era')]}"


def _time(m: re.Match[str]) -> str:
    """'3:30 pm' -> 'three thirty P M', '15:00' -> 'fifteen hundred', '9am–5pm' -> 'nine A M to five P M'."""
    first, second = _clock(m, "1"), _clock(m, "2")
    if first is None or (m.group("h2") and second is None):
        return m.group(0)
    text = f"{first} to {second}" if second else first
    if m.group("zone"):
        text += f" {TIME_ZONES[m.group('zone')]}"
        if m.group("offset"):
            text += f" {'plus' if m.group('offset')[0] == '+' else 'minus'} {cardinal(m.group('offset')[1:])}"
    return text + _full_stop(m)


def _clock(m: re.Match[str], n: str) -> str | None:
    """One time of a match (groups h1, m1, s1, ap1 or h2...); None when it is no time ('5.30' is a decimal).
    The first of two may borrow the second's A M or P M: '5-7pm' is 'five to seven P M'."""
    if not m.group("h" + n):
        return None
    hour, minute, second, meridiem = int(m.group("h" + n)), m.group("m" + n), m.group("s" + n), m.group("ap" + n)
    borrowed = n == "1" and not meridiem and m.group("ap2")
    if not (meridiem or borrowed) and (not minute or m.group("sep" + n) != ":"):
        return None
    said = cardinal(str(hour)) if borrowed and not minute else _clock_words(hour, minute, meridiem)
    if second and second != "00":
        said += f" and {cardinal(second.lstrip('0') or '0')} seconds"
    return said


def _clock_words(hour: int, minute: str | None, meridiem: str | None) -> str:
    suffix = f" {meridiem.replace('.', '').upper()[0]} M" if meridiem else ""
    if hour == 0 and not meridiem:
        if not minute or minute == "00":
            return "midnight"
        hour, suffix = 12, " A M"
    if not minute or minute == "00":
        return cardinal(str(hour)) + (suffix or (" hundred" if hour > 12 else " o'clock"))
    minute_words = f"oh {cardinal(minute[1])}" if minute.startswith("0") else cardinal(minute)
    return f"{cardinal(str(hour))} {minute_words}{suffix}"


def _ratio(m: re.Match[str]) -> str:
    return f"{cardinal(m.group(1))} to {cardinal(m.group(2))}"


# Quantities: money, percentages, powers, scales, units, multipliers.


def _money(m: re.Match[str]) -> str:
    sign = m.group("cur") or CURRENCY_CODES[m.group("code")]
    one, many, cent, cents = CURRENCIES[sign]
    a, b, scale = m.group("a"), m.group("b"), m.group("scale")
    minus = "minus " if m.group("neg") else ""
    if scale:
        return f"{minus}{_span(a, b)} {SCALES.get(scale, scale)} {many}"
    if b:
        return f"{minus}{_span(a, b)} {many}"
    whole, _, hundredths = a.replace(",", "").partition(".")
    if len(hundredths) != 2 or cent == one:
        return f"{minus}{cardinal(a)} {one if a == '1' else many}"
    if not whole.strip("0"):
        return f"{minus}{cardinal(hundredths.lstrip('0') or '0')} {cent if int(hundredths) == 1 else cents}"
    text = f"{minus}{cardinal(whole)} {one if whole == '1' else many}"
    if int(hundredths):
        text += f" and {cardinal(hundredths.lstrip('0'))} {cent if int(hundredths) == 1 else cents}"
    return text


def _percent(m: re.Match[str]) -> str:
    word = "percent" if m.group("sign") == "%" else "per mille"
    return f"{'minus ' if m.group('neg') else ''}{_span(m.group('a'), m.group('b'))} {word}"


def _scaled(m: re.Match[str]) -> str:
    return f"{_span(m.group('a'), m.group('b'))} {SCALES[m.group('scale')]}"


def _scientific(m: re.Match[str]) -> str:
    mantissa, exponent = m.group("m"), m.group("e").replace("+", "")
    power = f"ten to the minus {cardinal(exponent[1:])}" if exponent.startswith("-") else f"ten to the {ordinal(exponent)}"
    return power if mantissa == "1" else f"{cardinal(mantissa)} times {power}"


def _power(m: re.Match[str]) -> str:
    base, exponent = m.group("base"), m.group("exp").strip("{}()")
    base_words = cardinal(base) if base[0].isdecimal() else base
    if exponent.lstrip("+").isdecimal():
        value = exponent.lstrip("+")
        if value in ("2", "3"):
            return f"{base_words} {'squared' if value == '2' else 'cubed'}"
        return f"{base_words} to the {ordinal(value)}"
    if exponent.startswith("-"):
        rest = exponent[1:]
        return f"{base_words} to the minus {cardinal(rest) if rest.isdecimal() else rest}"
    return f"{base_words} to the {exponent}"


def _unit(m: re.Match[str]) -> str:
    """'12 kg' -> 'twelve kilograms', 'a 5 km run' -> 'a five kilometer run', '4 1/2 lbs' -> 'four and a half pounds'."""
    unit = m.group("unit")
    one, many = _powered(unit, m.group("power"))
    if m.group("top"):
        return _fraction_of(m, one, many)
    a, b = m.group("a"), m.group("b")
    amount = ("minus " if m.group("neg") else "") + _span(a, b)
    singular = (a == "1" and not b) or _adjective(m)
    return f"{amount} {one if singular else many}"


def _powered(unit: str, power: str | None) -> tuple[str, str]:
    one, many = UNITS[unit]
    if not power:
        return one, many
    if unit in LENGTHS:
        prefix = "square" if power.endswith("2") else "cubic"
        return f"{prefix} {one}", f"{prefix} {many}"
    suffix = "squared" if power.endswith("2") else "cubed"
    return f"{one} {suffix}", f"{many} {suffix}"


def _adjective(m: re.Match[str]) -> bool:
    """'a 5 km run': after 'a' and before a noun, a measure is an adjective, and singular."""
    article = re.search(r"(?<![\w'])(?:a|an|A|An)\s\Z", _before(m, 4))
    following = re.match(r"\s([A-Za-z]+)", _after(m))
    return bool(article and following and following.group(1).lower() not in FUNCTION_WORDS)


def _fraction_of(m: re.Match[str], one: str, many: str) -> str:
    """'1/2 lb' -> 'half a pound', '3/4 mi' -> 'three quarters of a mile', '4 1/2 lbs' -> 'four and a half pounds'."""
    top, bottom, whole = m.group("top"), m.group("bottom"), m.group("whole")
    part = _part(top, bottom)
    if whole:
        return f"{cardinal(whole)} and {part} {many}"
    if int(top) >= int(bottom or 1) or not 2 <= int(bottom) <= 10:
        return f"{fraction(top, bottom)} {many}"
    if top == "1" and bottom == "2":
        return f"half a {one}"
    return f"{fraction(top, bottom)} of a {one}"


def _part(top: str, bottom: str) -> str:
    """The fraction of a mixed number: '1/2' -> 'a half', '3/4' -> 'three quarters'."""
    if top == "1" and 2 <= int(bottom) <= 10:
        return f"a {denominator_name(int(bottom))}"
    return fraction(top, bottom)


def _per(m: re.Match[str]) -> str:
    """'tokens/s', '12/kg', 'kg/m²': a slash after a number, a unit or a plural is 'per' ('max/min' is not)."""
    previous = _before(m, 12).rstrip()
    word = _previous_word(m)
    if not (previous[-1:].isdecimal() or word.endswith("s") or word in UNITS):
        return m.group(0)
    unit = m.group("unit")
    if unit in UNITS:
        one, _ = _powered(unit, m.group("power"))
        return f" per {one}"
    return f" per {unit}"


def _times(m: re.Match[str]) -> str:
    """'2x' -> 'two times', '3x3' -> 'three by three', '3 × 4' -> 'three times four'."""
    if m.group("by"):
        spaced = m.group("x") == "×" and " × " in m.group(0)
        return f"{cardinal(m.group('a'))} {'times' if spaced else 'by'} {cardinal(m.group('by'))}"
    return f"{_span(m.group('a'), m.group('b'))} times"


def _interval(m: re.Match[str]) -> str:
    return f"{cardinal(m.group('a'))} to {cardinal(m.group('b'))}"


# Notation: functions, subscripts, symbols, Greek letters.


def _application(m: re.Match[str]) -> str:
    """'O(n log n)' -> 'O of n log n', 'P(A|B)' -> 'P of A given B', 'E[X]' -> 'E of X'."""
    name, argument = m.group("f") or m.group("e"), m.group("args") or m.group("eargs")
    if argument in ("s", "es") or (name, argument) == ("a", "n"):
        return m.group(0)
    return f"{name} of {argument.replace('|', ' given ')} "


def _norm(m: re.Match[str]) -> str:
    """'||θ||' -> 'the norm of theta', '||x||²' -> 'the norm of x squared'."""
    power = {"2": " squared", "3": " cubed"}.get(m.group("p") or "", "")
    return f" the norm of {m.group('x')}{power} "


def _subscript(m: re.Match[str]) -> str:
    return f"{m.group('base')} sub {m.group('sub').strip('{}')}"


def _symbol(m: re.Match[str]) -> str:
    """'p < 0.05' is 'p is less than ...', '(<5%)' is 'less than ...': it depends on what stands before.

    'About' and 'approximately' take an operand only after a variable or a number ('x ≈ 3'), since after
    a word they qualify what follows ('took ~20 ms'); before a distribution, '~' is 'is distributed as'.
    """
    symbol = m.group("sym")
    between, before = SYMBOLS[symbol]
    if symbol in DISTRIBUTED and _DISTRIBUTION.match(_after(m)):
        return " is distributed as "
    left = _before(m).rstrip()
    if symbol in LOOSE_SYMBOLS:
        operand = _OPERAND_BACKWARDS.match(left[::-1]) is not None
    else:
        last = left[-1:]
        operand = (last.isalnum() or last in "_)]") and _previous_word(m).lower() not in FUNCTION_WORDS
    return f" {between if operand else before} "


_DISTRIBUTION = re.compile(r"\s?[A-Z][A-Za-z]{0,12}(?:\(| of\b)")


def _greek(m: re.Match[str]) -> str:
    """A Greek letter's name, apart from the letters and digits it touches ('2π' -> '2 pi')."""
    name = GREEK[m.group(0)]
    before = " " if m.start() and m.string[m.start() - 1].isalnum() else ""
    after = " " if m.end() < len(m.string) and m.string[m.end()].isalnum() else ""
    return f"{before}{name}{after}"


# Names with numbers, ranges, fractions, ordinals, years, then every other number.


def _version(m: re.Match[str]) -> str:
    """'v1.2.3' -> 'version one point two point three'; 'V2.1' too, but 'V100' is a name."""
    return "version " + " point ".join(cardinal(part) for part in (m.group(1) or m.group(2)).split("."))


def _dotted_number(m: re.Match[str]) -> str:
    return " point ".join(cardinal(part) for part in m.group(0).split("."))


def _split_alphanumeric(m: re.Match[str]) -> str:
    """'InceptionV1' -> 'Inception V one', 'A3C' -> 'A three C', 'A100s' -> 'A one hundreds'."""
    token = re.sub(r"(?<=[a-z])(?=[A-Z]\d)", " ", m.group(0))
    parts = re.findall(r"\d\d+s(?![a-z])|\d+|[A-Za-z]+", token)
    return " ".join(plural(cardinal(p[:-1])) if p.endswith("s") and p[0].isdecimal() else cardinal(p) if p[0].isdecimal()
                    else p for p in parts)


def _number_range(m: re.Match[str]) -> str:
    """'1,000–2,000' -> 'one thousand to two thousand', '2019-20' -> 'twenty nineteen to twenty'; '10 - 3 = 7' is a sum."""
    a, b = m.group("a"), m.group("b")
    if m.group("dash") == "-" and m.group(0).count(" ") == 2 and re.match(r"\s*(?:=|equals\b)", _after(m)):
        return f"{cardinal(a)} minus {cardinal(b)}"
    if _looks_like_year(a) and (_looks_like_year(b) or len(b) == 2):
        return f"{year(a)} to {year(b) if len(b) == 4 else cardinal(b)}"
    return f"{cardinal(a)} to {cardinal(b)}"


def _looks_like_year(text: str) -> bool:
    return len(text) == 4 and text.isdecimal() and (text[:2] == "20" or text[0] == "1" and text[1] != "0")


def _mixed_number(m: re.Match[str]) -> str:
    return f"{cardinal(m.group('whole'))} and {_part(m.group('top'), m.group('bottom'))}"


def _fraction(m: re.Match[str]) -> str:
    return fraction(m.group(1), m.group(2))


def _ordinal(m: re.Match[str]) -> str:
    return ordinal(m.group("n"))


def _year_or_number(m: re.Match[str]) -> str:
    """A four-digit number is a year after 'in' or a month, or before a singular noun ('the 2019 paper');
    not when it counts something ('2048 tokens')."""
    left = _before(m).rstrip()
    previous, following = _previous_word(m), _next_word(m)
    value = int(m.group(0))
    counted = re.fullmatch(r"[a-z]+(?<!ss)(?<!us)(?<!is)s", following) is not None
    if previous.lower() in YEAR_CUES or previous.lower() in MONTH_NAMES:
        is_year = True
    elif value < 1100:
        is_year = False
    elif following[:1].islower() and following not in YEAR_FOLLOWERS and (counted or not 1900 <= value <= 2039):
        is_year = False
    else:
        is_year = 1900 <= value <= 2039 or previous.lower() in WEAK_YEAR_CUES or left.endswith(("(", ","))
    return year(m.group(0)) if is_year else cardinal(m.group(0))


def _number(m: re.Match[str]) -> str:
    return cardinal(m.group(0))


def _digits(m: re.Match[str]) -> str:
    """Digits no rule above read ('3rds', '12abc'): a number is said apart from the letters it touches."""
    return f" {cardinal(m.group(0))} "


# Punctuation that is only visual.


def _paren_plural(m: re.Match[str]) -> str:
    return m.group(1) + m.group(2)


def _alternatives(m: re.Match[str]) -> str:
    return " and or " if m.group(0).lower() == "and/or" else " or "


def _alternation(keys, flags: str = "") -> str:
    escaped = "|".join(re.escape(k).replace(r"\ ", r"\s") for k in sorted(keys, key=len, reverse=True))
    return f"(?{flags}:{escaped})" if flags else escaped


def _abbreviations() -> str:
    """One pattern for every abbreviation; those that end in a letter must end a word."""
    def bounded(keys):
        return "|".join(re.escape(k) + ("" if k[-1] in "./" else r"(?!\w)")
                        for k in sorted(keys, key=len, reverse=True))
    return (
        rf"(?<![\w.])(?:(?P<plain>{bounded(ABBREVIATIONS)})"
        rf"|(?P<numbered>{bounded(NUMBERED_ABBREVIATIONS)})(?=\s?(?:\d|[IVXLCDM]{{2,}}(?!\w)))"
        rf"|(?P<title>{bounded(TITLES)})(?=\s[A-Z])"
        rf"|(?P<place>{'|'.join(PLACES)})\.?(?=[\s,;:)]|\Z))"
    )


def _month_pattern(group: str) -> str:
    return rf"(?P<{group}>{_alternation(MONTH_NAMES, 'i')}\.?)"


def _clock_pattern(n: str) -> str:
    return (rf"(?P<h{n}>[01]?\d|2[0-3])(?:(?P<sep{n}>[:.])(?P<m{n}>[0-5]\d)(?::(?P<s{n}>[0-5]\d))?)?"
            rf"(?:\s?(?P<ap{n}>{_AMPM}))?")


def _link_rules() -> tuple[Rule, ...]:
    r = re.compile
    return (
        Rule("url", r(r"\b(?:https?|ftp)://[^\s<>]+|\bwww\.[^\s<>]+"), _link),
        Rule("email", r(r"(?<![\w.+-])([\w.+-]+)@([\w-]+(?:\.[\w-]+)+)\b"), _email),
        Rule("arxiv", r(r"\barXiv:\s?\d{4}\.\d{4,5}(?:v\d+)?", re.I), "an arXiv paper"),
        Rule("doi", r(r"\bdoi:\s?\S+", re.I), "a DOI"),
        Rule("domain", r(rf"(?<![\w.-])(?P<host>(?:[A-Za-z0-9-]+\.)+(?:{'|'.join(DOMAINS)}))\b(?P<path>/\S*)?"
                         r"(?=[.,;:!?)]*(?:\s|\Z))"), _domain),
        Rule("cross-reference", r(rf"\b({'|'.join(CROSS_REFERENCES)})\s?#\s?(\d+)\b"), _cross_reference),
        Rule("number-sign", r(r"(?<!\w)#\s?(?=\d)"), "number "),
        Rule("hashtag", r(r"(?<![\w&])#(?=[A-Za-z])"), ""),
    )


def _word_rules() -> tuple[Rule, ...]:
    r = re.compile
    numeral = r"(?P<num>[IVXLCDM]{1,15})(?![\w'-]|\.\w)"
    return (
        Rule("abbreviation", r(_abbreviations()), _abbreviation),
        Rule("reference", r(rf"(?<!\w)(?P<word>{_alternation(REFERENCES, 'i')})\s(?P<open>\()?(?P<n>\d{{1,4}}(?:\.\d{{1,3}})*)"
                            r"(?:(?P<panel>[a-z])(?!\w)|\((?P<panel2>[a-z])\))?(?(open)\))"
                            r"(?:\s?[–-]\s?\(?(?P<n2>\d{1,4}(?:\.\d{1,3})*)\)?)?(?![\w(])"), _reference),
        Rule("roman-numeral", r(rf"(?<![\w'-])(?:(?P<cue>{_alternation(NUMBERING, 'i')})|(?P<regnal>{_alternation(REGNAL)})"
                                rf"|(?P<name>[A-Z][a-z]+))\s{numeral}"
                                r"|(?<!\w)\((?P<enum>i{1,3}|iv|vi{0,3}|ix|x)\)"), _numeral),
    )


def _date_rules() -> tuple[Rule, ...]:
    r = re.compile
    year_ = r"(?P<year>1\d{3}|20\d\d)(?!\w)"
    day = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
    return (
        Rule("iso-date", r(r"(?<![\w.\-/])(?P<y>1[6-9]\d\d|20\d\d)(?P<sep>[-/.])(?P<m>0?[1-9]|1[0-2])(?P=sep)"
                           r"(?P<d>0?[1-9]|[12]\d|3[01])(?!\w|[-/.]\d)"), _iso_date),
        Rule("numeric-date", r(r"(?<![\w/.])(?P<a>\d{1,2})(?P<sep>[/.])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4}|(?<=/)\d{2})"
                               r"(?![\w/]|\.\d)"), _numeric_date),
        Rule("date", r(rf"(?<![\w.]){_month_pattern('month')}\s{day}"
                       r"(?:\s?[–-]\s?(?P<day2>[0-3]?\d)(?:st|nd|rd|th)?)?(?!\w|[.,:]\d)"
                       rf"(?:,?\s{year_})?"), _named_date),
        Rule("day-month", r(rf"(?<![\w.,])(?P<the>(?i:the)\s)?{day}\s(?:of\s)?{_month_pattern('month')}(?!\w)"
                            rf"(?:,?\s{year_})?"), _day_month_date),
        Rule("month-year", r(rf"(?<![\w.]){_month_pattern('month')}\s{year_}"
                             rf"(?:\s?[–—-]\s?{_month_pattern('month2')}\s(?P<year2>1\d{{3}}|20\d\d)(?!\w))?"), _month_year),
        Rule("decade", r(r"(?<![\w.])'?(?P<digits>1\d\d0|20\d0|\d0)(?:'s|s)(?!\w)"), _decade),
        Rule("era", r(r"(?<![\w.,])(?P<n>\d{1,4}) (?P<era>BCE?|CE)(?!\w)|(?<![\w.])(?P<ad>AD) (?P<n2>\d{1,4})(?!\w)"), _era),
        Rule("time", r(rf"(?<![\w.:])(?={_A_TIME}){_clock_pattern('1')}(?:\s?[–—-]\s?{_clock_pattern('2')})?"
                       rf"(?:\s(?P<zone>{_alternation(TIME_ZONES)})(?P<offset>[+-]\d{{1,2}})?)?(?![\w:])"), _time),
        Rule("ratio", r(r"(?<![\w:.])(\d+):(\d+)(?![\w:])"), _ratio),
        Rule("initials", r(r"(?<![\w.])(?:[A-Z]\.){2,}(?!\w)"), _spelled),
    )


def _quantity_rules() -> tuple[Rule, ...]:
    r = re.compile
    signs = _alternation(k for k in CURRENCIES if not k.isalpha())
    codes, units, scales = _alternation(CURRENCY_CODES), _alternation(UNITS), _alternation(SCALES)
    scale_word = rf"(?:\s?(?P<scale>{scales}|{'|'.join(SCALE_WORDS)})(?!\w))?"
    num = rf"(?P<a>{_NUM})(?:{_RANGE}(?P<b>{_NUM}))?"
    amount = rf"(?:(?:(?P<whole>\d{{1,3}})\s)?(?P<top>\d{{1,3}})/(?P<bottom>\d{{1,3}})|{num})"
    power = r"(?P<power>\^[23](?!\d))?"
    return (
        Rule("money", r(rf"(?:(?<![\w)])(?P<neg>[-−]))?(?P<cur>{signs})\s?(?P<a>{_NUM})"
                        rf"(?:{_RANGE}(?:{signs})?(?P<b>{_NUM}))?{scale_word}"), _money),
        Rule("money-code", r(rf"(?<![\w.])(?P<neg>)(?P<code>{codes})\s?{num}{scale_word}(?P<cur>)"), _money),
        Rule("amount-code", r(rf"{_START}(?P<neg>){num}{scale_word}\s?(?=[A-Z])(?P<code>{codes})(?!\w)(?P<cur>)"), _money),
        Rule("percent", r(rf"{_START}{_NEG}(?P<a>{_NUM})(?:[%‰]?{_RANGE}(?P<b>{_NUM}))?\s?(?P<sign>[%‰])"), _percent),
        Rule("confidence-interval", r(r"(?<=percent )CIs?(?!\w)"), "confidence interval"),
        Rule("scientific", r(rf"{_START}(?P<m>\d+(?:\.\d+)?)[eE](?P<e>[-+]?\d+)(?!\w)"), _scientific),
        Rule("unit", r(rf"{_START}{_NEG}{amount}\s?(?=[^\W\d_]|[°¢])(?P<unit>{units}){power}(?!\w)"), _unit),
        Rule("per", r(rf"(?<=[\w)%.])\s?/\s?(?P<unit>{_alternation(PER | PER_WORDS)}){power}(?![\w/])"), _per),
        Rule("power", r(r"(?<![\w.])(?P<base>\d+(?:\.\d+)?|[A-Za-zα-ωΑ-Ω])\s?\^\s?"
                        r"(?P<exp>\{[^{}\n]{1,40}\}|\([^()\n]{1,40}\)|[-+]?\w+)"), _power),
        Rule("scale", r(rf"{_START}{num}(?P<scale>{scales})(?!\w)"), _scaled),
        Rule("multiplier", r(rf"{_START}(?P<a>{_NUM})(?:[x×]?{_RANGE}(?P<b>{_NUM}))?\s?(?P<x>[x×])"
                             rf"(?:\s?(?P<by>{_NUM}))?(?!\w)"), _times),
        Rule("interval", r(rf"\[\s?(?P<a>-?(?:{_NUM}))\s?[,;]\s?(?P<b>-?(?:{_NUM}))\s?\]"), _interval),
    )


def _notation_rules() -> tuple[Rule, ...]:
    r = re.compile
    return (
        Rule("application", r(rf"(?<![\w.])(?:(?P<f>{_alternation(FUNCTIONS)}|[A-Za-zΘΩθω])\((?P<args>[^()\n]{{1,40}})\)"
                              r"|(?P<e>E)\[(?P<eargs>[^\[\]\n]{1,40})\])"), _application),
        Rule("subscript", r(r"(?<!\w)(?P<base>[A-Za-z])_(?P<sub>\{[^{}\n]{1,20}\}|[A-Za-z0-9]{1,3}(?!\w))"), _subscript),
        Rule("norm", r(r"\|\|(?P<x>[^|\n]{1,30}?)\|\|(?:\^(?P<p>[23])(?!\d))?"), _norm),
        Rule("absolute-value", r(r"\|([^|\s][^|]{0,30}?)\|"), r"the absolute value of \1"),
        Rule("symbol", r(rf"(?P<sym>{_alternation(SYMBOLS)})"), _symbol),
        Rule("greek", r(_alternation(GREEK)), _greek),
    )


def _number_rules() -> tuple[Rule, ...]:
    r = re.compile
    return (
        Rule("version", r(r"(?<![\w.])(?:v(\d+(?:\.\d+)*)|V(\d+(?:\.\d+)+))(?!\w)"), _version),
        Rule("minus", r(r"(?<=equals)\s+-(?=[A-Za-z(])|(?<=[(=])\s?-(?=[A-Za-z(])"), " minus "),
        Rule("name-number", r(r"(?<=[A-Za-z])-(?=\d)|(?<=\d)-(?=[A-Z]\b)"), " "),
        Rule("ordinal", r(rf"(?<![\w.,])(?P<n>{_NUM})(?i:st|nd|rd|th)(?![A-Za-z])"), _ordinal),
        Rule("alphanumeric", r(r"\b[A-Za-z]+\d+[A-Za-z\d]*\b|\b\d+[A-Z][A-Za-z]*\b"), _split_alphanumeric),
        Rule("dotted-number", r(r"(?<![\w.])\d+(?:\.\d+){2,}(?!\w)"), _dotted_number),
        Rule("range", r(rf"(?<![\w.,])(?P<a>{_NUM})\s?(?P<dash>[–—-])\s?(?P<b>{_NUM})(?!\w)"), _number_range),
        Rule("mixed-number", r(r"(?<![\w/.,])(?P<whole>\d{1,3})\s(?P<top>\d{1,3})/(?P<bottom>\d{1,3})(?![\w/])"), _mixed_number),
        Rule("fraction", r(r"(?<![\w/.])(\d+)/(\d+)(?![\w/])"), _fraction),
        Rule("year", r(r"(?<![\w.,])(?:1\d\d\d|20\d\d)(?!\w|[.,]\d)"), _year_or_number),
        Rule("number", r(rf"(?<![\w.])(?:(?<![\w)])-)?(?:{_NUM})(?!\w)"), _number),
        Rule("digits", r(r"(?<!\d)\d+"), _digits),
    )


_SIGN_WORDS = {sign: names[0] for sign, names in CURRENCIES.items() if not sign.isalpha()} | {
    "%": "percent", "‰": "per mille", "°": "degree", "¢": "cent"}
"""A sign no number came with ('the $ sign') is still said, never spelled."""


def _punctuation_rules() -> tuple[Rule, ...]:
    r = re.compile
    return (
        Rule("paren-plural", r(r"(\w)\((s|es)\)"), _paren_plural),
        Rule("paren-prefix", r(r"\((sub|pre|re|non|un|self|semi|multi|super)\)(\w)", re.I), r"\1\2"),
        Rule("and-or", r(r"\band/or\b|(?<=[A-Za-z])/(?=[A-Za-z])", re.I), _alternatives),
        Rule("dash", r(r"\s[–—-]\s|\s?[—―]\s?|\s?--+\s?|\s–|–\s"), ", "),
        Rule("compound-dash", r(r"(?<=\w)–(?=\w)"), "-"),
        Rule("lone-dash", r(r"[–—―]"), ", "),
        Rule("lone-sign", r(_alternation(_SIGN_WORDS)), lambda m: f" {_SIGN_WORDS[m.group(0)]} "),
        Rule("brackets", r(r"[()\[\]{}]"), ", "),
        Rule("bullets", r(r"\s?[•·▪|]\s?"), ", "),
        Rule("invisible", r(r"[*_\\^<>#`/]+"), " "),
    )


RULES = (*_link_rules(), *_word_rules(), *_date_rules(), *_quantity_rules(), *_notation_rules(),
         *_number_rules(), *_punctuation_rules())


def normalize(text: str) -> str:
    """The spoken form of one sentence or paragraph."""
    text = _clean(text)
    for rule in RULES:
        text = rule.apply(text)
    return _tidy(text)


def _tidy(text: str) -> str:
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    text = re.sub(r"[,;:](?:\s*[,;:])+", lambda m: ":" if ":" in m.group(0) else ";" if ";" in m.group(0) else ",", text)
    text = re.sub(r"[,;:]\s*([.!?])", r"\1", text)
    text = re.sub(r"([.!?])\s*,", r"\1", text)
    text = re.sub(r"([!?])\s*\.+|(?<![.\s])\.(?:\s*\.)(?!\.)", lambda m: m.group(1) or ".", text)
    text = re.sub(r",(?=[^\s\d])", ", ", text)
    text = re.sub(r"^[,;:.\s]+", "", text)
    text = text.strip().rstrip(",").strip()
    return text[:-1].rstrip() + "." if text.endswith((":", ";")) else text


_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)]*\s+(?=[\"“(]?[A-Z0-9])")
_NOT_AN_END = re.compile(
    r"\b(?:[A-Z]|e\.g|i\.e|vs|cf|Dr|Mr|Mrs|Ms|Prof|St|Mt|Jr|Sr|Gen|Sen|Rep|Gov|Rev|Capt|Lt|Sgt|Col|Fig|Figs|Eq|"
    r"Eqs|approx|a\.k\.a|w\.r\.t|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.\Z"
)
_NOT_AN_END_BEFORE_NUMBER = re.compile(
    r"\b(?:No|no|p|pp|[Vv]ol|Ch|Sec|sec|fig|eq|Eqn|Thm|Lem|Alg|Def|Prop|Cor|Tab|ca|c|est|et al|etc)\.\Z"
)
"""'p. 12', 'et al. (2020)': an abbreviation followed by a number or a parenthesis ends no sentence."""
_LONGEST_ABBREVIATION = 12
"""Characters before a full stop that tell whether it ends an abbreviation (more than 'approx.' needs)."""


def sentences(text: str) -> list[str]:
    """Split written text into sentences, so each becomes one transcript cue with its exact time."""
    parts: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        tail = text[max(start, match.start() - _LONGEST_ABBREVIATION):match.start()].rstrip()
        following = text[match.end():match.end() + 1]
        if _NOT_AN_END.search(tail):
            continue
        if _NOT_AN_END_BEFORE_NUMBER.search(tail) and not following.isalpha():
            continue
        parts.append(text[start:match.start()].strip())
        start = match.end()
    tail = text[start:].strip()
    if tail:
        parts.append(tail)
    return [p for p in parts if p]

"""Written text to the words a careful narrator would say: the voice must never see a symbol it would misread."""

# The knowledge is in tables (currencies, units, symbols, Greek letters, abbreviations, months); the
# rules below only find where a table applies, in an order that matters. Number words come from
# num2words (cardinals and ordinals read the American way, without "and"; years as "twenty nineteen").

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Callable

from num2words import num2words

# --- tables ----------------------------------------------------------------------------------------

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
MONTH_ABBREVIATIONS = {m[:3]: m for m in MONTHS} | {"Sept": "September"}

CROSS_REFERENCES = {"AN": "Alignment Newsletter"}
"""Short names of newsletters that an issue cites as 'AN #58'."""

CURRENCIES = {
    # sign: (one, many, one hundredth, many hundredths)
    "$": ("dollar", "dollars", "cent", "cents"),
    "US$": ("US dollar", "US dollars", "cent", "cents"),
    "C$": ("Canadian dollar", "Canadian dollars", "cent", "cents"),
    "A$": ("Australian dollar", "Australian dollars", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "€": ("euro", "euros", "cent", "cents"),
    "¥": ("yen", "yen", "sen", "sen"),
    "₹": ("rupee", "rupees", "paisa", "paise"),
    "CHF": ("Swiss franc", "Swiss francs", "centime", "centimes"),
}
CURRENCY_CODES = {"USD": "US$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "CAD": "C$", "AUD": "A$", "CHF": "CHF"}

SCALES = {"k": "thousand", "K": "thousand", "m": "million", "M": "million", "mn": "million", "B": "billion",
          "bn": "billion", "b": "billion", "T": "trillion", "tn": "trillion"}
SCALE_WORDS = ("thousand", "million", "billion", "trillion")

UNITS = {
    # symbol after a number: (one, many)
    "ns": ("nanosecond", "nanoseconds"), "µs": ("microsecond", "microseconds"), "μs": ("microsecond", "microseconds"),
    "ms": ("millisecond", "milliseconds"), "s": ("second", "seconds"), "sec": ("second", "seconds"),
    "secs": ("second", "seconds"), "min": ("minute", "minutes"), "mins": ("minute", "minutes"),
    "h": ("hour", "hours"), "hr": ("hour", "hours"), "hrs": ("hour", "hours"), "yr": ("year", "years"),
    "yrs": ("year", "years"),
    "Hz": ("hertz", "hertz"), "kHz": ("kilohertz", "kilohertz"), "MHz": ("megahertz", "megahertz"),
    "GHz": ("gigahertz", "gigahertz"),
    "KB": ("kilobyte", "kilobytes"), "kB": ("kilobyte", "kilobytes"), "MB": ("megabyte", "megabytes"),
    "GB": ("gigabyte", "gigabytes"), "TB": ("terabyte", "terabytes"), "PB": ("petabyte", "petabytes"),
    "KiB": ("kibibyte", "kibibytes"), "MiB": ("mebibyte", "mebibytes"), "GiB": ("gibibyte", "gibibytes"),
    "kbps": ("kilobit per second", "kilobits per second"), "Mbps": ("megabit per second", "megabits per second"),
    "Gbps": ("gigabit per second", "gigabits per second"),
    "nm": ("nanometer", "nanometers"), "µm": ("micrometer", "micrometers"), "mm": ("millimeter", "millimeters"),
    "cm": ("centimeter", "centimeters"), "m": ("meter", "meters"), "km": ("kilometer", "kilometers"),
    "mi": ("mile", "miles"), "ft": ("foot", "feet"), "km/h": ("kilometer per hour", "kilometers per hour"),
    "mph": ("mile per hour", "miles per hour"), "m/s": ("meter per second", "meters per second"),
    "mg": ("milligram", "milligrams"), "g": ("gram", "grams"), "kg": ("kilogram", "kilograms"),
    "lb": ("pound", "pounds"), "lbs": ("pound", "pounds"),
    "°C": ("degree Celsius", "degrees Celsius"), "°F": ("degree Fahrenheit", "degrees Fahrenheit"),
    "°": ("degree", "degrees"),
    "W": ("watt", "watts"), "kW": ("kilowatt", "kilowatts"), "MW": ("megawatt", "megawatts"),
    "GW": ("gigawatt", "gigawatts"), "kWh": ("kilowatt hour", "kilowatt hours"),
    "MWh": ("megawatt hour", "megawatt hours"), "GWh": ("gigawatt hour", "gigawatt hours"),
    "TWh": ("terawatt hour", "terawatt hours"), "J": ("joule", "joules"), "V": ("volt", "volts"),
    "fps": ("frame per second", "frames per second"), "FPS": ("frame per second", "frames per second"),
    "¢": ("cent", "cents"), "px": ("pixel", "pixels"), "dB": ("decibel", "decibels"), "pp": ("percentage point", "percentage points"),
    "FLOP": ("flop", "flops"), "FLOPs": ("flop", "flops"), "FLOPS": ("flop", "flops"),
    "PF-days": ("petaflop day", "petaflop days"), "petaflop/s-days": ("petaflop per second day", "petaflop per second days"),
    "petaflop/s-day": ("petaflop per second day", "petaflop per second days"),
}

SYMBOLS = {
    # symbol: (between two operands, in front of one)
    "≠": ("is not equal to", "not equal to"),
    "≈": ("is approximately", "approximately"),
    "≃": ("is approximately", "approximately"),
    "~": ("is about", "about"),
    "∼": ("is about", "about"),
    "<": ("is less than", "less than"),
    ">": ("is greater than", "more than"),
    "≤": ("is at most", "at most"),
    "<=": ("is at most", "at most"),
    "≥": ("is at least", "at least"),
    ">=": ("is at least", "at least"),
    "≪": ("is much less than", "much less than"),
    "≫": ("is much greater than", "much more than"),
    "=": ("equals", "equals"),
    "==": ("equals", "equals"),
    "≡": ("is equivalent to", "equivalent to"),
    "±": ("plus or minus", "plus or minus"),
    "∓": ("minus or plus", "minus or plus"),
    "+": ("plus", "plus"),
    "×": ("times", "times"),
    "÷": ("divided by", "divided by"),
    "∝": ("is proportional to", "proportional to"),
    "→": ("to", "to"),
    "->": ("to", "to"),
    "⇒": ("implies", "implies"),
    "=>": ("implies", "implies"),
    "⟹": ("implies", "implies"),
    "↔": ("if and only if", "if and only if"),
    "⇔": ("if and only if", "if and only if"),
    "∈": ("in", "in"),
    "∉": ("not in", "not in"),
    "⊂": ("is a subset of", "a subset of"),
    "∀": ("for all", "for all"),
    "∃": ("there exists", "there exists"),
    "∞": ("infinity", "infinity"),
    "√": ("the square root of", "the square root of"),
    "∑": ("the sum of", "the sum of"),
    "∏": ("the product of", "the product of"),
    "∫": ("the integral of", "the integral of"),
    "∂": ("partial", "partial"),
    "∇": ("the gradient of", "the gradient of"),
    "§": ("section", "section"),
    "&": ("and", "and"),
    "@": ("at", "at"),
}

LOOSE_SYMBOLS = frozenset("~∼≈≃")
FUNCTION_WORDS = frozenset(
    "of at to by is was are were be been from and or for in on with only just roughly around about than the a an "
    "into over under within if when while where that which as".split()
)
"""After these a comparison qualifies what follows: 'of <5%' is 'of less than five percent'."""

GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ϵ": "epsilon", "ζ": "zeta",
    "η": "eta", "θ": "theta", "ϑ": "theta", "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu", "µ": "mu",
    "ν": "nu", "ξ": "xi", "π": "pi", "ρ": "rho", "σ": "sigma", "ς": "sigma", "τ": "tau", "υ": "upsilon",
    "φ": "phi", "ϕ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega",
    "Γ": "gamma", "Δ": "delta", "Θ": "theta", "Λ": "lambda", "Ξ": "xi", "Π": "pi", "Σ": "sigma",
    "Υ": "upsilon", "Φ": "phi", "Ψ": "psi", "Ω": "omega",
}

ABBREVIATIONS = {
    # pattern (matched case-sensitively at word boundaries): what is said
    r"e\.\s?g\.": "for example",
    r"i\.\s?e\.": "that is",
    r"et\s+al\.?'s": "and colleagues'",
    r"et\s+al\.?": "and colleagues",
    r"etc\.?": "et cetera",
    r"vs\.?": "versus",
    r"cf\.": "compare",
    r"[Pp]\.\s?a\.": "per annum",
    r"a\.k\.a\.|aka": "also known as",
    r"approx\.": "approximately",
    r"w\.r\.t\.|wrt": "with respect to",
    r"resp\.": "respectively",
    r"i\.i\.d\.|iid": "I I D",
    r"s\.t\.": "such that",
    r"viz\.": "namely",
    r"esp\.": "especially",
    r"incl\.": "including",
    r"avg\.": "average",
    r"ca\.(?=\s*\d)|c\.(?=\s*\d{4})": "circa",
    r"Figs\.": "figures",
    r"Fig\.|fig\.": "figure",
    r"Eqs\.": "equations",
    r"Eq\.|eq\.|Eqn\.": "equation",
    r"Sec\.|sec\.(?=\s*\d)": "section",
    r"Ch\.(?=\s*\d)": "chapter",
    r"pp\.(?=\s*\d)": "pages",
    r"p\.(?=\s*\d)": "page",
    r"[Vv]ol\.(?=\s*\d)": "volume",
    r"No\.(?=\s*\d)|no\.(?=\s*\d)": "number",
    r"Dr\.": "Doctor",
    r"Prof\.": "Professor",
    r"Mr\.": "Mister",
    r"Mrs\.": "Missus",
    r"Jr\.": "Junior",
    r"Ph\.\s?D\.?|PhD": "P H D",
    r"Ph\.D\.s|PhDs": "P H Ds",
    r"TL;\s?DR": "T L D R",
    r"N/A": "not applicable",
    r"w/o": "without",
    r"w/": "with",
    r"b/c": "because",
}

FRACTIONS = {"½": "1/2", "⅓": "1/3", "⅔": "2/3", "¼": "1/4", "¾": "3/4", "⅕": "1/5", "⅛": "1/8"}
SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
YEAR_CUES = frozenset(
    "in since until till during before after around circa early late mid spring summer autumn fall winter year "
    "years copyright".split()
)
"""Words after which a four-digit number is a year ('in 2019', 'since 1956')."""
WEAK_YEAR_CUES = frozenset("of by from to and or between through".split())
"""... and after which it is one unless a noun follows ('by 1960', but 'of 1500 images')."""
YEAR_FOLLOWERS = frozenset(
    "was is were are saw had has will would and or to through onward onwards versus vs when where which that who in "
    "on at for with by as but the a an of edition paper report survey conference election".split()
)
"""Words after which it is a year too ('2019 was', 'the 2018 paper')."""
PER = {"s": "second", "sec": "second", "min": "minute", "h": "hour", "hr": "hour", "yr": "year"} | {
    word: word for word in "second minute hour day week month year step epoch token sample example GPU person user "
    "query dollar unit".split()
}
"""'tokens/s', 'examples/hour': a slash before one of these is 'per'."""
LINK_WORDS = "a link"
DOMAINS = "com|org|net|io|ai|edu|gov|co|uk|de|fr|ca|me|dev|app|info|blog|pub|xyz|mp|ly|tv|us|eu|int"

# --- number words ------------------------------------------------------------------------------------

_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+"
"""An unsigned number as written: 7, 1,000, 3.14, .5"""
_RANGE = r"\s?(?:–|—|-|to)\s?"


def cardinal(number: str) -> str:
    """'1,234.50' -> 'one thousand two hundred thirty-four point five zero'; '-3' -> 'minus three'."""
    text = number.replace(",", "").strip()
    sign = "minus " if text[:1] in "-−" else ""
    text = text.lstrip("-−+")
    whole, dot, fraction = text.partition(".")
    if len(whole) > 1 and whole.startswith("0"):
        words = " ".join(_integer(d) for d in whole)
    else:
        words = _integer(whole) if whole else ""
    if dot:
        words = f"{words} point {' '.join(_integer(d) for d in fraction)}".strip()
    return sign + words


def _american(words: str) -> str:
    """num2words writes 'one hundred and five, ...'; an American narrator says 'one hundred five'."""
    return words.replace(",", "").replace(" and ", " ")


def _integer(digits: str) -> str:
    return _american(num2words(int(digits), lang="en"))


def ordinal(number: str) -> str:
    return _american(num2words(int(number.replace(",", "")), lang="en", to="ordinal"))


def year(number: str) -> str:
    """'2019' -> 'twenty nineteen', '2005' -> 'two thousand five', '1905' -> 'nineteen oh-five'."""
    return _american(num2words(int(number), lang="en", to="year"))


def plural(words: str) -> str:
    """The plural of a number word: 'nineteen ninety' -> 'nineteen nineties', 'half' -> 'halves', 'third' -> 'thirds'."""
    if words.endswith("y"):
        return words[:-1] + "ies"
    if words.endswith("f"):
        return words[:-1] + "ves"
    return words + "s"


def _is_one(number: str) -> bool:
    return number.replace(",", "").strip() in ("1", "1.0")


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
    """Unicode that is only visual: emoji, joiners, smart quotes, footnote markers."""
    text = unicodedata.normalize("NFC", text)
    for symbol, written in FRACTIONS.items():
        text = re.sub(rf"(\d?){symbol}", lambda m: f"{m.group(1)} and {written}" if m.group(1) else written, text)
    kept = []
    for char in text:
        code = ord(char)
        category = unicodedata.category(char)
        if char in SYMBOLS or char in GREEK or char == "°":
            kept.append(char)
        elif category in ("So", "Cf", "Co", "Cs") or 0xFE00 <= code <= 0xFE0F or 0x1F3FB <= code <= 0x1F3FF:
            kept.append(" " if category == "So" else "")
        elif category == "Zs" or char in "\t\n\r":
            kept.append(" ")
        else:
            kept.append(char)
    text = "".join(kept)
    text = re.sub(r"(?<=\w)[’‘`´](?=\w)", "'", text)
    text = re.sub(r"[“”„«»\"‘’`´]", " ", text)
    text = re.sub(r"(?<![\w'.])'(?!\d0s\b)|(?<![s.])'(?!\w)", " ", text)
    text = text.replace("…", "...").replace("−", "-").replace("‐", "-").replace("‑", "-")
    # Superscripts: a power after a number or a one-letter variable, else a footnote marker.
    text = re.sub(r"(?:(?<=\d)|(?<=\b[A-Za-z]))([⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺]+)", lambda m: "^" + m.group(1).translate(SUPERSCRIPTS), text)
    text = re.sub(r"[⁰¹²³⁴⁵⁶⁷⁸⁹]+", "", text)
    text = re.sub(r"\[(?:\d+(?:\s?[-–,]\s?\d+)*|[a-z]|note \d+|citation needed)\]", "", text)
    return text


def _link(m: re.Match[str]) -> str:
    return LINK_WORDS


def _domain(m: re.Match[str]) -> str:
    if m.group("path") and len(m.group("path")) > 1:
        return LINK_WORDS
    return m.group("host").replace(".", " dot ")


def _email(m: re.Match[str]) -> str:
    return f"{m.group(1).replace('.', ' dot ')} at {m.group(2).replace('.', ' dot ')}"


def _cross_reference(m: re.Match[str]) -> str:
    return f"{CROSS_REFERENCES[m.group(1)]} number {m.group(2)}"


def _abbreviation(say: str) -> Callable[[re.Match[str]], str]:
    """An abbreviation that ends the sentence keeps the full stop it carried."""

    def replace(m: re.Match[str]) -> str:
        at_end = m.group(0).endswith(".") and not m.string[m.end():].strip()
        return say + ("." if at_end else "")

    return replace


def _spelled(m: re.Match[str]) -> str:
    """'U.S.' -> 'U S': dotted initials are spelled, their dots are not pauses."""
    letters = " ".join(m.group(0).replace(".", ""))
    return letters + ("." if not m.string[m.end():].strip() else "")


def _date_words(month: str, day: str | None, year_: str | None, day_first: bool = False) -> str:
    month = MONTH_ABBREVIATIONS.get(month.rstrip("."), month)
    if day and day_first:
        text = f"the {ordinal(day)} of {month}"
    else:
        text = f"{month} {ordinal(day)}" if day else month
    if year_:
        text += f"{',' if day else ''} {year(year_)}"
    return text


def _iso_date(m: re.Match[str]) -> str:
    return _date_words(MONTHS[int(m.group("m")) - 1], m.group("d"), m.group("y"))


def _numeric_date(m: re.Match[str]) -> str:
    first, second, y = int(m.group("a")), int(m.group("b")), m.group("y")
    month, day = (first, second) if first <= 12 else (second, first)
    if len(y) == 2:
        y = ("20" if int(y) < 50 else "19") + y
    return _date_words(MONTHS[month - 1], str(day), y)


def _named_date(m: re.Match[str]) -> str:
    return _date_words(m.group("month"), m.group("day"), m.group("year"))


def _day_month_date(m: re.Match[str]) -> str:
    return _date_words(m.group("month"), m.group("day"), m.group("year"), day_first=True)


def _decade(m: re.Match[str]) -> str:
    digits = m.group("digits")
    return plural(year(digits) if len(digits) == 4 else cardinal(digits))


def _time(m: re.Match[str]) -> str:
    hour, minute, meridiem = int(m.group("h")), m.group("m"), m.group("ampm")
    suffix = f" {meridiem.replace('.', '').upper()[0]} M" if meridiem else ""
    if not minute or minute == "00":
        return cardinal(str(hour)) + (suffix or (" hundred" if hour > 12 or m.group("h").startswith("0") else " o'clock"))
    minute_words = f"oh {cardinal(minute[1])}" if minute.startswith("0") else cardinal(minute)
    return f"{cardinal(str(hour))} {minute_words}{suffix}"


def _ratio(m: re.Match[str]) -> str:
    return f"{cardinal(m.group(1))} to {cardinal(m.group(2))}"


def _money(m: re.Match[str]) -> str:
    sign = m.group("cur") or CURRENCY_CODES[m.group("code")]
    one, many, cent, cents = CURRENCIES[sign]
    a, b = m.group("a"), m.group("b")
    scale = m.group("scale")
    if scale:
        return f"{_span(a, b)} {SCALES.get(scale, scale)} {many}"
    if b:
        return f"{_span(a, b)} {many}"
    whole, _, fraction = a.replace(",", "").partition(".")
    if len(fraction) != 2:
        return f"{cardinal(a)} {one if _is_one(a) else many}"
    if not whole or int(whole) == 0:
        return f"{cardinal(fraction)} {cent if int(fraction) == 1 else cents}"
    text = f"{cardinal(whole)} {one if whole == '1' else many}"
    return text + (f" and {cardinal(fraction)} {cent if int(fraction) == 1 else cents}" if int(fraction) else "")


def _percent(m: re.Match[str]) -> str:
    return f"{_span(m.group('a'), m.group('b'))} percent"


def _scaled(m: re.Match[str]) -> str:
    return f"{_span(m.group('a'), m.group('b'))} {SCALES[m.group('scale')]}"


def _unit(m: re.Match[str]) -> str:
    one, many = UNITS[m.group("unit")]
    a, b = m.group("a"), m.group("b")
    return f"{_span(a, b)} {one if _is_one(a) and not b else many}"


def _times(m: re.Match[str]) -> str:
    if m.group("by"):
        return f"{cardinal(m.group('a'))} by {cardinal(m.group('by'))}"
    return f"{_span(m.group('a'), m.group('b'))} times"


def _power(m: re.Match[str]) -> str:
    base, exponent = m.group("base"), m.group("exp").strip("{}()")
    base_words = cardinal(base) if base[0].isdigit() else base
    if exponent.lstrip("+").isdigit():
        value = int(exponent)
        if value == 2:
            return f"{base_words} squared"
        if value == 3:
            return f"{base_words} cubed"
        return f"{base_words} to the {ordinal(str(value))}"
    if re.fullmatch(r"-\d+", exponent):
        return f"{base_words} to the minus {cardinal(exponent[1:])}"
    return f"{base_words} to the {exponent}"


def _scientific(m: re.Match[str]) -> str:
    mantissa, exponent = m.group("m"), m.group("e").replace("+", "")
    power = f"ten to the minus {cardinal(exponent[1:])}" if exponent.startswith("-") else f"ten to the {ordinal(exponent)}"
    return power if _is_one(mantissa) else f"{cardinal(mantissa)} times {power}"


def _version(m: re.Match[str]) -> str:
    return "version " + " point ".join(cardinal(part) for part in m.group(1).split("."))


def _dotted_number(m: re.Match[str]) -> str:
    return " point ".join(cardinal(part) for part in m.group(0).split("."))


def _split_alphanumeric(m: re.Match[str]) -> str:
    """'InceptionV1' -> 'Inception V 1', 'A3C' -> 'A 3 C': names made of letters and numbers."""
    token = re.sub(r"(?<=[a-z])(?=[A-Z]\d)", " ", m.group(0))
    return re.sub(r"(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])", " ", token)


def _number_range(m: re.Match[str]) -> str:
    a, b = m.group("a"), m.group("b")
    if _looks_like_year(a) and (_looks_like_year(b) or len(b) == 2):
        return f"{year(a)} to {year(b) if len(b) == 4 else cardinal(b)}"
    return f"{cardinal(a)} to {cardinal(b)}"


def _looks_like_year(text: str) -> bool:
    return bool(re.fullmatch(r"1[1-9]\d\d|20\d\d", text))


def _fraction(m: re.Match[str]) -> str:
    top, bottom = m.group(1), m.group(2)
    if int(bottom) == 0 or int(bottom) > 10:
        return f"{cardinal(top)} out of {cardinal(bottom)}"
    if bottom == "1":
        return f"{cardinal(top)} over one"
    name = {"2": "half", "4": "quarter"}.get(bottom) or ordinal(bottom)
    return f"{cardinal(top)} {name if _is_one(top) else plural(name)}"


def _ordinal(m: re.Match[str]) -> str:
    return ordinal(m.group(1))


def _year_or_number(m: re.Match[str]) -> str:
    """A four-digit number is a year after 'in' or a month, or before a singular noun ('the 2019 paper');
    not when it counts something ('2048 tokens')."""
    left = m.string[:m.start()].rstrip()
    before = re.search(r"(\w+)\W*$", left)
    after = re.match(r"\s*(\w+)", m.string[m.end():])
    previous, following = (before.group(1) if before else ""), (after.group(1) if after else "")
    value = int(m.group(0))
    counted = re.fullmatch(r"[a-z]+(?<!ss)(?<!us)(?<!is)s", following) is not None
    if previous.lower() in YEAR_CUES or previous in MONTHS:
        is_year = True
    elif following[:1].islower() and following not in YEAR_FOLLOWERS and (counted or not 1900 <= value <= 2039):
        is_year = False
    else:
        is_year = 1900 <= value <= 2039 or previous.lower() in WEAK_YEAR_CUES or left.endswith(("(", ","))
    return year(m.group(0)) if is_year else cardinal(m.group(0))


def _number(m: re.Match[str]) -> str:
    return cardinal(m.group(0))


def _symbol(m: re.Match[str]) -> str:
    """'p < 0.05' is 'p is less than ...', '(<5%)' is 'less than ...': it depends on what stands before.

    'About' and 'approximately' take an operand only after a variable or a number ('x ≈ 3'), since after
    a word they qualify what follows ('took ~20 ms').
    """
    symbol = m.group("sym")
    between, before = SYMBOLS[symbol]
    left = m.string[:m.start()].rstrip()
    if symbol in LOOSE_SYMBOLS:
        operand = re.search(r"(?:(?<![\w'])[^\W\d_]|\d|[)\]]|\b[A-Z][A-Z\d]+)$", left) is not None
    else:
        last = re.search(r"(\w+)\W*$", left)
        operand = bool(re.search(r"[\w)\]]$", left)) and not (last and last.group(1).lower() in FUNCTION_WORDS)
    return f" {between if operand else before} "


def _greek(m: re.Match[str]) -> str:
    """A Greek letter's name, apart from the letters and digits it touches ('2π' -> '2 pi')."""
    name = GREEK[m.group(0)]
    before = " " if m.start() and m.string[m.start() - 1].isalnum() else ""
    after = " " if m.end() < len(m.string) and m.string[m.end()].isalnum() else ""
    return f"{before}{name}{after}"


def _paren_plural(m: re.Match[str]) -> str:
    return m.group(1) + m.group(2)


def _alternatives(m: re.Match[str]) -> str:
    return " and or " if m.group(0).lower() == "and/or" else " or "


def _alternation(keys) -> str:
    return "|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True))


def _boundary_after(pattern: str) -> str:
    return "" if pattern.endswith("/") else r"(?!\w)"


def _rules() -> tuple[Rule, ...]:
    r = re.compile
    signs, codes, units = _alternation(CURRENCIES), _alternation(CURRENCY_CODES), _alternation(UNITS)
    scales = _alternation(SCALES)
    scale_word = rf"(?:\s?(?P<scale>{scales}|{'|'.join(SCALE_WORDS)})\b)?"
    month = rf"(?P<month>{'|'.join(MONTHS)}|(?:{'|'.join(MONTH_ABBREVIATIONS)})\.?)"
    year_ = r"(?P<year>1\d{3}|20\d\d)\b"
    num = rf"(?P<a>{_NUM})(?:{_RANGE}(?P<b>{_NUM}))?"
    start = r"(?<![\w.])(?<![A-Za-z]-)"
    return (
        # Links and addresses: a listener can follow none of them, so none is spelled out.
        Rule("url", r(r"\b(?:https?|ftp)://[^\s<>]+?(?=[.,;:!?)\]]*(?:\s|$))|\bwww\.[^\s<>]+?(?=[.,;:!?)\]]*(?:\s|$))"), _link),
        Rule("email", r(r"\b([\w.+-]+)@([\w-]+(?:\.[\w-]+)+)\b"), _email),
        Rule("arxiv", r(r"\barXiv:\s?\d{4}\.\d{4,5}(?:v\d+)?", re.I), "an arXiv paper"),
        Rule("doi", r(r"\bdoi:\s?\S+", re.I), "a DOI"),
        Rule("domain", r(rf"\b(?P<host>(?:[A-Za-z0-9-]+\.)+(?:{DOMAINS}))\b(?P<path>/[^\s]*)?(?=[.,;:!?)]*(?:\s|$))"), _domain),
        Rule("cross-reference", r(rf"\b({'|'.join(CROSS_REFERENCES)})\s?#\s?(\d+)\b"), _cross_reference),
        Rule("number-sign", r(r"(?<!\w)#\s?(?=\d)"), "number "),
        Rule("hashtag", r(r"(?<![\w&])#(?=[A-Za-z])"), ""),
        *(Rule(f"abbreviation {say}", r(rf"(?<![\w.]){pattern}{_boundary_after(pattern)}"), _abbreviation(say))
          for pattern, say in ABBREVIATIONS.items()),
        Rule("initials", r(r"(?<![\w.])(?:[A-Z]\.){2,}(?!\w)"), _spelled),
        # Dates and times, before their numbers are read one by one.
        Rule("iso-date", r(r"\b(?P<y>1[6-9]\d\d|20\d\d)-(?P<m>0?[1-9]|1[0-2])-(?P<d>0?[1-9]|[12]\d|3[01])\b"), _iso_date),
        Rule("numeric-date", r(r"\b(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<y>\d{4}|\d{2})\b"), _numeric_date),
        Rule("date", r(rf"\b{month}\s(?P<day>[0-3]?\d)(?:st|nd|rd|th)?\b(?:,?\s{year_})?"), _named_date),
        Rule("day-month", r(rf"\b(?P<day>[0-3]?\d)(?:st|nd|rd|th)?\s(?:of\s)?{month}(?:,?\s{year_})?"), _day_month_date),
        Rule("month-year", r(rf"\b{month}\s{year_}"), lambda m: _date_words(m.group("month"), None, m.group("year"))),
        Rule("decade", r(r"(?<![\w.])'?(?P<digits>1\d\d0|20\d0|\d0)s\b"), _decade),
        Rule("time", r(r"\b(?P<h>[01]?\d|2[0-3]):(?P<m>[0-5]\d)(?::[0-5]\d)?(?:\s?(?P<ampm>[ap]\.m\.|[ap]m\b|[AP]M\b))?"), _time),
        Rule("clock-time", r(r"\b(?P<h>1[0-2]|0?[1-9])\.?(?P<m>[0-5]\d)\s?(?P<ampm>[ap]\.m\.|[ap]m\b|[AP]M\b)"), _time),
        Rule("clock-hour", r(r"\b(?P<h>1[0-2]|0?[1-9])(?P<m>)\s?(?P<ampm>[ap]\.m\.|[ap]m\b|[AP]M\b)"), _time),
        Rule("ratio", r(r"\b(\d+):(\d+)\b"), _ratio),
        # Quantities: money, percentages, powers, scales, units, multipliers.
        Rule("money", r(rf"(?P<cur>{signs})\s?(?P<a>{_NUM})(?:{_RANGE}(?:{signs})?(?P<b>{_NUM}))?{scale_word}"), _money),
        Rule("money-code", r(rf"\b(?P<code>{codes})\s?{num}{scale_word}(?P<cur>)"), _money),
        Rule("amount-code", r(rf"{start}{num}{scale_word}\s?(?P<code>{codes})\b(?P<cur>)"), _money),
        Rule("percent", r(rf"{start}(?P<a>{_NUM})(?:%?{_RANGE}(?P<b>{_NUM}))?\s?%"), _percent),
        Rule("scientific", r(rf"{start}(?P<m>\d+(?:\.\d+)?)[eE](?P<e>[-+]?\d+)\b"), _scientific),
        Rule("power", r(r"(?<![\w.])(?P<base>\d+(?:\.\d+)?|[A-Za-z])\s?\^\s?(?P<exp>\{[^}]*\}|\([^)]*\)|[-+]?\w+)"), _power),
        Rule("scale", r(rf"{start}{num}(?P<scale>{scales})\b"), _scaled),
        Rule("unit", r(rf"{start}{num}\s?(?P<unit>{units})(?![\w/])"), _unit),
        Rule("multiplier", r(rf"{start}(?P<a>{_NUM})(?:[x×]?{_RANGE}(?P<b>{_NUM}))?\s?[x×](?:\s?(?P<by>{_NUM}))?(?!\w)"), _times),
        # Symbols and Greek letters, while the digits around them still show what they stand between.
        Rule("absolute-value", r(r"\|([^|\s][^|]{0,30}?)\|"), r"the absolute value of \1"),
        Rule("symbol", r(rf"(?P<sym>{_alternation(SYMBOLS)})"), _symbol),
        Rule("greek", r(_alternation(GREEK)), _greek),
        # Names with numbers in them, versions, ranges, fractions, ordinals, years, then every other number.
        Rule("version", r(r"(?<![\w.])[vV](\d+(?:\.\d+)*)\b"), _version),
        Rule("name-number", r(r"(?<=[A-Za-z])-(?=\d)|(?<=\d)-(?=[A-Z]\b)"), " "),
        Rule("alphanumeric", r(r"\b[A-Za-z]+\d+[A-Za-z\d]*\b|\b\d+[A-Z][A-Za-z]*\b"), _split_alphanumeric),
        Rule("dotted-number", r(r"(?<![\w.])\d+(?:\.\d+){2,}(?!\w)"), _dotted_number),
        Rule("range", r(rf"(?<![\w.,])(?P<a>{_NUM})\s?[–—-]\s?(?P<b>{_NUM})(?!\w)"), _number_range),
        Rule("fraction", r(r"(?<![\w/.])(\d+)/(\d+)(?![\w/])"), _fraction),
        Rule("ordinal", r(r"\b(\d+)(?:st|nd|rd|th)\b"), _ordinal),
        Rule("year", r(r"(?<![\w.,])(?:1[1-9]\d\d|20\d\d)(?![\w]|[.,]\d)"), _year_or_number),
        Rule("number", r(rf"(?<![\w.])(?:(?<![\w)])-)?(?:{_NUM})(?!\w)"), _number),
        # Punctuation that is only visual; parentheses and dashes become a light pause.
        Rule("paren-plural", r(r"(\w)\((s|es)\)"), _paren_plural),
        Rule("paren-prefix", r(r"\((sub|pre|re|non|un|self|semi|multi|super)\)(\w)", re.I), r"\1\2"),
        Rule("per", r(rf"(?<=[A-Za-z])/({'|'.join(PER)})\b"), lambda m: f" per {PER[m.group(1)]}"),
        Rule("and-or", r(r"\band/or\b|(?<=[A-Za-z])/(?=[A-Za-z])", re.I), _alternatives),
        Rule("dash", r(r"\s[–—-]\s|\s?[—―]\s?|\s?--+\s?|\s–|–\s"), ", "),
        Rule("compound-dash", r(r"(?<=\w)–(?=\w)"), "-"),
        Rule("brackets", r(r"[()\[\]{}]"), ", "),
        Rule("bullets", r(r"\s*[•·▪|]\s*"), ", "),
        Rule("invisible", r(r"[*_\\^<>#`/]+"), " "),
    )


RULES = _rules()


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
    text = re.sub(r"^[,;:.\s]+", "", text)
    text = text.strip().rstrip(",").strip()
    return text[:-1].rstrip() + "." if text.endswith((":", ";")) else text


_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)]*\s+(?=[\"“(]?[A-Z0-9])")
_NOT_AN_END = re.compile(
    r"\b(?:[A-Z]|e\.g|i\.e|vs|cf|Dr|Mr|Mrs|Ms|Prof|St|Fig|Figs|Eq|Eqs|approx|a\.k\.a|w\.r\.t|"
    r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.$"
)
_NOT_AN_END_BEFORE_NUMBER = re.compile(r"\b(?:No|no|p|pp|[Vv]ol|Ch|Sec|sec|fig|eq|ca|c|et al|etc)\.$")
"""'p. 12', 'et al. (2020)': an abbreviation followed by a number or a parenthesis ends no sentence."""


def sentences(text: str) -> list[str]:
    """Split written text into sentences, so each becomes one transcript cue with its exact time."""
    parts: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        candidate = text[start:match.start()].strip()
        following = text[match.end():match.end() + 1]
        if _NOT_AN_END.search(candidate):
            continue
        if _NOT_AN_END_BEFORE_NUMBER.search(candidate) and not following.isalpha():
            continue
        parts.append(candidate)
        start = match.end()
    tail = text[start:].strip()
    if tail:
        parts.append(tail)
    return [p for p in parts if p]

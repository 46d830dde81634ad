"""Written text to the words a careful narrator would say: the voice must never see a symbol it would misread."""

from __future__ import annotations

import re
from typing import Callable

from num2words import num2words

Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str] | str]

MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"

ABBREVIATIONS = {
    r"\be\.g\.,?": "for example,",
    r"\bi\.e\.,?": "that is,",
    r"\bet al\.?(?=,?\s+[a-z(])": "and colleagues",
    r"\bet al\b": "and colleagues",
    r"\betc\.": "et cetera.",
    r"\bvs\.?(?=\s)": "versus",
    r"\bcf\.": "compare",
    r"\ba\.k\.a\.": "also known as",
    r"\bapprox\.": "approximately",
}

SYMBOLS = {
    "≠": " is not equal to ",
    "≈": " approximately ",
    "±": " plus or minus ",
    "≤": " at most ",
    "≥": " at least ",
    "×": " times ",
    "→": " to ",
    "&": " and ",
    "~": " about ",
    "%": " percent",
    "…": "...",
}

CURRENCIES = {"$": ("dollar", "dollars", "cent", "cents"), "£": ("pound", "pounds", "penny", "pence"),
              "€": ("euro", "euros", "cent", "cents")}
SCALE_WORDS = {"k": "thousand", "K": "thousand", "M": "million", "B": "billion", "bn": "billion", "T": "trillion"}


def _words(number: str, to: str = "cardinal") -> str:
    value = float(number.replace(",", "")) if "." in number else int(number.replace(",", ""))
    return num2words(value, to=to).replace(",", "")


def _money(m: re.Match[str]) -> str:
    one, many, _, _ = CURRENCIES[m.group("cur")]
    amount, scale = m.group("amount"), m.group("scale")
    if scale:
        return f"{_words(amount)} {SCALE_WORDS[scale]} {many}"
    whole, _, cents = amount.replace(",", "").partition(".")
    text = f"{_words(whole)} {one if whole == '1' else many}"
    if cents and int(cents):
        text += f" and {_words(cents)} cents"
    return text


def _date(m: re.Match[str]) -> str:
    day = _words(m.group("day"), "ordinal")
    year = f" {num2words(int(m.group('year')), to='year')}" if m.group("year") else ""
    return f"{m.group('month')} {day}{year}"


def _number(m: re.Match[str]) -> str:
    text = m.group(0)
    if re.fullmatch(r"1[1-9]\d\d|20\d\d", text):
        return num2words(int(text), to="year")
    return _words(text)


RULES: list[Rule] = [
    # Links and references a listener cannot follow are not read out.
    (re.compile(r"https?://\S+|www\.\S+"), "a link"),
    (re.compile(r"\bAN #(\d+)"), r"Alignment Newsletter number \1"),
    (re.compile(r"#(\d+)"), r"number \1"),
    (re.compile(r"\((sub|pre|re|non|un)\)(\w)", re.I), r"\1\2"),
    (re.compile(rf"\b(?P<month>{MONTHS}) (?P<day>\d{{1,2}})(?:st|nd|rd|th)?(?:, (?P<year>\d{{4}}))?\b"), _date),
    (re.compile(r"(?P<cur>[$£€])(?P<amount>\d[\d,]*(?:\.\d+)?)(?:\s?(?P<scale>bn|[kKMBT])\b)?"), _money),
    (re.compile(r"\b(\d+(?:\.\d+)?)\s?(bn|[kKMBT])\b"), lambda m: f"{_words(m.group(1))} {SCALE_WORDS[m.group(2)]}"),
    (re.compile(r"\b(\d+)(?:st|nd|rd|th)\b"), lambda m: _words(m.group(1), "ordinal")),
    (re.compile(r"\b(\d+)x\b"), lambda m: f"{_words(m.group(1))} times"),
    (re.compile(r"\b(\d+)-D\b"), lambda m: f"{_words(m.group(1))} D"),
    (re.compile(r"(?<=\d)\s?[–—-]\s?(?=\d)"), " to "),
    (re.compile(r"\b\d{1,3}(?:,\d{3})+(?:\.\d+)?\b|\b\d+\.\d+\b|\b\d+\b"), _number),
    (re.compile(r"(?<=\w)/(?=\w)"), " or "),
    (re.compile(r"\s*[–—]\s*"), ", "),
    (re.compile(r"[()\[\]]"), ", "),
    (re.compile(r"[\"“”‘’*_`]"), lambda m: "'" if m.group(0) == "’" else ""),
]


def normalize(text: str) -> str:
    """The spoken form of one sentence or paragraph."""
    for pattern, replacement in ABBREVIATIONS.items():
        text = re.sub(pattern, replacement, text)
    for symbol, words in SYMBOLS.items():
        text = text.replace(symbol, words)
    for pattern, replacement in RULES:
        text = pattern.sub(replacement, text)
    return _tidy(text)


def _tidy(text: str) -> str:
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    while re.search(r",\s*[,.;:!?]", text):
        text = re.sub(r",\s*([,.;:!?])", r"\1", text)
    text = re.sub(r"^[,\s]+", "", text)
    return text.strip()


_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)]*\s+(?=[\"“(]?[A-Z0-9])")
_NOT_AN_END = re.compile(r"\b(?:[A-Z]|e\.g|i\.e|et al|vs|cf|Dr|Mr|Mrs|Ms|St|No|Fig|etc)\.$")


def sentences(text: str) -> list[str]:
    """Split written text into sentences, so each becomes one transcript cue with its exact time."""
    parts: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        candidate = text[start:match.start()].strip()
        if _NOT_AN_END.search(candidate):
            continue
        parts.append(candidate)
        start = match.end()
    tail = text[start:].strip()
    if tail:
        parts.append(tail)
    return [p for p in parts if p]

"""What written forms mean when spoken: the tables normalization reads (units, currencies, symbols, names)."""

# The rules in normalize.py only find where a table applies; to teach the narrator a new unit, currency,
# abbreviation or time zone, add a row here.

from __future__ import annotations

import logging

from ..clock import MONTHS

log = logging.getLogger(__name__)

MONTH_NAMES = {m.lower(): m for m in MONTHS} | {m[:3].lower(): m for m in MONTHS} | {"sept": "September"}
"""Every way a month is written, in lower case: 'jan', 'sept', 'july'."""
VERB_MONTHS = frozenset({"may", "march"})
"""Months that are also verbs: in lower case they are a month only when a year is written too."""

CROSS_REFERENCES = {"AN": "Alignment Newsletter"}
"""Short names of newsletters that an issue cites as 'AN #58'."""

CURRENCIES = {
    # sign: (one, many, one hundredth, many hundredths)
    "$": ("dollar", "dollars", "cent", "cents"),
    "US$": ("US dollar", "US dollars", "cent", "cents"),
    "C$": ("Canadian dollar", "Canadian dollars", "cent", "cents"),
    "A$": ("Australian dollar", "Australian dollars", "cent", "cents"),
    "HK$": ("Hong Kong dollar", "Hong Kong dollars", "cent", "cents"),
    "NZ$": ("New Zealand dollar", "New Zealand dollars", "cent", "cents"),
    "S$": ("Singapore dollar", "Singapore dollars", "cent", "cents"),
    "R$": ("Brazilian real", "Brazilian reais", "centavo", "centavos"),
    "£": ("pound", "pounds", "penny", "pence"),
    "€": ("euro", "euros", "cent", "cents"),
    "¥": ("yen", "yen", "sen", "sen"),
    "₹": ("rupee", "rupees", "paisa", "paise"),
    "₩": ("won", "won", "jeon", "jeon"),
    "₽": ("ruble", "rubles", "kopeck", "kopecks"),
    "₺": ("lira", "lira", "kurus", "kurus"),
    "₿": ("bitcoin", "bitcoin", "bitcoin", "bitcoin"),
    "CHF": ("Swiss franc", "Swiss francs", "centime", "centimes"),
    "yuan": ("yuan", "yuan", "fen", "fen"),
    "SEK": ("Swedish krona", "Swedish kronor", "ore", "ore"),
    "NOK": ("Norwegian krone", "Norwegian kroner", "ore", "ore"),
    "DKK": ("Danish krone", "Danish kroner", "ore", "ore"),
    "ZAR": ("rand", "rand", "cent", "cents"),
    "MXN": ("Mexican peso", "Mexican pesos", "centavo", "centavos"),
    "ETH": ("ether", "ether", "ether", "ether"),
}
CURRENCY_CODES = {
    "USD": "US$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "CAD": "C$", "AUD": "A$", "CHF": "CHF",
    "HKD": "HK$", "NZD": "NZ$", "SGD": "S$", "BRL": "R$", "KRW": "₩", "RUB": "₽", "TRY": "₺", "BTC": "₿",
    "CNY": "yuan", "RMB": "yuan", "SEK": "SEK", "NOK": "NOK", "DKK": "DKK", "ZAR": "ZAR", "MXN": "MXN", "ETH": "ETH",
}
"""Codes written before or after an amount ('100 USD', 'EUR 5'), and the sign whose names they take."""

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
    "GHz": ("gigahertz", "gigahertz"), "GHZ": ("gigahertz", "gigahertz"), "MHZ": ("megahertz", "megahertz"),
    "KB": ("kilobyte", "kilobytes"), "kB": ("kilobyte", "kilobytes"), "MB": ("megabyte", "megabytes"),
    "GB": ("gigabyte", "gigabytes"), "TB": ("terabyte", "terabytes"), "PB": ("petabyte", "petabytes"),
    "KiB": ("kibibyte", "kibibytes"), "MiB": ("mebibyte", "mebibytes"), "GiB": ("gibibyte", "gibibytes"),
    "TiB": ("tebibyte", "tebibytes"), "Kb": ("kilobit", "kilobits"), "Mb": ("megabit", "megabits"),
    "Gb": ("gigabit", "gigabits"),
    "kbps": ("kilobit per second", "kilobits per second"), "Kbps": ("kilobit per second", "kilobits per second"),
    "Mbps": ("megabit per second", "megabits per second"), "Gbps": ("gigabit per second", "gigabits per second"),
    "MBps": ("megabyte per second", "megabytes per second"),
    "nm": ("nanometer", "nanometers"), "µm": ("micrometer", "micrometers"), "μm": ("micrometer", "micrometers"),
    "mm": ("millimeter", "millimeters"), "cm": ("centimeter", "centimeters"), "m": ("meter", "meters"),
    "km": ("kilometer", "kilometers"), "KM": ("kilometer", "kilometers"), "Km": ("kilometer", "kilometers"),
    "mi": ("mile", "miles"), "ft": ("foot", "feet"),
    "mph": ("mile per hour", "miles per hour"), "MPH": ("mile per hour", "miles per hour"),
    "kph": ("kilometer per hour", "kilometers per hour"),
    "µg": ("microgram", "micrograms"), "mg": ("milligram", "milligrams"), "g": ("gram", "grams"),
    "kg": ("kilogram", "kilograms"), "KG": ("kilogram", "kilograms"), "Kg": ("kilogram", "kilograms"),
    "lb": ("pound", "pounds"), "lbs": ("pound", "pounds"), "LBS": ("pound", "pounds"), "oz": ("ounce", "ounces"),
    "ml": ("milliliter", "milliliters"), "mL": ("milliliter", "milliliters"), "L": ("liter", "liters"),
    "°C": ("degree Celsius", "degrees Celsius"), "°F": ("degree Fahrenheit", "degrees Fahrenheit"),
    "°": ("degree", "degrees"),
    "W": ("watt", "watts"), "kW": ("kilowatt", "kilowatts"), "MW": ("megawatt", "megawatts"),
    "GW": ("gigawatt", "gigawatts"), "kWh": ("kilowatt hour", "kilowatt hours"),
    "MWh": ("megawatt hour", "megawatt hours"), "GWh": ("gigawatt hour", "gigawatt hours"),
    "TWh": ("terawatt hour", "terawatt hours"), "J": ("joule", "joules"), "V": ("volt", "volts"),
    "mAh": ("milliamp hour", "milliamp hours"),
    "fps": ("frame per second", "frames per second"), "FPS": ("frame per second", "frames per second"),
    "rpm": ("revolution per minute", "revolutions per minute"), "dpi": ("dot per inch", "dots per inch"),
    "ppm": ("part per million", "parts per million"), "ppb": ("part per billion", "parts per billion"),
    "¢": ("cent", "cents"), "px": ("pixel", "pixels"), "dB": ("decibel", "decibels"),
    "pp": ("percentage point", "percentage points"),
    "FLOP": ("flop", "flops"), "FLOPs": ("flop", "flops"), "FLOPS": ("flop", "flops"),
    "PF-days": ("petaflop day", "petaflop days"), "petaflop/s-days": ("petaflop per second day", "petaflop per second days"),
    "petaflop/s-day": ("petaflop per second day", "petaflop per second days"),
}
LENGTHS = frozenset({"nm", "µm", "μm", "mm", "cm", "m", "km", "KM", "Km", "mi", "ft"})
"""Units that squared or cubed are an area or a volume: 'square meters', not 'meters squared'."""
PER = {"s", "sec", "min", "h", "hr", "yr", "ms", "kg", "g", "mg", "lb", "km", "m", "mi", "cm", "L", "ml", "GB", "MB",
       "kWh", "ft"}
"""Units that may follow a slash, read as 'per' and a single one ('mg/kg': 'milligrams per kilogram')."""
PER_WORDS = frozenset(
    "second minute hour day week month year step epoch token sample example GPU person user query dollar unit "
    "image page word".split()
)
"""'tokens/s', 'examples/hour', '$5/month': a slash before one of these words is 'per'."""

TIME_ZONES = {
    "UTC": "U T C", "GMT": "G M T", "Z": "Zulu",
    "ET": "Eastern Time", "EST": "Eastern Standard Time", "EDT": "Eastern Daylight Time",
    "CT": "Central Time", "CST": "Central Standard Time", "CDT": "Central Daylight Time",
    "MT": "Mountain Time", "MST": "Mountain Standard Time", "MDT": "Mountain Daylight Time",
    "PT": "Pacific Time", "PST": "Pacific Standard Time", "PDT": "Pacific Daylight Time",
    "BST": "British Summer Time", "CET": "Central European Time", "CEST": "Central European Summer Time",
    "EET": "Eastern European Time", "IST": "India Standard Time", "JST": "Japan Standard Time",
    "KST": "Korea Standard Time", "SGT": "Singapore Time", "HKT": "Hong Kong Time",
    "AEST": "Australian Eastern Standard Time", "AEDT": "Australian Eastern Daylight Time",
}
"""Time zones said after a time ('3pm ET' is 'three P M Eastern Time')."""

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
    "⊆": ("is a subset of", "a subset of"),
    "∪": ("union", "union"),
    "∩": ("intersect", "intersect"),
    "∀": ("for all", "for all"),
    "∃": ("there exists", "there exists"),
    "∞": ("infinity", "infinity"),
    "√": ("the square root of", "the square root of"),
    "∑": ("the sum of", "the sum of"),
    "∏": ("the product of", "the product of"),
    "∫": ("the integral of", "the integral of"),
    "∂": ("partial", "partial"),
    "∇": ("the gradient of", "the gradient of"),
    "§§": ("sections", "sections"),
    "§": ("section", "section"),
    "&": ("and", "and"),
    "@": ("at", "at"),
}
LOOSE_SYMBOLS = frozenset("~∼≈≃")
DISTRIBUTED = frozenset("~∼")
"""'x ~ N(0, 1)': before a distribution, a tilde is 'is distributed as'."""
FUNCTION_WORDS = frozenset(
    "of at to by is was are were be been from and or for in on with only just roughly around about than the a an "
    "into over under within if when while where that which as per".split()
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
LETTERLIKE = str.maketrans("ℝℕℤℚℂℙ𝔼", "RNZQCPE")
"""Double-struck letters are their letter: 'x ∈ ℝ' is 'x in R'."""
FUNCTIONS = ("log", "ln", "exp", "max", "min", "argmax", "argmin", "softmax", "sigmoid", "tanh", "sin", "cos",
             "tan", "sqrt", "det", "KL", "Var", "Cov")
"""Names that, applied to an argument in parentheses, are read 'of': 'log(x)' is 'log of x'."""

ABBREVIATIONS = {
    # as written (case-sensitive, a whole word): what is said
    "e.g.": "for example", "e. g.": "for example", "i.e.": "that is", "i. e.": "that is",
    "et al.'s": "and colleagues'", "et al's": "and colleagues'", "et al.": "and colleagues", "et al": "and colleagues",
    "etc.": "et cetera", "etc": "et cetera", "vs.": "versus", "vs": "versus", "cf.": "compare",
    "p.a.": "per annum", "P.a.": "per annum", "p. a.": "per annum", "a.k.a.": "also known as", "aka": "also known as",
    "approx.": "approximately", "w.r.t.": "with respect to", "wrt": "with respect to", "w.p.": "with probability",
    "w.l.o.g.": "without loss of generality", "resp.": "respectively", "i.i.d.": "I I D", "iid": "I I D",
    "s.t.": "such that", "viz.": "namely", "esp.": "especially", "incl.": "including",
    "avg.": "average", "argmax": "arg max", "argmin": "arg min",
    "Figs.": "figures", "Fig.": "figure", "fig.": "figure", "Eqs.": "equations", "Eq.": "equation",
    "eq.": "equation", "Eqn.": "equation", "Thm.": "theorem", "Lem.": "lemma", "Alg.": "algorithm",
    "Def.": "definition", "Prop.": "proposition", "Cor.": "corollary", "Tab.": "table",
    "Mr.": "Mister", "Mr": "Mister", "Mrs.": "Missus", "Mrs": "Missus", "Ms.": "Miz", "Prof.": "Professor",
    "Jr.": "Junior", "Sr.": "Senior", "Inc.": "Incorporated", "Ltd.": "Limited", "Corp.": "Corporation",
    "Dept.": "Department", "Univ.": "University", "Mt.": "Mount", "Ave.": "Avenue", "Blvd.": "Boulevard",
    "Rd.": "Road",
    "Ph.D.": "P H D", "Ph. D.": "P H D", "Ph.D": "P H D", "PhD": "P H D", "Ph.D.s": "P H Ds", "PhDs": "P H Ds",
    "TL;DR": "T L D R", "TL; DR": "T L D R", "N/A": "not applicable", "w/o": "without", "w/": "with",
    "b/c": "because", "A/B": "A B", "I/O": "I O", "Q&A": "Q and A", "R&D": "R and D",
    "CO2": "C O two", "H2O": "H two O", "CH4": "C H four",
}
NUMBERED_ABBREVIATIONS = {
    # only before a number or a Roman numeral ('No. 5', 'vol. II'; but 'No. I disagree' is left)
    "Sec.": "section", "sec.": "section", "Ch.": "chapter", "pp.": "pages", "p.": "page", "Vol.": "volume",
    "vol.": "volume", "No.": "number", "no.": "number", "ca.": "circa", "c.": "circa", "est.": "established",
    "approx": "approximately",
}
TITLES = {
    # only before a capitalized name ('Gen. Patton', 'Rev. King')
    "Gen.": "General", "Sen.": "Senator", "Rep.": "Representative", "Gov.": "Governor", "Rev.": "Reverend",
    "Capt.": "Captain", "Lt.": "Lieutenant", "Sgt.": "Sergeant", "Col.": "Colonel", "Pres.": "President",
    "Fr.": "Father",
}
PLACES = {
    # abbreviation: (before a name, after a name or a number)
    "St": ("Saint", "Street"), "Dr": ("Doctor", "Drive"),
}

REFERENCES = (
    "equation", "equations", "figure", "figures", "table", "tables", "section", "sections", "chapter", "chapters",
    "theorem", "lemma", "algorithm", "definition", "proposition", "corollary", "step", "line", "panel",
)
"""Words whose number may carry parentheses or a panel letter: 'Eq. (4)', 'Fig. 2b', 'Figure 2(a)'."""

NUMBERING = (
    "chapter", "part", "volume", "book", "act", "scene", "phase", "stage", "type", "class", "title", "article",
    "section", "episode", "season", "level", "grade", "category", "tier", "round", "world war", "super bowl",
    "lecture", "unit", "appendix",
)
"""Words after which a Roman numeral counts, as a cardinal: 'Chapter IV', 'Type I', 'World War II'."""
REGNAL = (
    "Henry", "Edward", "George", "Louis", "Charles", "Elizabeth", "William", "James", "Richard", "John", "Paul",
    "John Paul", "Pius", "Benedict", "Gregory", "Leo", "Innocent", "Clement", "Urban", "Boniface", "Peter",
    "Catherine", "Frederick", "Philip", "Napoleon", "Alexander", "Nicholas", "Ivan", "Ramesses", "Constantine",
    "Mary", "Anne", "Alfonso", "Ferdinand", "Felipe", "Wilhelm", "Otto", "Gustav", "Carl", "Harald", "Olaf",
    "Haakon", "Christian", "Frederik", "Margrethe", "Victor Emmanuel", "Juan Carlos", "Selim", "Suleiman",
    "Mehmed", "Ptolemy", "Darius", "Xerxes", "Amenhotep", "Thutmose", "Rama", "Akhenaten", "Stephen",
    "David", "Robert", "Kamehameha", "Sixtus", "Julius", "Francis",
)
"""Names after which a Roman numeral is 'the' and an ordinal: 'Henry VIII' is 'Henry the eighth'."""
NOT_NAMES = FUNCTION_WORDS | {"this", "it", "use", "see", "what", "why", "how"}
"""Capitalized words that start a sentence rather than name a thing: 'The IV drip', 'Use VI'."""

FRACTIONS = {"½": "1/2", "⅓": "1/3", "⅔": "2/3", "¼": "1/4", "¾": "3/4", "⅕": "1/5", "⅛": "1/8", "⅜": "3/8",
             "⅝": "5/8", "⅞": "7/8", "⅙": "1/6", "⅚": "5/6"}
SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
SUBSCRIPTS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
YEAR_CUES = frozenset(
    "in since until till during before after around circa early late mid spring summer autumn fall winter year "
    "years copyright established ad".split()
)
"""Words after which a four-digit number is a year ('in 2019', 'since 1956')."""
WEAK_YEAR_CUES = frozenset("of by from to and or between through".split())
"""... and after which it is one unless a noun follows ('by 1960', but 'of 1500 images')."""
YEAR_FOLLOWERS = frozenset(
    "was is were are saw had has will would and or to through onward onwards versus vs when where which that who in "
    "on at for with by as but the a an of edition paper report survey conference election bc bce".split()
)
"""Words after which it is a year too ('2019 was', 'the 2018 paper')."""
ERAS = {"BC": "B C", "BCE": "B C E", "AD": "A D", "CE": "C E"}
LINK_WORDS = "a link"
DOMAINS = ("com", "org", "net", "io", "ai", "edu", "gov", "co", "uk", "de", "fr", "ca", "me", "dev", "app", "info",
           "blog", "pub", "xyz", "mp", "ly", "tv", "us", "eu", "int")

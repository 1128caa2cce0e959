"""Spell out what espeak-ng (piper's phonemizer) reads wrongly or oddly, before synthesis.

Measured with piper's own phonemizer (espeak-ng 1.52, en-us): it already reads "50%",
"e.g.", "3.5", "2026", "&", "±", "×" well, but says "$20" as "dollar twenty", "25°C" as
"twenty five degrees C", "1/2" as "one slash two", "7 x 8" as "seven ex eight", "8 m" as
"eight em", "1000 g" as "one thousand gee", "CO2" as "co two", "5-10" as "five dash ten", "10:00" as
"ten zero zero", "1990s" as "nineteen hundred ninety z", and it ends a sentence after
"Dr." / "Mr." / "Prof." (a falling tone and a pause before the name). Each rule here fixes
one of those, touching only the pattern it names, so it is safe for every backend.
"""

from __future__ import annotations

import re
from collections.abc import Callable

ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
        "eighteen", "nineteen"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]

TITLES = {"Dr": "Doctor", "Mr": "Mister", "Mrs": "Missus", "Ms": "Miz", "Prof": "Professor",
          "Sgt": "Sergeant", "Capt": "Captain", "Gen": "General", "Rev": "Reverend"}
CURRENCIES = {"$": ("dollar", "dollars", "cent", "cents"), "€": ("euro", "euros", "cent", "cents"),
              "£": ("pound", "pounds", "penny", "pence"), "¥": ("yen", "yen", "sen", "sen")}
UNITS = {"km/h": "kilometers per hour", "m/s": "meters per second", "km": "kilometers",
         "kg": "kilograms", "m": "meters", "g": "grams",
         "cm": "centimeters", "mm": "millimeters", "mg": "milligrams", "ml": "milliliters",
         "kWh": "kilowatt hours", "°C": "degrees Celsius", "°F": "degrees Fahrenheit"}
SINGULAR = {"kilometers per hour": "kilometer per hour", "degrees Celsius": "degree Celsius",
            "degrees Fahrenheit": "degree Fahrenheit", "kilowatt hours": "kilowatt hour",
            "meters per second": "meter per second"}
FRACTIONS = {"1/2": "one half", "1/3": "one third", "2/3": "two thirds", "1/4": "one quarter",
             "3/4": "three quarters", "24/7": "twenty four seven"}
SCALES = r"(?:thousand|million|billion|trillion)"


def number_words(n: int) -> str:
    """0..99 as words (enough for decades and clock minutes)."""
    if n < 20:
        return ONES[n]
    tens, ones = divmod(n, 10)
    return TENS[tens] + (f" {ONES[ones]}" if ones else "")


def _plural_tens(n: int) -> str:
    """20 -> "twenties" (a decade name)."""
    return TENS[n // 10][:-1] + "ies"


def _currency(m: re.Match[str]) -> str:
    sign, whole, cents, scale = m.group(1), m.group(2), m.group(3), m.group(4)
    one, many, cent, cents_many = CURRENCIES[sign]
    if scale:
        amount = whole + (f".{cents}" if cents else "")
        return f"{amount} {scale} {many}"
    unit = one if whole == "1" else many
    if cents and len(cents) == 2 and whole == "0":
        return f"{int(cents)} {cent if cents == '01' else cents_many}"
    if cents and len(cents) == 2 and cents != "00":
        return f"{whole} {unit} {int(cents)} {cent if cents == '01' else cents_many}"
    if cents and cents != "00":
        return f"{whole}.{cents} {many}"
    return f"{whole} {unit}"


def _unit(m: re.Match[str]) -> str:
    number, unit = m.group(1), UNITS[m.group(2)]
    if number in ("1", "-1"):
        unit = SINGULAR.get(unit, unit[:-1] if unit.endswith("s") else unit)
    return f"{number} {unit}"


def _decade(m: re.Match[str]) -> str:
    century, decade = m.group(1), int(m.group(2))
    if decade == 0:
        if century is None:
            return m.group(0)
        if century.endswith("0"):
            return m.group(0)  # "2000s": espeak reads it well enough
        return f"{number_words(int(century))} hundreds"
    name = _plural_tens(decade * 10) if decade >= 2 else "tens"
    return f"{number_words(int(century))} {name}" if century else name


def _clock(m: re.Match[str]) -> str:
    hour, minute = int(m.group(1)), int(m.group(2))
    if minute == 0:
        return f"{hour} o'clock" if not m.group(3) else f"{hour}"
    if minute < 10:
        return f"{hour} oh {ONES[minute]}"
    return f"{hour}:{minute}"  # "3:30" is read well as it is


def _title(m: re.Match[str]) -> str:
    return TITLES[m.group(1)] + " "


RULES: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    # "Dr. Smith": espeak ends a sentence at the period; say the word instead.
    (re.compile(r"\b(" + "|".join(TITLES) + r")\.\s+(?=[A-Z])"), _title),
    (re.compile(r"\bSt\.\s+(?=[A-Z])"), "Saint "),
    (re.compile(r"\bNo\.\s*(?=\d)"), "number "),
    (re.compile(r"\bvs\.?(?=\s)"), "versus"),
    (re.compile(r"\bapprox\.(?=\s)"), "approximately"),
    (re.compile(r"#(?=\d)"), "number "),
    # "$20" -> "20 dollars", "$3.50" -> "3 dollars 50 cents", "$1.5 million" -> "... dollars".
    (re.compile(r"([$€£¥])\s?(\d[\d,]*)(?:\.(\d+))?(?:\s+(" + SCALES + r"))?\b"), _currency),
    (re.compile(r"(-?\d+(?:\.\d+)?)\s?(km/h|m/s|km|kg|cm|mm|mg|ml|kWh|°C|°F)(?![\w/])"), _unit),
    # "8,849 m", "1000 g": a lone letter only after a number and a space (not "5m", "4g").
    (re.compile(r"(\d[\d,]*(?:\.\d+)?)\s(m|g)\b(?![\w/'’-])"), _unit),
    # "7 x 8 = 56": LLM arithmetic, read as a person says it.
    (re.compile(r"(?<=\d)\s?[x×*]\s?(?=\d)"), " times "),
    (re.compile(r"(?<=\d)\s[÷/]\s(?=\d)"), " divided by "),
    # "CO2" is read "co two": spell a two-letter formula out ("H2O" is read well).
    (re.compile(r"\b([A-Z])([A-Z])(\d)\b"), r"\1 \2 \3"),
    (re.compile(r"(?<![\d/])(1/2|1/3|2/3|1/4|3/4|24/7)(?![\d/])"),
     lambda m: FRACTIONS[m.group(1)]),
    # "5-10 minutes" -> "5 to 10 minutes" (not dates like 2026-01-05, not phone numbers).
    (re.compile(r"(?<![\d-])(\d{1,4})[-–](\d{1,4})(?![\d-])"), r"\1 to \2"),
    (re.compile(r"\b(\d{1,2}):(\d{2})(?!:\d)(\s?[ap]\.?m\.?)?"),
     lambda m: _clock(m) + (m.group(3) or "")),
    # "1990s" / "'90s" -> "nineteen nineties" / "nineties".
    (re.compile(r"'([2-9])0s\b"), lambda m: _plural_tens(int(m.group(1)) * 10)),
    (re.compile(r"\b(1[0-9]|20)?(\d)0'?s\b"), _decade),
    (re.compile(r"(?<=\s)>(?=\s)"), "greater than"),
    (re.compile(r"(?<=\s)<(?=\s)"), "less than"),
]


def normalize_for_speech(text: str) -> str:
    """Rewrite numbers, units, currency and title abbreviations the way a person says them."""
    for pattern, repl in RULES:
        text = pattern.sub(repl, text)
    return text

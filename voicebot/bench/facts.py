"""The factual question sets of `voicebot bench reply`'s answer-quality table.

Short spoken-style questions with one clear answer, each in a category (CATEGORIES). Each
has a regular expression that an accepted reply matches (case-insensitive, on the spoken
reply): digits or number words, common spellings. A reply is right when it matches and does
not also state a listed wrong alternative (`reject`), so "Sydney or Canberra" does not count
as knowing Australia's capital.

FACTS is "the 48 questions" (the set the earlier reports used, kept as it was); the new set
(facts_new.py) is larger and carries a right and a wrong sample reply per question, which the
tests judge. `number`, `year` and `hedge` write the patterns the new set shares, so "six"
does not count inside "twenty-six", nor 5 inside 2.5, nor "a hundred" inside "a hundred and
twenty".
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

CATEGORIES = ("capitals", "counts", "units", "arithmetic", "science", "history", "people",
              "everyday")


@dataclass(frozen=True)
class Fact:
    question: str
    accept: str
    reject: str = ""
    category: str = ""
    sample: str = ""
    """A right reply, as a model might say it (the tests check that it is judged right)."""
    wrong: str = ""
    """A wrong reply or a hedge with a wrong alternative (judged wrong in the tests)."""

    def is_right(self, reply: str) -> bool:
        if not re.search(self.accept, reply, re.IGNORECASE):
            return False
        return not (self.reject and re.search(self.reject, reply, re.IGNORECASE))


_ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
         "nineteen")
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_SCALES = ("hundred", "thousand", "million", "billion", "point")
_NUMBER_WORDS = "|".join((*_ONES[1:], *_TENS[2:], *_SCALES))
_WORDS_BEFORE = "".join(f"(?<!{word} )" for word in (*_TENS[2:], *_SCALES[:4], "point"))
_WORDS_BEFORE += "(?<!hundred and )(?<!thousand and )(?<![\\w-])"
_WORDS_AFTER = f"(?!(?:[- ]|,? and )(?:{_NUMBER_WORDS})\\b)(?!\\w)"


def _words(n: int) -> str:
    """The spoken forms of 0 <= n < 10**9 as a pattern ("two hundred (and) six")."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else "[- ]" + _ONES[n % 10])
    for size, name in ((10**6, "million"), (1000, "thousand"), (100, "hundred")):
        if n >= size:
            head = "(?:one|a)" if n // size == 1 else _words(n // size)
            rest = "" if n % size == 0 else f"(?:,? and|,)? {_words(n % size)}"
            return f"{head} {name}{rest}"
    raise AssertionError(n)


def _spoken(n: int) -> str:
    """`_words(n)`, and for 1100-9999 also the "fourteen hundred forty" form."""
    forms = [_words(n)]
    if 1100 <= n < 10000 and (n // 100) % 10:
        rest = "" if n % 100 == 0 else f"(?: and)? {_words(n % 100)}"
        forms.append(f"{_words(n // 100)} hundred{rest}")
    return "|".join(forms)


def number(n: int) -> str:
    """A pattern for the whole number `n` in digits (1000, 1,000) or words, not as a part
    of another number (26, 2.6, 1/60, twenty-six, six hundred)."""
    digits = f"{n:,}".replace(",", "[, ]?")
    return (f"(?:(?<![\\d.,/-]){digits}(?![\\d]|[.,/]\\d)|"
            f"{_WORDS_BEFORE}(?:{_spoken(n)}){_WORDS_AFTER})")


def year(y: int) -> str:
    """A pattern for the year `y` (1000-1999) in digits or as said ("nineteen forty-five")."""
    century, rest = divmod(y, 100)
    said = f"{_words(century)} " + ("hundred" if rest == 0 else
                                    f"(?:oh )?{_words(rest)}" if rest < 10 else _words(rest))
    return f"(?:(?<![\\d.,])\\b{y}\\b(?![\\d]|[.,]\\d)|\\b{said}{_WORDS_AFTER})"


def hedge(wrong: str) -> str:
    """A reject pattern for a hedge that names the `wrong` alternative beside the answer:
    "X or Y", "Y, or X", "either X or Y"."""
    return f"(?:\\bor (?:maybe |perhaps |possibly )?(?:{wrong})\\b|\\b(?:{wrong})\\b,? or\\b)"


def _tagged(category: str, *facts: Fact) -> tuple[Fact, ...]:
    return tuple(dataclasses.replace(fact, category=category) for fact in facts)


FACTS: tuple[Fact, ...] = (
    *_tagged("capitals",
        Fact("What is the capital of France?", r"\bparis\b"),
        Fact("What is the capital of Japan?", r"\btokyo\b", r"\bkyoto\b"),
        Fact("What is the capital of Australia?", r"\bcanberra\b", r"capital[^.]*\bsydney\b"),
        Fact("What is the capital of Canada?", r"\bottawa\b", r"capital[^.]*\btoronto\b"),
        Fact("What is the capital of Italy?", r"\brome\b"),
        Fact("What is the capital of Germany?", r"\bberlin\b"),
        Fact("What is the capital of Spain?", r"\bmadrid\b"),
        Fact("What is the capital of Egypt?", r"\bcairo\b"),
    ),
    *_tagged("counts",
        Fact("How many days are in a week?", r"\b(7|seven)\b"),
        Fact("How many legs does a spider have?", r"\b(8|eight)\b", r"\b(6|six) legs\b"),
        Fact("How many continents are there?", r"\b(7|seven)\b"),
        Fact("How many planets are in our solar system?", r"\b(8|eight)\b",
             r"\b(9|nine) planets\b"),
        Fact("How many sides does a hexagon have?", r"\b(6|six)\b"),
        Fact("How many months have 28 days?", r"\b(all|12|twelve|every)\b"),
        Fact("How many strings does a standard guitar have?", r"\b(6|six)\b"),
    ),
    *_tagged("units",
        Fact("How many minutes are in an hour?", r"\b(60|sixty)\b"),
        Fact("How many hours are in a day?", r"\b(24|twenty[- ]four)\b"),
        Fact("How many centimeters are in a meter?", r"\b(100|one hundred|a hundred)\b"),
        Fact("How many grams are in a kilogram?", r"\b(1,?000|one thousand|a thousand)\b"),
        Fact("What is the freezing point of water in Fahrenheit?",
             r"\b(32|thirty[- ]two)\b"),
    ),
    *_tagged("arithmetic",
        Fact("What is 7 times 8?", r"\b(56|fifty[- ]six)\b"),
        Fact("What is 12 plus 15?", r"\b(27|twenty[- ]seven)\b"),
        Fact("What is 100 divided by 4?", r"\b(25|twenty[- ]five)\b"),
        Fact("What is 9 minus 3?", r"\b(6|six)\b"),
        Fact("What is the square root of 81?", r"\b(9|nine)\b"),
    ),
    *_tagged("science",
        Fact("At what temperature in Celsius does water boil at sea level?",
             r"\b(100|one hundred|a hundred)\b"),
        Fact("At what temperature in Celsius does water freeze?", r"\b(0|zero)\b"),
        Fact("Which planet is closest to the sun?", r"\bmercury\b"),
        Fact("Which planet is known as the red planet?", r"\bmars\b"),
        Fact("What is the largest planet in our solar system?", r"\bjupiter\b"),
        Fact("What gas do plants take in from the air?", r"carbon dioxide|\bco2\b|\bco₂\b"),
        Fact("What is the chemical symbol for water?", r"\bh2o\b|\bh₂o\b"),
        Fact("What is the chemical symbol for gold?", r"\bau\b"),
        Fact("What is the hardest natural substance?", r"\bdiamonds?\b"),
        Fact("What is the largest mammal?", r"blue whale"),
    ),
    *_tagged("history",
        Fact("In which year did the Second World War end?", r"\b1945\b|nineteen forty[- ]five"),
    ),
    *_tagged("people",
        Fact("Who wrote Romeo and Juliet?", r"shakespeare"),
        Fact("Who painted the Mona Lisa?", r"leonardo|da vinci"),
        Fact("Who developed the theory of relativity?", r"einstein"),
        Fact("Who was the first person to walk on the moon?", r"armstrong"),
        Fact("Who was the first president of the United States?", r"washington"),
    ),
    *_tagged("everyday",
        Fact("What is the largest ocean on Earth?", r"\bpacific\b"),
        Fact("What is the longest river in the world?", r"\bnile\b|\bamazon\b"),
        Fact("What is the tallest mountain in the world?", r"\beverest\b"),
        Fact("On which continent is Kenya?", r"\bafrica"),  # "the African continent" is right
        Fact("What language is mainly spoken in Brazil?", r"portuguese"),
        Fact("What is the currency of Japan?", r"\byen\b"),
        Fact("What do bees make?", r"\bhoney\b"),
    ),
)

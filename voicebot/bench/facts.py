"""The factual question set of `voicebot bench reply`'s answer-quality table.

Short spoken-style questions with one clear answer (capitals, counts, units, arithmetic,
science, people, geography). Each has a regular expression that an accepted reply matches
(case-insensitive, on the raw reply): digits or number words, common spellings. A reply is
right when it matches and does not also state a listed wrong alternative (`reject`), so
"Sydney or Canberra" does not count as knowing Australia's capital.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Fact:
    question: str
    accept: str
    reject: str = ""

    def is_right(self, reply: str) -> bool:
        if not re.search(self.accept, reply, re.IGNORECASE):
            return False
        return not (self.reject and re.search(self.reject, reply, re.IGNORECASE))


FACTS: tuple[Fact, ...] = (
    Fact("What is the capital of France?", r"\bparis\b"),
    Fact("What is the capital of Japan?", r"\btokyo\b", r"\bkyoto\b"),
    Fact("What is the capital of Australia?", r"\bcanberra\b", r"capital[^.]*\bsydney\b"),
    Fact("What is the capital of Canada?", r"\bottawa\b", r"capital[^.]*\btoronto\b"),
    Fact("What is the capital of Italy?", r"\brome\b"),
    Fact("What is the capital of Germany?", r"\bberlin\b"),
    Fact("What is the capital of Spain?", r"\bmadrid\b"),
    Fact("What is the capital of Egypt?", r"\bcairo\b"),
    Fact("How many days are in a week?", r"\b(7|seven)\b"),
    Fact("How many legs does a spider have?", r"\b(8|eight)\b", r"\b(6|six) legs\b"),
    Fact("How many continents are there?", r"\b(7|seven)\b"),
    Fact("How many planets are in our solar system?", r"\b(8|eight)\b", r"\b(9|nine) planets\b"),
    Fact("How many minutes are in an hour?", r"\b(60|sixty)\b"),
    Fact("How many sides does a hexagon have?", r"\b(6|six)\b"),
    Fact("How many hours are in a day?", r"\b(24|twenty[- ]four)\b"),
    Fact("How many months have 28 days?", r"\b(all|12|twelve|every)\b"),
    Fact("What is 7 times 8?", r"\b(56|fifty[- ]six)\b"),
    Fact("What is 12 plus 15?", r"\b(27|twenty[- ]seven)\b"),
    Fact("What is 100 divided by 4?", r"\b(25|twenty[- ]five)\b"),
    Fact("What is 9 minus 3?", r"\b(6|six)\b"),
    Fact("What is the square root of 81?", r"\b(9|nine)\b"),
    Fact("How many centimeters are in a meter?", r"\b(100|one hundred|a hundred)\b"),
    Fact("How many grams are in a kilogram?", r"\b(1,?000|one thousand|a thousand)\b"),
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
    Fact("What is the largest ocean on Earth?", r"\bpacific\b"),
    Fact("What is the longest river in the world?", r"\bnile\b|\bamazon\b"),
    Fact("What is the tallest mountain in the world?", r"\beverest\b"),
    Fact("On which continent is Kenya?", r"\bafrica"),  # "the African continent" is right
    Fact("Who wrote Romeo and Juliet?", r"shakespeare"),
    Fact("Who painted the Mona Lisa?", r"leonardo|da vinci"),
    Fact("Who developed the theory of relativity?", r"einstein"),
    Fact("Who was the first person to walk on the moon?", r"armstrong"),
    Fact("Who was the first president of the United States?", r"washington"),
    Fact("In which year did the Second World War end?", r"\b1945\b|nineteen forty[- ]five"),
    Fact("What language is mainly spoken in Brazil?", r"portuguese"),
    Fact("What is the currency of Japan?", r"\byen\b"),
    Fact("How many strings does a standard guitar have?", r"\b(6|six)\b"),
    Fact("What is the freezing point of water in Fahrenheit?",
         r"\b(32|thirty[- ]two)\b"),
    Fact("What do bees make?", r"\bhoney\b"),
    Fact("What is the largest mammal?", r"blue whale"),
)

"""clean_for_speech, the streaming fence filter and the number/symbol normaliser."""

from __future__ import annotations

import pytest

from voicebot.text.clean import FenceFilter, clean_for_speech
from voicebot.text.normalize import normalize_for_speech


@pytest.mark.parametrize(("text", "expected"), [
    ("**Bold** and *italic* and __under__ and ~~gone~~ text.",
     "Bold and italic and under and gone text."),
    ("## Header\nSome text", "Header. Some text"),
    ("- item one\n* item two\n+ three\n1. first\n2) second",
     "item one. item two. three. first. second"),
    ("See [the docs](https://example.com/docs) and ![a cat](cat.png).", "See the docs and a cat."),
    ("Use `pip install x` here.", "Use pip install x here."),
    ("Code:\n```python\nprint('hi')\n```\nDone.", "Code: Done."),
    ("Great job! 😀👍🏽 🇺🇸 ❤️ 👨‍👩‍👧", "Great job!"),
    ("| Name | Age |\n|---|---:|\n| Bob | 42 |", "Name, Age. Bob, 42"),
    ("> quoted text\n---\n<b>bold</b> tag", "quoted text. bold tag"),
    ("✓ done → next ★ ©", "done next"),
    ("snake_case and café", "snake case and café"),
    ("Visit https://www.example.com/a for more.", "Visit example.com/a for more."),
    ("   lots   of\t\tspace  ", "lots of space"),
])
def test_markdown_emoji_symbols(text: str, expected: str) -> None:
    assert clean_for_speech(text) == expected


@pytest.mark.parametrize("kept", [
    "Email me at bob@example.com.", "It is 3.14 or -5 degrees.", "About 50% of them.",
    "e.g. this, i.e. that, etc.", "It is 3:30 pm.", "Version 1.2.3 and 2 + 3 = 5.",
    "The U.S. and the U.K. at 9 a.m.", "It weighs 2 GB.",
])
def test_numbers_and_abbreviations_kept(kept: str) -> None:
    assert clean_for_speech(kept) == kept


def test_normalize_can_be_turned_off() -> None:
    assert clean_for_speech("It costs **$20**.", normalize=False) == "It costs $20."
    assert clean_for_speech("It costs **$20**.") == "It costs 20 dollars."


@pytest.mark.parametrize(("text", "expected"), [
    ("It is 3.5 km away.", "It is 3.5 kilometers away."),
    ("1 km", "1 kilometer"),
    ("It costs $20.", "It costs 20 dollars."),
    ("$1 only", "1 dollar only"),
    ("$3.50 each", "3 dollars 50 cents each"),
    ("$0.99", "99 cents"),
    ("$1.5 million", "1.5 million dollars"),
    ("€15 and £10", "15 euros and 10 pounds"),
    ("It is 25°C, or 77°F.", "It is 25 degrees Celsius, or 77 degrees Fahrenheit."),
    ("Dr. Smith and Prof. Xavier", "Doctor Smith and Professor Xavier"),
    ("St. Louis", "Saint Louis"),
    ("No. 5 and #1", "number 5 and number 1"),
    ("Take 1/2 cup, 3/4 of it.", "Take one half cup, three quarters of it."),
    ("on 1/2/2026", "on 1/2/2026"),
    ("5-10 minutes", "5 to 10 minutes"),
    ("on 2026-01-05", "on 2026-01-05"),
    ("at 10:00 and 1:05", "at 10 o'clock and 1 oh five"),
    ("the 1990s and the '80s", "the nineteen nineties and the eighties"),
    ("cats vs. dogs", "cats versus dogs"),
    ("A > B", "A greater than B"),
    ("60 km/h", "60 kilometers per hour"),
    ("About 50% in 2026.", "About 50% in 2026."),
    # what the Qwen / SmolLM2 replies of the answer-quality bench contain
    ("Mount Everest is 8,849 m tall.", "Mount Everest is 8,849 meters tall."),
    ("A kilogram is 1000 g.", "A kilogram is 1000 grams."),
    ("1 m is 100 cm.", "1 meter is 100 centimeters."),
    ("Sound travels at 343 m/s.", "Sound travels at 343 meters per second."),
    ("7 x 8 = 56.", "7 times 8 = 56."),
    ("7 × 8 = 56", "7 times 8 = 56"),
    ("100 / 4 = 25", "100 divided by 4 = 25"),
    ("Plants take in CO2 and give off O2.", "Plants take in C O 2 and give off O2."),
    ("Water is H2O.", "Water is H2O."),
    ("I'm 5m away, a 4g network", "I'm 5m away, a 4g network"),
    ("the m key and g", "the m key and g"),
])
def test_normalize_for_speech(text: str, expected: str) -> None:
    assert normalize_for_speech(text) == expected


def test_fence_filter_streaming_equals_whole() -> None:
    text = "a\n```\ncode\n```\nb\n``not a fence``\n~~~\nx\n~~~\nc"
    whole = FenceFilter()
    expected = whole.push(text) + whole.flush()
    assert expected == "a\n\nb\n``not a fence``\n\nc"  # a closing fence keeps its newline
    streamed = FenceFilter()
    assert "".join(streamed.push(ch) for ch in text) + streamed.flush() == expected


def test_fence_filter_holds_back_only_a_line_head() -> None:
    fences = FenceFilter()
    assert fences.push("Hello wor") == "Hello wor"
    assert fences.push("ld\n``") == "ld\n"  # "``" may still open a fence
    assert fences.push("x") == "``x"

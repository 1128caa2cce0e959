"""The streaming sentence splitter: each rule, chunking invariance, early first chunk, cap."""

from __future__ import annotations

import random

import pytest

from voicebot.config import TextConfig
from voicebot.text.splitter import SentenceSplitter, cap_split

PLAIN = TextConfig(early_first_chunk=False)


def split(text: str, cfg: TextConfig = PLAIN, pieces: list[str] | None = None) -> list[str]:
    splitter = SentenceSplitter(cfg)
    out: list[str] = []
    for piece in pieces if pieces is not None else [text]:
        out += splitter.push(piece)
    return out + splitter.flush()


def random_pieces(text: str, seed: int) -> list[str]:
    """Token-like pieces: 1-6 characters, cut anywhere (inside words, after dots...)."""
    rng = random.Random(seed)
    pieces, i = [], 0
    while i < len(text):
        n = rng.randint(1, 6)
        pieces.append(text[i : i + n])
        i += n
    return pieces


@pytest.mark.parametrize(("text", "expected"), [
    ("Hello there. How are you? Fine!", ["Hello there.", "How are you?", "Fine!"]),
    ("Dr. Smith met Mr. Jones and Mrs. Brown.",
     ["Doctor Smith met Mister Jones and Missus Brown."]),
    ("We went to St. Mary's. It was fun.", ["We went to Saint Mary's.", "It was fun."]),
    ("Fruit, e.g. apples, i.e. red ones. Yes.", ["Fruit, e.g. apples, i.e. red ones.", "Yes."]),
    ("Apples, pears, etc. are fruit. Right.", ["Apples, pears, etc. are fruit.", "Right."]),
    ("We left at 9 a.m. Then it rained.", ["We left at 9 a.m.", "Then it rained."]),
    ("We left at 9 a.m. and came back.", ["We left at 9 a.m. and came back."]),
    ("The U.S. economy grew. Good.", ["The U.S. economy grew.", "Good."]),
    ("J. R. R. Tolkien wrote it. I read it.", ["J. R. R. Tolkien wrote it.", "I read it."]),
    ("Neither do I. So there.", ["Neither do I.", "So there."]),
    ("Pi is 3.14 or so. Version 1.2.3 is out.", ["Pi is 3.14 or so.", "Version 1.2.3 is out."]),
    ("Well... maybe not. Wait… What?", ["Well... maybe not.", "Wait…", "What?"]),
    ("Visit example.com or mail bob@example.com. Thanks.",
     ["Visit example.com or mail bob@example.com.", "Thanks."]),
    ("See https://docs.python.org/3/library/re.html now. Ok.",
     ["See docs.python.org/3/library/re.html now.", "Ok."]),
    ('He said "Stop." Then he left. (Really.) Yes!',
     ['He said "Stop."', "Then he left.", "(Really.)", "Yes!"]),
    ("Wow?! Really...", ["Wow?!", "Really..."]),
])
def test_sentence_rules(text: str, expected: list[str]) -> None:
    assert split(text) == expected


def test_newlines_and_list_items_are_boundaries() -> None:
    text = "Here are options:\n- first one\n- second one\n1. third\n2. fourth\n\n## Next\nDone"
    assert split(text) == ["Here are options:", "first one", "second one", "third", "fourth",
                           "Next", "Done"]


def test_code_fence_dropped_across_deltas() -> None:
    text = "Try this:\n```python\nx = 1. y = 2.\nprint(x)\n```\nThat prints one. Bye."
    expected = ["Try this:", "That prints one.", "Bye."]
    assert split(text) == expected
    assert split(text, pieces=list(text)) == expected
    assert split(text, pieces=["Try this:\n`", "``py", "thon\nx = 1.", " y = 2.\nprint(x)\n``",
                               "`\nThat prints one. Bye."]) == expected


def test_unclosed_fence_drops_the_rest() -> None:
    assert split("Look:\n```\ncode that never ends. Really.") == ["Look:"]


def test_markdown_and_emoji_are_cleaned() -> None:
    text = "**Great** question! 😀 See [the docs](https://x.org). Use `pip`. 👍🏽"
    assert split(text) == ["Great question!", "See the docs.", "Use pip."]


def test_empty_chunks_never_returned() -> None:
    assert split("---\n\n| --- | --- |\n🎉🎉\n. . .\n") == []
    assert split("") == []


def test_look_ahead_waits_for_the_next_delta() -> None:
    splitter = SentenceSplitter(PLAIN)
    assert splitter.push("It costs 3.") == []  # a decimal point or a full stop?
    assert splitter.push("5 dollars. Dr.") == ["It costs 3.5 dollars."]
    assert splitter.push(" ") == []  # "Dr." never ends a sentence, but the next word decides
    assert splitter.push("Who is here") == []
    assert splitter.flush() == ["Doctor Who is here"]


def test_flush_resets() -> None:
    splitter = SentenceSplitter(PLAIN)
    splitter.push("Unfinished")
    assert splitter.flush() == ["Unfinished"]
    assert splitter.flush() == []
    splitter.push("Left over")
    splitter.reset()
    assert splitter.flush() == []


REPLY = (
    "Sure, here is what I found. Dr. Smith said the U.S. rate was 3.5% in 2026, e.g. for "
    "loans; costs were $20.50 (i.e. about 25°C... no, 25 dollars). Visit example.com/faq or "
    "write to help@example.org. J. R. R. Tolkien wrote it at 9 a.m. Then:\n- **one** item\n"
    "- two items 😀\n```bash\nrm -rf / .\n```\nThat's all, folks! Any questions? Well... "
    "I think not. " + "A very long clause without any stop at all " * 8 + "ends here."
)


@pytest.mark.parametrize("cfg", [PLAIN, TextConfig(), TextConfig(max_chunk_chars=60)])
def test_chunking_invariance(cfg: TextConfig) -> None:
    whole = split(REPLY, cfg)
    assert len(whole) > 8
    assert split(REPLY, cfg, pieces=list(REPLY)) == whole
    words = [w + " " for w in REPLY.split(" ")]
    assert split(REPLY, cfg, pieces=words) == whole
    for seed in range(12):
        assert split(REPLY, cfg, pieces=random_pieces(REPLY, seed)) == whole


def test_early_first_chunk_at_comma_after_min_words() -> None:
    cfg = TextConfig(first_chunk_min_words=4, first_chunk_max_words=12)
    text = "Well, I think the answer, in short, is yes. And more, much more, later."
    assert split(text, cfg) == ["Well, I think the answer,", "in short, is yes.",
                                "And more, much more, later."]


def test_early_first_chunk_at_dash_and_not_in_numbers() -> None:
    cfg = TextConfig(first_chunk_min_words=3, first_chunk_max_words=12)
    assert split("It was 1,000 or 2,000 people — quite a crowd. Yes.", cfg) == [
        "It was 1,000 or 2,000 people", "quite a crowd.", "Yes."]
    assert split("The value is -5 or so, I think. Ok.", cfg)[0] == "The value is -5 or so,"


def test_early_first_chunk_after_max_words() -> None:
    cfg = TextConfig(first_chunk_min_words=4, first_chunk_max_words=6)
    text = "One two three four five six seven eight nine. Ten eleven twelve thirteen fourteen."
    assert split(text, cfg) == ["One two three four five six", "seven eight nine.",
                                "Ten eleven twelve thirteen fourteen."]


def test_after_an_early_cut_the_second_chunk_may_be_early_with_twice_the_limits() -> None:
    cfg = TextConfig(first_chunk_min_words=2, first_chunk_max_words=3)
    text = ("The reason for the sky being blue lies in the way our air scatters light. "
            "When sunlight, which is white, reaches us it is a mix of colours.")
    assert split(text, cfg) == [
        "The reason for", "the sky being blue lies in",  # 3 words, then at most 6
        "the way our air scatters light.",  # the rest of the sentence: no more early cuts
        "When sunlight, which is white, reaches us it is a mix of colours."]
    # a second chunk may end at a comma once it has twice the minimum
    assert split("So the answer, I think, is that we know, more or less, why.", cfg) == [
        "So the answer,", "I think, is that we know,", "more or less, why."]


def test_a_first_chunk_that_ends_its_sentence_leaves_no_early_cut() -> None:
    cfg = TextConfig(first_chunk_min_words=2, first_chunk_max_words=3)
    assert split("It is. The sky is blue because the air scatters light.", cfg) == [
        "It is.", "The sky is blue because the air scatters light."]


def test_early_first_chunk_off() -> None:
    text = "Well, I think the answer, in short, is yes."
    assert split(text, PLAIN) == [text]


def test_every_chunk_capped() -> None:
    cfg = TextConfig(early_first_chunk=False, max_chunk_chars=40)
    text = ("This sentence goes on, and on, and on without stopping for a very long time "
            "because nobody told it to stop " * 3)
    chunks = split(text, cfg)
    assert len(chunks) > 4
    assert all(len(c) <= 40 for c in chunks)
    assert " ".join(chunks).replace(",", "").split() == text.replace(",", "").split()
    assert chunks[0].endswith(",")  # cut at clause punctuation when there is one


def test_cap_split_hard_cut() -> None:
    assert cap_split("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


TRICKY = ["Dr.", "Smith", "e.g.", "i.e.", "etc.", "a.m.", "U.S.", "J.", "I.", "3.14", "v1.2.3",
          "...", "…", "Hello", "world.", "yes!", "what?", ",", ";", ":", " - ", "—", "\n",
          "\n- ", "\n1. ", "\n```\n", "**bold**", "`code`", "😀", "$20", "50%", "25°C", "1/2",
          "10:00", "example.com.", "a@b.org", '"quote."', "(paren.)", "the", "Then", "  ", "1,000"]


@pytest.mark.parametrize("seed", range(40))
def test_invariance_on_random_tricky_text(seed: int) -> None:
    rng = random.Random(seed)
    text = " ".join(rng.choice(TRICKY) for _ in range(rng.randint(5, 40)))
    for cfg in (PLAIN, TextConfig(max_chunk_chars=30, first_chunk_min_words=2,
                                  first_chunk_max_words=5)):
        whole = split(text, cfg)
        assert all(c and len(c) <= cfg.max_chunk_chars for c in whole)
        assert split(text, cfg, pieces=list(text)) == whole
        assert split(text, cfg, pieces=random_pieces(text, seed)) == whole

"""Answer-quality bench: the factual set, the speakability check, scoring and the report
(a scripted LLM, no model loaded)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from voicebot.bench.facts import FACTS, Fact
from voicebot.bench.quality import QualityRun, ask_all, plot_quality, quality_lines, unspeakable
from voicebot.events import ChatMessage


class AnswersFromTable:
    """Replies from a question -> reply table, in word-sized deltas."""

    def __init__(self, replies: dict[str, str], default: str) -> None:
        self.replies = replies
        self.default = default
        self.closed = 0

    def stream(self, messages: Sequence[ChatMessage], *, cancel: threading.Event
               ) -> Iterator[str]:
        text = self.replies.get(messages[-1].content, self.default)
        try:
            for word in text.split(" "):
                yield word + " "
        finally:
            self.closed += 1


def test_the_set_has_40_or_more_questions_with_valid_distinct_patterns() -> None:
    assert len(FACTS) >= 40
    assert len({f.question for f in FACTS}) == len(FACTS)
    for fact in FACTS:
        re.compile(fact.accept)
        re.compile(fact.reject)


def test_a_reply_is_right_when_it_matches_and_names_no_rejected_alternative() -> None:
    canberra = Fact("capital of Australia?", r"\bcanberra\b", r"capital[^.]*\bsydney\b")
    assert canberra.is_right("The capital of Australia is Canberra.")
    assert not canberra.is_right("The capital is Sydney, or maybe Canberra.")
    assert not canberra.is_right("Australia is lovely.")
    assert Fact("7 x 8?", r"\b(56|fifty[- ]six)\b").is_right("Seven times eight is fifty-six.")


def test_unspeakable_names_markdown_lists_emoji_and_as_an_ai() -> None:
    assert unspeakable("The capital of France is Paris.") == ""
    assert unspeakable("It is **Paris**.") == "markdown"
    assert unspeakable("Options:\n1. Paris\n2. Lyon") == "list"
    assert unspeakable("Paris! 🇫🇷😊") == "emoji"
    assert unspeakable("As an AI, I think it is Paris.") == "as an AI"


def test_scoring_counts_what_is_spoken_and_stops_the_llm_at_the_budget(tmp_path: Path) -> None:
    first = FACTS[0].question  # the capital of France
    llm = AnswersFromTable(
        {first: "The capital of France is **Paris**. It is big. It has a tower. More."},
        default="I am not sure.")
    run = QualityRun("scripted")
    ask_all(llm, run, lambda text: len(text.split()), "Be brief.")
    assert len(run.right) == len(FACTS) and run.right[0] and not any(run.right[1:])
    assert run.words[0] == 9  # two sentences spoken: "The capital ... Paris. It is big."
    assert run.raw_unspeakable[0] == "markdown" and run.spoken_unspeakable[0] == ""
    assert llm.closed == len(FACTS)
    lines = "\n".join(quality_lines([run, QualityRun("broken", error="no model")]))
    assert f"| scripted | 2% (1/{len(FACTS)}) |" in lines
    assert "failed: no model" in lines and "Wrong answers of scripted" in lines
    plot_quality([run], tmp_path / "quality.png")
    assert (tmp_path / "quality.png").stat().st_size > 0

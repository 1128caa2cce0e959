"""Answer-quality bench: the factual sets, their patterns, the instruction rules, the
speakability check, scoring, the report and the --configs rows (a scripted LLM, no model
loaded)."""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from voicebot.bench import quality
from voicebot.bench.facts import CATEGORIES, FACTS, Fact, hedge, number, year
from voicebot.bench.facts_new import NEW_FACTS
from voicebot.bench.instructions import INSTRUCTIONS
from voicebot.bench.quality import Plan, QualityRun, ask_all, config_rows
from voicebot.bench.quality_report import category_lines, plot_quality, quality_lines
from voicebot.bench.speakable import unspeakable
from voicebot.cli import main
from voicebot.events import ChatMessage

REPO = Path(__file__).resolve().parents[1]


class AnswersFromTable:
    """Replies from a question -> reply table, in word-sized deltas; keeps what it was
    asked."""

    def __init__(self, replies: dict[str, str], default: str) -> None:
        self.replies = replies
        self.default = default
        self.closed = 0
        self.asked: list[list[ChatMessage]] = []

    def stream(self, messages: Sequence[ChatMessage], *, cancel: threading.Event
               ) -> Iterator[str]:
        self.asked.append(list(messages))
        text = self.replies.get(messages[-1].content, self.default)
        try:
            for word in text.split(" "):
                yield word + " "
        finally:
            self.closed += 1

    def count_tokens(self, text: str) -> int:
        return len(text.split())


# -- the factual sets -------------------------------------------------------------------


def test_the_48_questions_are_48_with_valid_distinct_patterns_and_categories() -> None:
    assert len(FACTS) == 48
    assert len({f.question for f in FACTS}) == len(FACTS)
    for fact in FACTS:
        re.compile(fact.accept)
        re.compile(fact.reject)
        assert fact.category in CATEGORIES


def test_the_new_set_has_100_or_more_questions_in_every_category_none_of_the_48() -> None:
    assert len(NEW_FACTS) >= 100
    questions = [f.question for f in NEW_FACTS]
    assert len(set(questions)) == len(questions)
    assert not set(questions) & {f.question for f in FACTS}
    per_category = Counter(f.category for f in NEW_FACTS)
    assert set(per_category) == set(CATEGORIES)
    assert all(12 <= n <= 15 for n in per_category.values()), per_category


@pytest.mark.parametrize("fact", NEW_FACTS, ids=lambda f: f.question)
def test_a_new_fact_accepts_its_sample_and_rejects_a_wrong_reply(fact: Fact) -> None:
    assert fact.sample and fact.wrong
    assert fact.is_right(fact.sample), fact.sample
    assert not fact.is_right(fact.wrong), fact.wrong
    # the answer itself makes the sample right, not other words in it
    assert not fact.is_right(re.sub(fact.accept, "something", fact.sample, flags=re.I))


def test_a_reply_is_right_when_it_matches_and_names_no_rejected_alternative() -> None:
    canberra = Fact("capital of Australia?", r"\bcanberra\b", r"capital[^.]*\bsydney\b")
    assert canberra.is_right("The capital of Australia is Canberra.")
    assert not canberra.is_right("The capital is Sydney, or maybe Canberra.")
    assert not canberra.is_right("Australia is lovely.")
    assert Fact("7 x 8?", r"\b(56|fifty[- ]six)\b").is_right("Seven times eight is fifty-six.")


def test_a_number_is_found_in_digits_or_words_but_not_inside_another_number() -> None:
    def found(n: int, text: str) -> bool:
        return bool(re.search(number(n), text, re.IGNORECASE))

    assert all(found(6, t) for t in ("6 legs", "Six legs.", "six-legged"))
    assert not any(found(6, t) for t in ("26", "2.6", "6.5", "twenty-six", "twenty six",
                                         "sixty", "six hundred", "one hundred and six"))
    assert all(found(100, t) for t in ("100", "one hundred", "a hundred years"))
    assert not any(found(100, t) for t in ("1,100", "1000", "a hundred and twenty",
                                           "one hundred thousand"))
    assert all(found(1440, t) for t in ("1,440", "1440", "fourteen hundred and forty",
                                        "one thousand four hundred forty"))
    assert not found(1440, "1,400")
    assert all(re.search(year(1945), t) for t in ("in 1945.", "nineteen forty-five"))
    assert not re.search(year(1940), "nineteen forty-five")
    assert re.search(hedge("may|august"), "July or August", re.IGNORECASE)
    assert not re.search(hedge("may|august"), "July, or maybe not")


# -- instructions -----------------------------------------------------------------------

GOOD_AND_BAD = {
    "Tell me a joke.": ("Why don't scientists trust atoms? Because they make up everything.",
                        ["What kind of joke would you like to hear?",
                         "I'm sorry, I can't tell jokes."]),
    "Say that again.": ("Sure. The moon is about 384,000 kilometers away from Earth.",
                        ["Sure, what would you like me to say again?"]),
    "Stop.": ("Okay.", ["Okay. Did you know that octopuses have three hearts and blue blood?",
                        "Okay, what next?"]),
    "Never mind.": ("Alright, no problem.",
                    ["No problem! Is there anything else I can help you with?"]),
    "Thank you.": ("You're welcome!",
                   ["Thank you is a phrase people use to express gratitude to others.",
                    "I'll make sure to provide accurate information."]),
    "Can you speak more slowly?": ("Of course, I will speak more slowly.",
                                   ["I'm a text-based assistant, so I cannot speak at all.",
                                    "I'm sorry for any confusion. I can only speak so much.",
                                    "The weather is nice."]),
    "What can you do?": ("I can answer questions, tell jokes and help with quick facts.",
                         ["What would you like me to do?"]),
    "Hello!": ("Hello! How can I help you today?", ["Paris is the capital of France."]),
    "Tell me something interesting.": ("Octopuses have three hearts and blue blood.",
                                       ["What would you like to know about?",
                                        "Sorry, I can't do that."]),
    "How are you?": ("I'm doing well, thanks for asking!",
                     ["As an AI language model, I do not have feelings or emotions."]),
}


def test_there_are_ten_or_more_instructions_each_with_a_good_and_a_bad_sample() -> None:
    assert len(INSTRUCTIONS) >= 10
    assert {i.prompt for i in INSTRUCTIONS} == set(GOOD_AND_BAD)


@pytest.mark.parametrize("instruction", INSTRUCTIONS, ids=lambda i: i.prompt)
def test_an_instruction_rule_passes_a_good_reply_and_fails_a_bad_one(instruction: Any) -> None:
    previous = instruction.previous[1] if instruction.previous else ""
    good, bads = GOOD_AND_BAD[instruction.prompt]
    assert instruction.judge(good, previous) == ""
    for bad in bads:
        assert instruction.judge(bad, previous), bad


def test_say_that_again_is_judged_against_the_previous_reply() -> None:
    again = next(i for i in INSTRUCTIONS if i.prompt == "Say that again.")
    assert again.previous is not None
    assert "content words" in again.judge("Paris is the capital of France.", again.previous[1])


def test_unspeakable_names_markdown_lists_emoji_and_as_an_ai() -> None:
    assert unspeakable("The capital of France is Paris.") == ""
    assert unspeakable("It is **Paris**.") == "markdown"
    assert unspeakable("Options:\n1. Paris\n2. Lyon") == "list"
    assert unspeakable("Paris! 🇫🇷😊") == "emoji"
    assert unspeakable("As an AI, I think it is Paris.") == "as an AI"


# -- scoring and the report -------------------------------------------------------------


def scripted() -> AnswersFromTable:
    return AnswersFromTable({
        FACTS[0].question: "The capital of France is **Paris**. It is big. It has a tower.",
        NEW_FACTS[0].question: NEW_FACTS[0].sample,
        NEW_FACTS[-1].question: NEW_FACTS[-1].wrong,
        "Say that again.": "The moon is about 384,000 kilometers away from Earth.",
        "Stop.": "Okay. Here is a long story about a dragon who lived in a castle.",
    }, default="I am not sure.")


def test_scoring_counts_what_is_spoken_per_set_and_category(tmp_path: Path) -> None:
    llm = scripted()
    run = QualityRun("scripted")
    ask_all(llm, run, llm.count_tokens, "Be brief.")
    assert len(run.answers) == len(FACTS) + len(NEW_FACTS)
    first = run.answers[0]
    assert first.right and first.words == 9  # two sentences spoken: "... Paris. It is big."
    assert unspeakable(first.raw) == "markdown" and unspeakable(first.spoken) == ""
    assert [a.right for a in run.answers_in("48")].count(True) == 1
    assert [a.fact.question for a in run.answers_in("new") if a.right] == [NEW_FACTS[0].question]
    assert llm.closed == len(FACTS) + len(NEW_FACTS) + len(INSTRUCTIONS)
    again = next(f for f in run.followed if f.instruction.prompt == "Say that again.")
    assert [m.role for m in llm.asked[len(run.answers) + 1]] == \
        ["system", "user", "assistant", "user"]
    assert again.failure == ""
    stop = next(f for f in run.followed if f.instruction.prompt == "Stop.")
    assert "words (at most 8)" in stop.failure


def test_the_report_has_both_sets_per_category_and_the_instructions(tmp_path: Path) -> None:
    llm = scripted()
    run = QualityRun("scripted")
    ask_all(llm, run, llm.count_tokens, "Be brief.")
    text = "\n".join(quality_lines([run, QualityRun("broken", error="no model")]))
    assert f"| scripted | 2% (1/{len(FACTS)}) | 1% (1/{len(NEW_FACTS)}) |" in text
    assert "failed: no model" in text
    assert "## Accuracy per category: the 48 questions" in text
    assert "## Accuracy per category: the new set" in text
    passed = [f.instruction.prompt for f in run.followed if not f.failure]
    assert passed == ["Say that again.", "Never mind."]  # "I am not sure." is no joke
    assert f"| scripted | 2/{len(INSTRUCTIONS)} | Tell me a joke., Stop., " in text
    assert "Failed instructions of scripted:" in text and "*Stop.* (14 words" in text
    assert "Wrong answers of scripted (the new set):" in text
    table = category_lines([run], "new")
    sizes = Counter(f.category for f in NEW_FACTS)
    assert table[2] == "| row | " + " | ".join(
        f"{c} ({sizes[c]})" for c in CATEGORIES) + f" | all ({len(NEW_FACTS)}) |"
    assert table[4].startswith("| scripted | 7% (1/14) | 0% (0/14) |")
    plot_quality([run], tmp_path / "quality.png")
    assert (tmp_path / "quality.png").stat().st_size > 0


def test_a_plan_asks_only_its_set_and_no_instructions() -> None:
    llm = scripted()
    run = QualityRun("scripted")
    ask_all(llm, run, llm.count_tokens, "Be brief.", Plan(sets=("new",), instructions=False))
    assert len(run.answers) == len(NEW_FACTS) and not run.followed
    lines = quality_lines([run], ("new",), instructions=False)
    assert not any("48" in line for line in lines[:4])
    assert not any(line.startswith("## Instructions") for line in lines)


# -- rows from config files -------------------------------------------------------------


def test_a_config_row_takes_the_files_llm_section_prompt_and_name(tmp_path: Path) -> None:
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "same.yaml").write_text(
            f"extends: {REPO / 'configs' / 'default.yaml'}\n"
            "llm:\n  model: qwen2.5-0.5b\nconversation:\n  system_prompt: Be terse.\n")
    rows = config_rows([REPO / "configs" / "default.yaml", tmp_path / "a" / "same.yaml",
                        tmp_path / "b" / "same.yaml"], threads=1)
    assert [r.label for r in rows] == ["default.yaml", str(tmp_path / "a" / "same.yaml"),
                                       str(tmp_path / "b" / "same.yaml")]
    assert rows[1].system_prompt == "Be terse."
    assert rows[0].text.max_reply_words == 35


def test_bench_reply_configs_writes_one_row_per_file(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[Any] = []

    def fake_maker(cfg: Any) -> Any:
        built.append(cfg.llm)
        return scripted

    monkeypatch.setattr(quality, "_config_maker", fake_maker)
    out = tmp_path / "q"
    assert main(["bench", "reply", "--configs", str(REPO / "configs" / "default.yaml"),
                 "--set", "48", "--no-instructions", "--out", str(out)]) == 0
    assert built[0].backend == "llama.cpp" and built[0].params.model == "qwen2.5-1.5b-q4_0"
    report = (out / "quality.md").read_text(encoding="utf-8")
    assert "# Answer quality per config file" in report and "load average" in report
    assert f"| default.yaml | 2% (1/{len(FACTS)}) |" in report
    assert "the new set" not in report and (out / "quality.png").stat().st_size > 0
    replies = [json.loads(line) for line in (out / "replies.jsonl").read_text().splitlines()]
    assert len(replies) == len(FACTS)
    assert replies[0]["verdict"] == "right" and replies[0]["spoken"].endswith("It is big.")

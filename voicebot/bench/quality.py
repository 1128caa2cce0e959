"""Answer quality of LLMs side by side (`voicebot bench reply --quality`).

Each question of the factual sets (the 48 questions of facts.py and the new set of
facts_new.py) is asked in a fresh conversation (system prompt + question), as a user's
first question in `voicebot chat`; each instruction (instructions.py) likewise, after its
scripted earlier exchange where it has one. A row is a built-in model with a prompt, or a
config file's whole `llm` section with its system prompt and spoken-length budget.

Per row: accuracy per set and category (the spoken reply matches the accepted pattern),
words per reply as spoken (after the splitter, the cleaning and the spoken-length budget),
raw and spoken replies that are not speakable as they stand, the instructions followed,
time to first token, tokens/s and the time to the first speakable chunk (from the request;
timed on the factual questions only).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voicebot.bench.facts import FACTS, Fact
from voicebot.bench.facts_new import NEW_FACTS
from voicebot.bench.instructions import INSTRUCTIONS, Instruction
from voicebot.bench.speakable import unspeakable
from voicebot.config import TextConfig
from voicebot.events import ChatMessage

MODELS = ("smollm2-135m", "qwen2.5-0.5b", "qwen2.5-1.5b")
FEW_SHOT_EXAMPLES = (
    "\nExamples of good replies:\n"
    "Q: How many wheels does a bicycle have? A: A bicycle has two wheels.\n"
    "Q: What is 6 times 7? A: Six times seven is 42.\n"
    "Q: What is the capital of Norway? A: The capital of Norway is Oslo."
)
"""Few-shot examples appended to the system prompt in a comparison row (none of them is a
question of the factual sets)."""
SETS: dict[str, tuple[Fact, ...]] = {"48": FACTS, "new": NEW_FACTS}
SET_TITLES = {"48": "the 48 questions", "new": "the new set"}


@dataclass(frozen=True)
class Plan:
    """What each row is asked: which factual sets, and the instructions or not."""

    sets: tuple[str, ...] = ("48", "new")
    instructions: bool = True


EVERYTHING = Plan()


@dataclass(frozen=True)
class Answer:
    fact: Fact
    set_name: str
    raw: str
    spoken: str

    @property
    def right(self) -> bool:
        return self.fact.is_right(self.spoken)

    @property
    def words(self) -> int:
        return len(self.spoken.split())


@dataclass(frozen=True)
class Followed:
    """An instruction's reply and why it fails the rule ('' when it passes)."""

    instruction: Instruction
    raw: str
    spoken: str
    failure: str


@dataclass
class QualityRun:
    label: str
    load_s: float = 0.0
    ttft: list[float] = field(default_factory=list)
    tok_s: list[float] = field(default_factory=list)
    first_chunk: list[float] = field(default_factory=list)  # from the request
    answers: list[Answer] = field(default_factory=list)
    followed: list[Followed] = field(default_factory=list)
    error: str = ""

    def answers_in(self, set_name: str, category: str | None = None) -> list[Answer]:
        return [a for a in self.answers if a.set_name == set_name
                and (category is None or a.fact.category == category)]

    def accuracy(self, set_name: str) -> float:
        answers = self.answers_in(set_name)
        return sum(a.right for a in answers) / len(answers) if answers else 0.0


@dataclass(frozen=True)
class Row:
    """A row of the table: how to build (and warm up) its LLM, and what it is told."""

    label: str
    make: Callable[[], Any]
    system_prompt: str
    text: TextConfig = field(default_factory=TextConfig)


@dataclass(frozen=True)
class Heard:
    """One reply: the raw text, what is spoken, and its times (None: no token came)."""

    raw: str
    spoken: str
    ttft: float | None = None
    first_chunk: float | None = None
    tok_s: float | None = None


def builtin_rows(models: Sequence[str], system_prompt: str,
                 extra: Sequence[tuple[str, str, str]] = (),
                 threads: int | None = None) -> list[Row]:
    """One row per built-in llama.cpp model with `system_prompt`, plus `extra` rows given as
    (label, model, system prompt), all with the shipped sampling settings. `threads`
    overrides the configured n_threads (on a shared, oversubscribed CPU llama.cpp with 2
    threads was measured 5-15x slower than with 1: its threads wait for each other at
    every layer)."""
    specs = [(f"llama.cpp {m}", m, system_prompt) for m in models] + list(extra)
    return [Row(label, _builtin_maker(model, prompt, threads), prompt)
            for label, model, prompt in specs]


def _builtin_maker(model: str, system_prompt: str, threads: int | None) -> Callable[[], Any]:
    def make() -> Any:
        from voicebot.config import load_config
        from voicebot.llm.llamacpp import LlamaCppLlm
        from voicebot.llm.llamacpp_params import LlamaCppParams

        configured = load_config(None).llm  # the shipped sampling settings, this model
        base = configured.params if configured.backend == "llama.cpp" else LlamaCppParams()
        params = dataclasses.replace(base, model=model)
        if threads:
            params = dataclasses.replace(params, n_threads=threads)
        llm = LlamaCppLlm(params)
        llm.warmup(system_prompt)
        return llm
    return make


def config_rows(paths: Sequence[Path], threads: int | None = None) -> list[Row]:
    """One row per config file: its whole `llm` section (backend and parameters), its
    system prompt and spoken-length budget, labelled by the file's name (its path where two
    names clash). Every file is read and validated before any model loads."""
    from voicebot.config import StageConfig, load_config

    configs = [load_config(path) for path in paths]
    names = [path.name for path in paths]
    rows = []
    for path, name, cfg in zip(paths, names, configs, strict=True):
        if threads and cfg.llm.backend == "llama.cpp":
            params = dataclasses.replace(cfg.llm.params, n_threads=threads)
            cfg.llm = StageConfig(cfg.llm.backend, params)
        label = name if names.count(name) == 1 else str(path)
        rows.append(Row(label, _config_maker(cfg), cfg.conversation.system_prompt, cfg.text))
    return rows


def _config_maker(cfg: Any) -> Callable[[], Any]:
    def make() -> Any:
        from voicebot.loading import load_llm

        return load_llm(cfg)  # the registry's backend, warmed up with the prompt
    return make


def bench_rows(rows: Sequence[Row], plan: Plan = EVERYTHING) -> list[QualityRun]:
    return [_bench_row(row, plan) for row in rows]


def _bench_row(row: Row, plan: Plan) -> QualityRun:
    from voicebot.errors import VoicebotError
    from voicebot.progress import step

    run = QualityRun(row.label)
    began = time.monotonic()
    try:
        with step(f"Loading {row.label}"):
            llm = row.make()
    except (VoicebotError, ImportError, OSError, RuntimeError) as exc:
        run.error = str(exc).splitlines()[0]
        return run
    run.load_s = time.monotonic() - began
    try:
        ask_all(llm, run, llm.count_tokens, row.system_prompt, plan, row.text)
    except VoicebotError as exc:  # a backend failed mid-run: the row says so
        run.error = str(exc).splitlines()[0]
    del llm
    return run


def ask_all(llm: Any, run: QualityRun, count_tokens: Callable[[str], int],
            system_prompt: str, plan: Plan = EVERYTHING, text: TextConfig | None = None) -> None:
    """Ask the plan's factual sets, then its instructions, each in a fresh conversation."""
    from voicebot.progress import say

    text = text or TextConfig()
    for set_name in plan.sets:
        for fact in SETS[set_name]:
            messages = [ChatMessage("system", system_prompt), ChatMessage("user", fact.question)]
            heard = hear(llm, messages, text, count_tokens)
            _keep_times(run, heard)
            answer = Answer(fact, set_name, heard.raw, heard.spoken)
            run.answers.append(answer)
            say(f"  {run.label}: {fact.question} -> {_short(heard.raw)!r} "
                f"{'right' if answer.right else 'WRONG'}")
    if not plan.instructions:
        return
    for instruction in INSTRUCTIONS:
        messages = [ChatMessage("system", system_prompt)]
        previous = ""
        if instruction.previous:
            asked, previous = instruction.previous
            messages += [ChatMessage("user", asked), ChatMessage("assistant", previous)]
        messages.append(ChatMessage("user", instruction.prompt))
        heard = hear(llm, messages, text, count_tokens)
        failure = instruction.judge(heard.spoken, previous)
        run.followed.append(Followed(instruction, heard.raw, heard.spoken, failure))
        say(f"  {run.label}: {instruction.prompt} -> {_short(heard.raw)!r} "
            f"{failure or 'passed'}")


def _short(text: str) -> str:
    return " ".join(text.split())[:80]


def _keep_times(run: QualityRun, heard: Heard) -> None:
    if heard.ttft is not None:
        run.ttft.append(heard.ttft)
    if heard.first_chunk is not None:
        run.first_chunk.append(heard.first_chunk)
    if heard.tok_s is not None:
        run.tok_s.append(heard.tok_s)


def hear(llm: Any, messages: list[ChatMessage], text_cfg: TextConfig,
         count_tokens: Callable[[str], int]) -> Heard:
    """Stream one reply through the splitter and the spoken-length budget, as the talk loop
    does: the LLM is stopped where the budget ends the reply (nobody hears the rest)."""
    from voicebot.reply import reply_budget
    from voicebot.text.splitter import SentenceSplitter

    splitter, budget = SentenceSplitter(text_cfg), reply_budget(text_cfg, messages)
    spoken: list[str] = []
    text, marks = "", dict[str, float]()
    start = time.monotonic()
    stream = llm.stream(messages, cancel=threading.Event())
    for delta in stream:
        now = time.monotonic()
        marks.setdefault("first", now)
        text += delta
        for chunk in splitter.push(delta):
            marks.setdefault("chunk", now)
            if budget.admit(chunk):
                spoken.append(chunk)
        if budget.done:
            break
    close = getattr(stream, "close", None)
    if close is not None:
        close()
    end = time.monotonic()
    for chunk in splitter.flush():
        marks.setdefault("chunk", end)
        if budget.admit(chunk):
            spoken.append(chunk)
    if "first" not in marks:
        return Heard(text, " ".join(spoken))
    tokens = count_tokens(text)
    rate = (tokens - 1) / (end - marks["first"]) if tokens > 1 and end > marks["first"] else None
    return Heard(text, " ".join(spoken), marks["first"] - start,
                 marks.get("chunk", end) - start, rate)


def unspeakable_counts(answers: Sequence[Answer]) -> tuple[int, int]:
    """How many raw replies and how many spoken ones are not speakable as they stand."""
    return (sum(bool(unspeakable(a.raw)) for a in answers),
            sum(bool(unspeakable(a.spoken)) for a in answers))

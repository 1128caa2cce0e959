"""Answer quality of the built-in LLMs, side by side (`voicebot bench reply --quality`).

Each question of the factual set (facts.py) is asked in a fresh conversation (system prompt
+ question), as a user's first question in `voicebot chat`. Per model: accuracy (the reply
matches the accepted pattern), words per reply as spoken (after the splitter, the cleaning
and the spoken-length budget), the share of raw replies that are not speakable as they
stand (markdown, list lines, emoji, "As an AI") and of spoken ones (after cleaning), time to
first token, tokens/s, and the time to the first speakable chunk (from the request).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voicebot.bench.facts import FACTS

MODELS = ("smollm2-135m", "qwen2.5-0.5b", "qwen2.5-1.5b")
FEW_SHOT_EXAMPLES = (
    "\nExamples of good replies:\n"
    "Q: How many wheels does a bicycle have? A: A bicycle has two wheels.\n"
    "Q: What is 6 times 7? A: Six times seven is 42.\n"
    "Q: What is the capital of Norway? A: The capital of Norway is Oslo."
)
"""Few-shot examples appended to the system prompt in a comparison row (none of them is a
question of the factual set)."""
_UNSPEAKABLE = (
    ("markdown", re.compile(r"[*_`#|~]|\[[^\]]*\]\(")),
    ("list", re.compile(r"(?m)^\s*(?:[-•]|\d+[.)])\s")),
    ("emoji", re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\ufe0f]")),
    ("as an AI", re.compile(r"\bas an ai\b|\blanguage model\b", re.IGNORECASE)),
)


def unspeakable(text: str) -> str:
    """Why `text` should not reach a TTS as it stands ('' when it is fine)."""
    return ", ".join(name for name, pattern in _UNSPEAKABLE if pattern.search(text))


@dataclass
class QualityRun:
    label: str
    load_s: float = 0.0
    ttft: list[float] = field(default_factory=list)
    tok_s: list[float] = field(default_factory=list)
    first_chunk: list[float] = field(default_factory=list)  # from the request
    right: list[bool] = field(default_factory=list)
    words: list[int] = field(default_factory=list)
    raw_unspeakable: list[str] = field(default_factory=list)
    spoken_unspeakable: list[str] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def accuracy(self) -> float:
        return sum(self.right) / len(self.right) if self.right else 0.0


def bench_quality(models: tuple[str, ...] = MODELS, system_prompt: str | None = None,
                  extra: tuple[tuple[str, str, str], ...] = (),
                  threads: int | None = None) -> list[QualityRun]:
    """One QualityRun per model with the default spoken prompt, plus `extra` rows given as
    (label, model, system prompt). `threads` overrides the configured n_threads (on a
    shared, oversubscribed CPU llama.cpp with 2 threads was measured 5-15x slower than with
    1: its threads wait for each other at every layer)."""
    from voicebot.config import SPOKEN_SYSTEM_PROMPT

    prompt = system_prompt or SPOKEN_SYSTEM_PROMPT
    rows = [(f"llama.cpp {m}", m, prompt) for m in models] + list(extra)
    return [_bench_model(label, model, system, threads) for label, model, system in rows]


def _bench_model(label: str, model: str, system_prompt: str,
                 threads: int | None) -> QualityRun:
    import dataclasses

    from voicebot.config import load_config
    from voicebot.errors import VoicebotError
    from voicebot.llm.llamacpp import LlamaCppLlm, LlamaCppParams
    from voicebot.progress import step

    run = QualityRun(label)
    began = time.monotonic()
    configured = load_config(None).llm  # the shipped sampling settings, this model
    base = configured.params if configured.backend == "llama.cpp" else LlamaCppParams()
    try:
        with step(f"Loading {label}"):
            params = dataclasses.replace(base, model=model)
            if threads:
                params = dataclasses.replace(params, n_threads=threads)
            llm = LlamaCppLlm(params)
            llm.warmup(system_prompt)
    except (VoicebotError, ImportError, OSError, RuntimeError) as exc:
        run.error = str(exc).splitlines()[0]
        return run
    run.load_s = time.monotonic() - began
    ask_all(llm, run, llm.count_tokens, system_prompt)
    del llm
    return run


def ask_all(llm: Any, run: QualityRun, count_tokens: Callable[[str], int],
            system_prompt: str) -> None:
    from voicebot.config import TextConfig
    from voicebot.events import ChatMessage
    from voicebot.progress import say
    from voicebot.reply import reply_budget
    from voicebot.text.splitter import SentenceSplitter

    cfg = TextConfig()
    for fact in FACTS:
        messages = [ChatMessage("system", system_prompt), ChatMessage("user", fact.question)]
        splitter, budget = SentenceSplitter(cfg), reply_budget(cfg, messages)
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
            if budget.done:  # as the talk loop does: nobody hears the rest
                break
        close = getattr(stream, "close", None)
        if close is not None:
            close()
        end = time.monotonic()
        for chunk in splitter.flush():
            marks.setdefault("chunk", end)
            if budget.admit(chunk):
                spoken.append(chunk)
        if "first" in marks:
            run.ttft.append(marks["first"] - start)
            run.first_chunk.append(marks.get("chunk", end) - start)
            tokens = count_tokens(text)
            if tokens > 1 and end > marks["first"]:
                run.tok_s.append((tokens - 1) / (end - marks["first"]))
        said = " ".join(spoken)
        run.right.append(fact.is_right(said))
        run.words.append(len(said.split()))
        run.raw_unspeakable.append(unspeakable(text))
        run.spoken_unspeakable.append(unspeakable(said))
        run.replies.append(text)
        say(f"  {run.label}: {fact.question} -> {' '.join(text.split())[:80]!r} "
            f"{'right' if run.right[-1] else 'WRONG'}")


def _median(values: list[float]) -> float:
    import statistics

    return statistics.median(values) if values else float("nan")


def quality_lines(runs: list[QualityRun]) -> list[str]:
    """The answer-quality table and the wrong answers, as markdown lines."""
    lines = [
        f"## Answer quality ({len(FACTS)} factual questions, each in a fresh conversation)", "",
        "| model | accuracy | words/reply mean / max (spoken) | unspeakable raw / spoken | "
        "TTFT | tokens/s | request -> first chunk | load |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        if r.error:
            lines.append(f"| {r.label} | failed: {r.error} | | | | | | |")
            continue
        mean = sum(r.words) / max(len(r.words), 1)
        raw = sum(bool(x) for x in r.raw_unspeakable)
        said = sum(bool(x) for x in r.spoken_unspeakable)
        lines.append(
            f"| {r.label} | {r.accuracy:.0%} ({sum(r.right)}/{len(r.right)}) | "
            f"{mean:.1f} / {max(r.words, default=0)} | {raw} / {said} | "
            f"{_median(r.ttft):.2f} s | {_median(r.tok_s):.1f} | "
            f"{_median(r.first_chunk):.2f} s | {r.load_s:.1f} s |")
    lines += ["", "Medians for the times. Accuracy and words are judged on what is spoken "
              "(the splitter's cleaned chunks within the spoken-length budget): an answer "
              "the voice never says does not count.", ""]
    for r in runs:
        wrong = [(f.question, reply) for f, reply, ok in
                 zip(FACTS, r.replies, r.right, strict=False) if not ok]
        if wrong:
            lines.append(f"Wrong answers of {r.label}:")
            lines += [f"- *{q}* {' '.join(a.split())[:160]}" for q, a in wrong]
            lines.append("")
    return lines


def plot_quality(runs: list[QualityRun], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in runs if r.right]
    fig, ax = plt.subplots(figsize=(8, 5))
    for r in ok:
        x, y = _median(r.first_chunk), 100 * r.accuracy
        ax.scatter(x, y, s=30 + 4 * sum(r.words) / max(len(r.words), 1))
        ax.annotate(f"{r.label.removeprefix('llama.cpp ')}\n{y:.0f} %, "
                    f"{sum(r.words) / max(len(r.words), 1):.0f} words", (x, y),
                    textcoords="offset points", xytext=(8, -4), fontsize=8)
    ax.axhline(85, color="grey", ls=":", label="default target 85 %")
    ax.axhline(92, color="grey", ls="--", label="quality target 92 %")
    ax.set_xlabel("request -> first speakable chunk, median (s)")
    ax.set_ylabel("factual accuracy (%)")
    ax.set_title("Answer quality vs time to the first chunk")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_xlim(0, max([_median(r.first_chunk) for r in ok] or [1.0]) * 1.6)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)

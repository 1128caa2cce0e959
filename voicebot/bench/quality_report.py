"""The answer-quality report of `voicebot bench reply --quality`: which rows are asked, the
tables as markdown lines (quality.md), the plot (quality.png) and every reply with its
verdict (replies.jsonl)."""

from __future__ import annotations

import json
import math
import os
import statistics
from collections.abc import Sequence
from pathlib import Path

from voicebot.bench.facts import CATEGORIES
from voicebot.bench.instructions import INSTRUCTIONS
from voicebot.bench.quality import (
    FEW_SHOT_EXAMPLES,
    MODELS,
    SET_TITLES,
    SETS,
    Plan,
    QualityRun,
    bench_rows,
    builtin_rows,
    config_rows,
    unspeakable_counts,
)

MARKERS = {"48": "o", "new": "^"}


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _chunk_s(run: QualityRun) -> float:
    """The median time to the first chunk, 0 where no reply came (for the plot's x)."""
    x = _median(run.first_chunk)
    return 0.0 if math.isnan(x) else x


def _score(right: int, total: int) -> str:
    return f"{right / total:.0%} ({right}/{total})" if total else "–"


def _one_line(text: str, limit: int = 160) -> str:
    return " ".join(text.split())[:limit]


def _heard(raw: str, spoken: str) -> str:
    """The spoken reply (what was judged), and how much of the raw one went unsaid."""
    unsaid = len(raw.split()) - len(spoken.split())
    return _one_line(spoken) + (f" [+{unsaid} words not spoken]" if unsaid > 0 else "")


def quality_lines(runs: Sequence[QualityRun], sets: Sequence[str] = ("48", "new"),
                  instructions: bool = True) -> list[str]:
    """The whole report body: the summary table, accuracy per category for each set, the
    instructions and the wrong answers, as markdown lines."""
    lines = summary_lines(runs, sets)
    for set_name in sets:
        lines += category_lines(runs, set_name)
    if instructions:
        lines += instruction_lines(runs)
    return lines + wrong_lines(runs, sets)


def summary_lines(runs: Sequence[QualityRun], sets: Sequence[str]) -> list[str]:
    counts = " + ".join(f"{len(SETS[s])} ({SET_TITLES[s]})" for s in sets)
    heads = [f"{SET_TITLES[s]} ({len(SETS[s])})" for s in sets]
    lines = [
        f"## Answer quality ({counts} factual questions, each in a fresh conversation)", "",
        f"| row | {' | '.join(heads)} | words/reply mean / max (spoken) | "
        "unspeakable raw / spoken | TTFT | tokens/s | request -> first chunk | load |",
        "|---|" + "---:|" * (len(sets) + 6),
    ]
    for r in runs:
        if r.error and not r.answers:
            lines.append(f"| {r.label} | failed: {r.error} |" + " |" * (len(sets) + 5))
            continue
        words = [a.words for a in r.answers]
        raw, said = unspeakable_counts(r.answers)
        scores = [_score(sum(a.right for a in r.answers_in(s)), len(r.answers_in(s)))
                  for s in sets]
        lines.append(
            f"| {r.label}{' (stopped: ' + r.error + ')' if r.error else ''} | "
            f"{' | '.join(scores)} | "
            f"{sum(words) / max(len(words), 1):.1f} / {max(words, default=0)} | "
            f"{raw} / {said} | {_median(r.ttft):.2f} s | {_median(r.tok_s):.1f} | "
            f"{_median(r.first_chunk):.2f} s | {r.load_s:.1f} s |")
    return [
        *lines, "", "Medians for the times. Accuracy and words are judged on what is spoken (the "
        "splitter's cleaned chunks within the spoken-length budget): an answer the voice "
        "never says does not count.", ""]


def category_lines(runs: Sequence[QualityRun], set_name: str) -> list[str]:
    """Rows = runs, columns = categories (and all): accuracy per category of one set."""
    sizes = {c: sum(f.category == c for f in SETS[set_name]) for c in CATEGORIES}
    cats = [c for c in CATEGORIES if sizes[c]]
    lines = [f"## Accuracy per category: {SET_TITLES[set_name]}", "",
             "| row | " + " | ".join(f"{c} ({sizes[c]})" for c in cats)
             + f" | all ({len(SETS[set_name])}) |",
             "|---|" + "---:|" * (len(cats) + 1)]
    for r in runs:
        if not r.answers_in(set_name):
            continue
        cells = []
        for category in [*cats, None]:
            answers = r.answers_in(set_name, category)
            cells.append(_score(sum(a.right for a in answers), len(answers)))
        lines.append(f"| {r.label} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def instruction_lines(runs: Sequence[QualityRun]) -> list[str]:
    """Passed/total per run and which instructions failed, then each failure with its
    reason and the reply."""
    lines = [f"## Instructions and small talk ({len(INSTRUCTIONS)}, judged on the spoken "
             "reply)", "", "| row | passed | failed |", "|---|---:|---|"]
    for r in runs:
        if r.followed:
            failed = [f.instruction.prompt for f in r.followed if f.failure]
            passed = len(r.followed) - len(failed)
            lines.append(f"| {r.label} | {passed}/{len(r.followed)} | "
                         f"{', '.join(failed) or '–'} |")
    lines += ["", "Rules:"]
    lines += [f"- *{i.prompt}* {i.rule}" for i in INSTRUCTIONS]
    lines.append("")
    for r in runs:
        misses = [f for f in r.followed if f.failure]
        if misses:
            lines.append(f"Failed instructions of {r.label}:")
            lines += [f"- *{f.instruction.prompt}* ({f.failure}) {_heard(f.raw, f.spoken)}"
                      for f in misses]
            lines.append("")
    return lines


def write_replies(runs: Sequence[QualityRun], path: Path) -> None:
    """Every reply, raw and spoken, with its verdict: one JSON object a line, to check the
    judging by reading."""
    with path.open("w", encoding="utf-8") as out:
        for r in runs:
            for a in r.answers:
                out.write(json.dumps({
                    "row": r.label, "set": a.set_name, "category": a.fact.category,
                    "prompt": a.fact.question, "raw": a.raw, "spoken": a.spoken,
                    "verdict": "right" if a.right else "wrong"}) + "\n")
            for f in r.followed:
                out.write(json.dumps({
                    "row": r.label, "set": "instructions", "prompt": f.instruction.prompt,
                    "raw": f.raw, "spoken": f.spoken, "verdict": f.failure or "passed"}) + "\n")


def wrong_lines(runs: Sequence[QualityRun], sets: Sequence[str]) -> list[str]:
    lines: list[str] = []
    for r in runs:
        for set_name in sets:
            wrong = [a for a in r.answers_in(set_name) if not a.right]
            if wrong:
                lines.append(f"Wrong answers of {r.label} ({SET_TITLES[set_name]}):")
                lines += [f"- *{a.fact.question}* [{a.fact.category}] "
                          f"{_heard(a.raw, a.spoken)}" for a in wrong]
                lines.append("")
    return lines


def plot_quality(runs: Sequence[QualityRun], path: Path) -> None:
    """Accuracy against the time to the first chunk: one colour per row, a circle for the
    48 questions and a triangle for the new set, joined by a line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in runs if r.answers]
    fig, ax = plt.subplots(figsize=(9, 5.5))
    for i, r in enumerate(ok):
        x, colour = _chunk_s(r), f"C{i % 10}"
        points = [(s, 100 * r.accuracy(s)) for s in SETS if r.answers_in(s)]
        ax.plot([x] * len(points), [y for _, y in points], color=colour, lw=1, alpha=0.5)
        for set_name, y in points:
            ax.scatter(x, y, color=colour, marker=MARKERS[set_name], s=40)
        words = sum(a.words for a in r.answers) / len(r.answers)
        scores = ", ".join(f"{set_name}: {y:.0f} %" for set_name, y in points)
        ax.annotate(f"{r.label.removeprefix('llama.cpp ')}\n{scores}, {words:.0f} words",
                    (x, points[0][1]), textcoords="offset points", xytext=(8, -4),
                    fontsize=8, color=colour)
    for set_name, marker in MARKERS.items():
        ax.scatter([], [], color="grey", marker=marker, label=SET_TITLES[set_name])
    ax.axhline(85, color="grey", ls=":", label="default target 85 %")
    ax.axhline(92, color="grey", ls="--", label="quality target 92 %")
    ax.set_xlabel("request -> first speakable chunk, median (s)")
    ax.set_ylabel("factual accuracy (%)")
    ax.set_title("Answer quality vs time to the first chunk")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_xlim(0, max([_chunk_s(r) for r in ok], default=0.0) * 1.6 or 1.0)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run_quality(out: Path, load_before: float, threads: int | None = None,
                configs: Sequence[Path] = (), plan: Plan | None = None) -> Path:
    """Ask every row, write quality.md and quality.png into `out`; the rows are the
    `configs` files, or without them the built-in models and the prompt comparisons."""
    from voicebot.config import OLD_SYSTEM_PROMPT, SPOKEN_SYSTEM_PROMPT
    from voicebot.progress import say

    plan = plan or Plan()
    if configs:
        rows = config_rows(configs, threads)  # reads and checks every file first
        title = "Answer quality per config file"
        setup = ("Each row is one config file: its whole llm section (backend, model, "
                 "sampling), its system prompt and spoken-length budget")
    else:
        few_shot = SPOKEN_SYSTEM_PROMPT + FEW_SHOT_EXAMPLES
        rows = builtin_rows(MODELS, SPOKEN_SYSTEM_PROMPT, (
            ("llama.cpp smollm2-135m, old prompt", "smollm2-135m", OLD_SYSTEM_PROMPT),
            ("llama.cpp smollm2-135m, few-shot", "smollm2-135m", few_shot),
            ("llama.cpp qwen2.5-0.5b, few-shot", "qwen2.5-0.5b", few_shot)), threads)
        title = "Answer quality of the built-in LLMs"
        setup = ("llama.cpp, prompt cache on, sampling as in configs/default.yaml (max 80 "
                 "tokens, temperature 0.2, repeat penalty 1.1)")
    runs = bench_rows(rows, plan)
    lines = [f"# {title}", "",
             f"Machine: {os.cpu_count()} CPUs, load average {load_before:.2f} at the start, "
             f"{os.getloadavg()[0]:.2f} at the end (shared: compare rows, not runs). "
             f"{setup}; llama.cpp threads: {threads or 'as configured'}; the reply stops "
             "where the spoken-length budget ends it.", "",
             *quality_lines(runs, plan.sets, plan.instructions), "![quality](quality.png)", ""]
    path = out / "quality.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    plot_quality(runs, out / "quality.png")
    write_replies(runs, out / "replies.jsonl")
    say(f"Report: {path}")
    return path

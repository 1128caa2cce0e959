"""bench reply's report: the Markdown tables and the PNG of the LLM and TTS runs
(voicebot/bench/reply.py measures them)."""

from __future__ import annotations

import os
import statistics
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from voicebot.bench.reply import LlmRun, TtsRun


def med(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def fmt(value: float | None, unit: str = "s", digits: int = 2) -> str:
    if value is None:
        return "–"
    return f"{value:.{digits}f}{' ' + unit if unit else ''}"


def write_report(llm_runs: list[LlmRun], tts_runs: list[TtsRun], out: Path,
                 load: float) -> Path:
    from voicebot.bench.reply import QUESTIONS  # the benchmark's input, defined where it runs

    lines = [
        "# Reply speed: LLM and TTS backends", "",
        f"Machine: {os.cpu_count()} CPUs, load average {load:.2f} at the start "
        f"(figures move 2-9x with load; compare rows, not runs). "
        f"LLM: {len(QUESTIONS)} questions asked as one conversation (history kept), "
        "spoken-style system prompt, max 80 tokens; medians over the turns.", "",
        "| LLM backend | load + warm-up | TTFT | tokens/s | first token -> first chunk "
        "(early cut) | -> first full sentence | whole reply | turns | machine load |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in llm_runs:
        if r.error and not r.ttft:
            lines.append(f"| {r.label} | failed: {r.error} | | | | | | | |")
            continue
        lines.append(
            f"| {r.label} | {fmt(r.load_s, digits=1)} | {fmt(med(r.ttft))} | "
            f"{fmt(med(r.tok_s), '', 1)} | {fmt(med(r.first_chunk))} | "
            f"{fmt(med(r.first_sentence))} | {fmt(med(r.total))} | {len(r.ttft)} | "
            f"{r.load_avg:.1f} |")
    lines += ["", "| TTS backend | load + warm-up | time to first audio | real-time factor |",
              "|---|---:|---:|---:|"]
    for t in tts_runs:
        if t.error:
            lines.append(f"| {t.label} | failed: {t.error} | | |")
        else:
            lines.append(f"| {t.label} | {fmt(t.load_s, digits=1)} | "
                         f"{fmt(med(t.first_audio), 's', 3)} | {fmt(med(t.rtf), '', 3)} |")
    lines += ["", "## Sample replies (first two turns)", ""]
    for r in llm_runs:
        for question, reply in list(zip(QUESTIONS, r.replies, strict=False))[:2]:
            lines.append(f"- {r.label} — *{question}* {' '.join(reply.split())[:200]}")
    lines += ["", "![reply](reply.png)", ""]
    path = out / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def plot(llm_runs: list[LlmRun], tts_runs: list[TtsRun], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in llm_runs if r.ttft]
    fig, axes = plt.subplots(1, 3, figsize=(17, 5.5), width_ratios=[1.6, 1, 0.8])
    labels = [r.label.replace(", ", "\n").replace(" -> ", "\n-> ") for r in ok]
    y = range(len(ok))
    ttft = [med(r.ttft) or 0.0 for r in ok]
    chunk = [med(r.first_chunk) or 0.0 for r in ok]
    ax = axes[0]
    ax.barh(y, ttft, color="#4c72b0", label="time to first token")
    ax.barh(y, chunk, left=ttft, color="#dd8452", label="+ first token -> first chunk")
    for i, (a, b) in enumerate(zip(ttft, chunk, strict=True)):
        ax.text(a + b, i, f" {a:.2f} + {b:.2f} s", va="center", fontsize=9)
    ax.set_yticks(list(y), labels, fontsize=9)
    ax.invert_yaxis()
    ax.set_xlabel("seconds (median)")
    ax.set_title("LLM: until the first speakable chunk")
    ax.legend(loc="lower right", fontsize=9)
    ax.set_xlim(0, max([a + b for a, b in zip(ttft, chunk, strict=True)] or [1.0]) * 1.45)
    _bars(axes[1], labels, [med(r.tok_s) or 0.0 for r in ok], "tokens/s (median)",
          "LLM decode speed", "{:.0f}")
    good = [t for t in tts_runs if t.first_audio]
    _bars(axes[2], [t.label for t in good], [med(t.first_audio) or 0.0 for t in good],
          "seconds (median)", "TTS: time to first audio", "{:.3f} s",
          extra=[f"RTF {med(t.rtf) or 0:.3f}" for t in good])
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _bars(ax: Any, labels: list[str], values: list[float], xlabel: str, title: str,
          form: str, extra: list[str] | None = None) -> None:
    y = list(range(len(values)))
    ax.barh(y, values, color="#55a868")
    for i, v in enumerate(values):
        note = f" ({extra[i]})" if extra else ""
        ax.text(v, i, " " + form.format(v) + note, va="center", fontsize=9)
    ax.set_yticks(y, labels, fontsize=9)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.set_xlim(0, max(values or [1.0]) * 1.6)

"""`voicebot bench soak --llm-only`: does history trimming keep llama.cpp's prompt cache?

The same N typed questions run twice through the configured LLM, side by side in one run:
once trimming the history one turn at a time (the prompt changes right after the system
prompt on every turn once the budget is full, so the cached prefix is lost), once dropping
old turns in blocks (the default; the prefix changes once every few turns). Reported: LLM
time to first token by turn index for both.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

MODES = (("one turn at a time", 1.0), ("in blocks (default)", 0.5))


def ttft_by_turn(llm: Any, cfg: Any, questions: list[str], keep_fraction: float) -> list[float]:
    from voicebot.clock import MonotonicClock
    from voicebot.llm.history import ChatHistory
    from voicebot.progress import say

    clock = MonotonicClock()
    history = ChatHistory(cfg.conversation.system_prompt, cfg.conversation.history_tokens,
                          llm.count_tokens, keep_fraction=keep_fraction)
    ttfts = []
    for i, question in enumerate(questions, start=1):
        history.add_user(question)
        began, first = clock.now(), None
        parts = []
        for delta in llm.stream(history.messages(), cancel=threading.Event()):
            if delta and first is None:
                first = clock.now() - began
            parts.append(delta)
        history.add_assistant("".join(parts))
        ttfts.append(first if first is not None else float("nan"))
        if i % 10 == 0:
            say(f"  turn {i}: ttft {ttfts[-1] * 1000:.0f} ms")
    return ttfts


def run_llm_only(llm: Any, cfg: Any, questions: list[str], out: Path) -> Path:
    from voicebot.progress import say

    results = {}
    for label, keep in MODES:
        say(f"LLM only, history trimmed {label}: {len(questions)} turns…")
        results[label] = ttft_by_turn(llm, cfg, questions, keep)
    return _report(results, out)


def _report(results: dict[str, list[float]], out: Path) -> Path:
    import statistics

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 3.5))
    for label, ttfts in results.items():
        ax.plot(range(1, len(ttfts) + 1), [t * 1000 for t in ttfts], ".-", lw=0.8, label=label)
    ax.set_xlabel("turn")
    ax.set_ylabel("LLM TTFT (ms)")
    ax.set_title("time to first token by turn index: history trimming")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "ttft-trimming.png", dpi=110)
    plt.close(fig)

    def median(values: list[float]) -> str:
        return f"{statistics.median(values) * 1000:.0f} ms" if values else "—"

    n = len(next(iter(results.values())))
    lines = ["# History trimming and the prompt cache (LLM only)", "",
             f"{n} typed turns per mode, one run, the same model; medians.", "",
             "| trimming | turns 3-7 | last 10 turns | last / early |", "|---|---|---|---|"]
    for label, ttfts in results.items():
        early, late = ttfts[2:7], ttfts[-10:]
        ratio = statistics.median(late) / statistics.median(early) if early and late else 0
        lines.append(f"| {label} | {median(early)} | {median(late)} | {ratio:.2f}x |")
    lines += ["", "![TTFT by turn](ttft-trimming.png)"]
    report = out / "trimming.md"
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return report

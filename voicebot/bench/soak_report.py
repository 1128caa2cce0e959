"""The soak bench's report: a Markdown summary and table, and a PNG of TTFT by turn index
and RSS over time."""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

TTFT_RATIO_TARGET = 1.5
RSS_GROWTH_TARGET_MB = 50.0


def _median(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def ttft_ratio(rows: Sequence[dict[str, Any]]) -> tuple[float | None, float | None]:
    """(median TTFT of turns 3-7, median TTFT of the last 5 turns): the median of five
    turns around each point, so one noisy turn on a shared CPU does not decide it."""
    early = _median([r["ttft"] for r in rows if 3 <= r["turn"] <= 7])
    late = _median([r["ttft"] for r in rows[-5:]])
    return early, late


def rss_growth(rows: Sequence[dict[str, Any]], warmup: int) -> tuple[float, float] | None:
    """(RSS at the end of warm-up, the largest growth over it afterwards), in MB."""
    after = [r["rss_mb"] for r in rows if r["turn"] >= warmup]
    if len(after) < 2:
        return None
    return after[0], max(after) - after[0]


def write_report(rows: list[dict[str, Any]], asked: int, gave_up: int, cfg: Any,
                 args: argparse.Namespace) -> Path:
    out: Path = args.out
    plot = _plot(rows, out / "soak.png")
    ok = sum(1 for r in rows if r["status"] == "ok")
    muted = sum(r["muted_speech_s"] for r in rows)
    early, late = ttft_ratio(rows)
    growth = rss_growth(rows, args.warmup)
    lines = [
        f"# Soak: {asked} questions at 1x ({cfg.source})",
        "",
        f"Command: `voicebot bench soak --turns {args.turns} --gap {args.gap:g}`; "
        "questions spoken by the configured TTS, each asked after the previous reply "
        "had played; one conversation, one history.",
        "",
        "| figure | value | target |",
        "|---|---|---|",
        f"| turns answered (ok) / asked | {ok} / {asked} | all |",
        f"| turns failed or cut | {len(rows) - ok} | 0 |",
        f"| questions that never became a turn | {gave_up} | 0 |",
        f"| speech dropped while muted | {muted:.1f} s | 0 (the user waits) |",
    ]
    if early is not None and late is not None:
        lines.append(f"| LLM TTFT, turns 3-7 → last 5 (medians) | {early * 1000:.0f} ms → "
                     f"{late * 1000:.0f} ms ({late / early:.2f}x) | ≤ {TTFT_RATIO_TARGET}x |")
    if growth is not None:
        lines.append(f"| RSS after turn {args.warmup} → growth after | {growth[0]:.0f} MB → "
                     f"+{growth[1]:.0f} MB | ≤ {RSS_GROWTH_TARGET_MB:.0f} MB |")
    lines += ["", f"![TTFT and RSS]({plot.name})", "", "| turn | status | TTFT | e2e | RSS |",
              "|---|---|---|---|---|"]
    step = max(1, len(rows) // 20)
    for r in rows[::step] + ([rows[-1]] if rows and (len(rows) - 1) % step else []):
        lines.append(f"| {r['turn']} | {r['status']} | {_ms(r['ttft'])} | {_ms(r['e2e'])} | "
                     f"{r['rss_mb']:.0f} MB |")
    report = out / "report.md"
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return report


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value * 1000:.0f} ms"


def _plot(rows: Sequence[dict[str, Any]], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6))
    turns = [r["turn"] for r in rows if r["ttft"] is not None]
    top.plot(turns, [r["ttft"] * 1000 for r in rows if r["ttft"] is not None], ".-", lw=0.8)
    top.set_xlabel("turn")
    top.set_ylabel("LLM TTFT (ms)")
    top.set_title("time to first token by turn index")
    bottom.plot([r["t"] / 60 for r in rows], [r["rss_mb"] for r in rows], ".-", lw=0.8)
    bottom.set_xlabel("minutes into the session")
    bottom.set_ylabel("RSS (MB)")
    bottom.set_title("resident memory")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

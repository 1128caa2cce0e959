"""The soak bench's report: a Markdown summary and table, and a PNG of TTFT by turn index
and RSS over time."""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from voicebot.bench.memory import MemoryProbe

TTFT_RATIO_TARGET = 1.5
RSS_GROWTH_TARGET_MB = 50.0


def _median(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def ttft_ratio(rows: Sequence[dict[str, Any]]) -> tuple[float | None, float | None]:
    """(median TTFT of turns 3-7, median TTFT of the last 10 turns): medians, so one noisy
    turn on a shared CPU does not decide it."""
    early = _median([r["ttft"] for r in rows if 3 <= r["turn"] <= 7])
    late = _median([r["ttft"] for r in rows[-10:]])
    return early, late


def rss_growth(rows: Sequence[dict[str, Any]], warmup: int) -> tuple[float, float] | None:
    """(RSS at the end of warm-up, the largest growth over it afterwards), in MB."""
    after = [r["rss_mb"] for r in rows if r["turn"] >= warmup]
    if len(after) < 2:
        return None
    return after[0], max(after) - after[0]


def write_report(rows: list[dict[str, Any]], probes: Sequence[MemoryProbe], asked: int,
                 gave_up: int, cfg: Any, args: argparse.Namespace) -> Path:
    out: Path = args.out
    plot = _plot(rows, out / "soak.png")
    ok = sum(1 for r in rows if r["status"] == "ok")
    muted = sum(r["muted_speech_s"] for r in rows)
    early, late = ttft_ratio(rows)
    growth = rss_growth(rows, args.warmup)
    speed = getattr(args, "speed", 1.0)
    pace = "at 1x (real time)" if speed == 1 else (
        f"at {speed:g}x real time (soak mode: audio, pauses and playback shrunk; times below "
        "are real seconds)")
    lines = [
        f"# Soak: {asked} questions {pace} ({cfg.source})",
        "",
        f"Command: `voicebot bench soak --turns {args.turns} --gap {args.gap:g} --speed "
        f"{speed:g}`; questions spoken by the configured TTS, each asked after the previous "
        "reply had played; one conversation, one history, built as `voicebot talk` builds it "
        "(turn detector, session log).",
        "",
        "| figure | value | target |",
        "|---|---|---|",
        f"| turns answered (ok) / asked | {ok} / {asked} | all |",
        f"| turns failed or cut | {len(rows) - ok} | 0 |",
        f"| questions that never became a turn | {gave_up} | 0 |",
        f"| speech dropped while muted | {muted:.1f} s | 0 (the user waits) |",
    ]
    if early is not None and late is not None:
        lines.append(f"| LLM TTFT, turns 3-7 → last 10 (medians) | {early * 1000:.0f} ms → "
                     f"{late * 1000:.0f} ms ({late / early:.2f}x) | ≤ {TTFT_RATIO_TARGET}x |")
    if growth is not None:
        lines.append(f"| RSS after turn {args.warmup} → growth after | {growth[0]:.0f} MB → "
                     f"+{growth[1]:.0f} MB | ≤ {RSS_GROWTH_TARGET_MB:.0f} MB |")
    lines += ["", f"![TTFT and RSS]({plot.name})", "", *memory_lines(probes)]
    lines += ["", "| turn | status | TTFT | e2e | RSS |",
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


def memory_lines(probes: Sequence[MemoryProbe], groups: int = 4) -> list[str]:
    """Where the memory went between the first probe and each later one: RSS, what backs it
    (the mappings that grew most), glibc's heap, and Python's allocations by line."""
    if len(probes) < 2:
        return []
    first, last = probes[0], probes[-1]
    grown = sorted(set(first.by_mapping) | set(last.by_mapping),
                   key=lambda g: last.by_mapping.get(g, 0) - first.by_mapping.get(g, 0),
                   reverse=True)[:groups]
    lines = ["## Where the memory went", "",
             f"Resident memory by what backs it, at each probe (MB; growth since "
             f"{first.label} in brackets); the mappings that grew most. C heap: glibc's malloc, "
             "bytes in use in its arenas, in large blocks mapped on their own (counted whole, "
             "resident only where written) and freed but still held. Python: allocations "
             "traced by tracemalloc from the first probe on (its own bookkeeping, 'tracer', "
             "is counted in RSS too).", "",
             "| probe | RSS | " + " | ".join(grown) + " | C heap in arenas | C heap mmapped "
             "| C heap free, held | threads | Python | tracer |",
             "|---" * (len(grown) + 8) + "|"]
    for p in probes:
        cells = [_mb(p.rss_mb, first.rss_mb)]
        cells += [_mb(p.by_mapping.get(g, 0.0), first.by_mapping.get(g, 0.0)) for g in grown]
        cells += [_mb(_heap(p, "in_arenas_mb"), _heap(first, "in_arenas_mb")),
                  _mb(_heap(p, "mmapped_mb"), _heap(first, "mmapped_mb")),
                  _mb(_heap(p, "free_held_mb"), _heap(first, "free_held_mb")),
                  "—" if p.threads is None else str(p.threads),
                  _mb(p.python_mb, first.python_mb), _mb(p.tracer_mb, None)]
        lines.append(f"| {p.label} | " + " | ".join(cells) + " |")
    if last.sites:
        lines += ["", f"Python lines holding more at {last.label} than at {first.label}:", "",
                  "| allocated at | grown | blocks |", "|---|---|---|"]
        lines += [f"| `{s.where}` | {s.grown_mb:+.2f} MB | {s.grown_blocks:+d} |"
                  for s in last.sites]
    return lines


def _heap(probe: MemoryProbe, figure: str) -> float | None:
    return None if probe.heap is None else float(getattr(probe.heap, figure))


def _mb(value: float | None, base: float | None) -> str:
    if value is None:
        return "—"
    if base is None:
        return f"{value:.0f}"
    return f"{value:.0f} ({value - base:+.0f})"

"""report.md, PNGs and turns.jsonl for `voicebot bench talk`."""

from __future__ import annotations

import json
import platform
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from voicebot.metrics import FIGURE_LABELS, FIGURES, TurnRecord, figure_values, summarize
from voicebot.plots import e2e_histogram, waterfall


def write_report(
    results: Mapping[str, Sequence[TurnRecord]], turns: Sequence[Any], cfg: Any, out: Path,
    pace: str = "",
) -> Path:
    with (out / "turns.jsonl").open("w", encoding="utf-8") as f:
        for mode, records in results.items():
            for record in records:
                f.write(json.dumps({"mode": mode, **record.to_json()}) + "\n")
    waterfall(results, out / "waterfall.png", "Where the time goes, per turn (1x replay)")
    e2e_histogram({m: figure_values(r, "e2e_latency") for m, r in results.items()},
                  out / "e2e_hist.png", "e2e latency per turn")
    lines = [
        "# voicebot bench talk",
        "",
        f"Config `{cfg.source.name}` — ASR {cfg.asr.backend} {cfg.asr.params.model}, "
        f"LLM {cfg.llm.backend} {getattr(cfg.llm.params, 'model', '')}, "
        f"TTS {cfg.tts.backend}; endpoint silence {cfg.endpoint.end_ms} ms. "
        f"Machine: {platform.processor() or platform.machine()}, "
        f"{_cpus()} CPUs. Every turn replayed at 1x; modes alternate turn by turn.",
        "",
        *([pace, ""] if pace else []),
        *_summary_table(results),
        "",
        *_ratio_lines(results),
        "",
        *_load_lines(results),
        "![waterfall](waterfall.png)",
        "",
        "![e2e histogram](e2e_hist.png)",
        "",
        "## Turns",
        "",
        *_turn_table(results, turns),
    ]
    path = out / "report.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


STALL_S = 0.02
"""A reply whose chunks left more than this much silence between them (the next chunk not
ready when the one before had played) counts as ran dry: an audible gap mid-reply."""


def _summary_table(results: Mapping[str, Sequence[TurnRecord]]) -> list[str]:
    modes = list(results)
    header = "| figure | " + " | ".join(f"{m} median | {m} p90" for m in modes) + " |"
    rule = "|---|" + "---:|---:|" * len(modes)
    rows = [header, rule]
    for name in FIGURES:
        cells = []
        for mode in modes:
            s = summarize(figure_values(results[mode], name), name)
            cells += [f"{s.median:.3f} s", f"{s.p90:.3f} s"] if s else ["—", "—"]
        rows.append(f"| {FIGURE_LABELS[name]} | " + " | ".join(cells) + " |")
    cells = []
    for mode in modes:
        outside = [t.measured_e2e for t in results[mode] if t.measured_e2e is not None]
        s = summarize(outside, "measured")
        cells += [f"{s.median:.3f} s", f"{s.p90:.3f} s"] if s else ["—", "—"]
    rows.append("| e2e measured from outside (audio in/out) | " + " | ".join(cells) + " |")
    gaps = [abs(t.measured_e2e - t.figures["e2e_latency"]) for m in modes for t in results[m]
            if t.measured_e2e is not None and "e2e_latency" in t.figures]
    stalls = [f"{sum(t.stall_s > STALL_S for t in results[m])}/{len(results[m])}"
              for m in modes]
    rows.append(f"| replies whose audio ran dry (> {STALL_S * 1000:.0f} ms) | "
                + " | ".join(f"{s} | " for s in stalls) + " |")
    overlapped = [f"{sum(t.overlapped for t in results[m])}/{len(results[m])}" for m in modes]
    rows.append("| replies that played over the user's speech (cut-ins) | "
                + " | ".join(f"{o} | " for o in overlapped) + " |")
    ok = [f"{sum(t.status == 'ok' for t in results[m])}/{len(results[m])}" for m in modes]
    rows.append("| turns ok | " + " | ".join(f"{o} | " for o in ok) + " |")
    if gaps:
        rows += ["", f"Logged e2e vs measured from outside: largest difference "
                 f"{max(gaps) * 1000:.0f} ms over {len(gaps)} turns."]
    rows += _referee_lines([t for m in modes for t in results[m]])
    return rows


def _referee_lines(turns: Sequence[TurnRecord]) -> list[str]:
    """How far the outside measurement by the level rule lies from a plain fixed-threshold
    one (-40 dBFS) on the same turns: a large gap means one of them misjudged the end of
    the user's speech (room tone, a soft last word)."""
    both = [t.measured_e2e_fixed - t.measured_e2e for t in turns
            if t.measured_e2e is not None and t.measured_e2e_fixed is not None]
    if not both:
        return []
    worst = max(both, key=abs)
    typical = statistics.median(abs(d) for d in both)
    return [f"Outside, the level rule vs a plain fixed -40 dBFS threshold for the end of the "
            f"user's speech: e2e differs by {typical * 1000:.0f} ms "
            f"(median), {worst * 1000:+.0f} ms at most (fixed minus rule), over {len(both)} "
            f"turns."]


def _ratio_lines(results: Mapping[str, Sequence[TurnRecord]]) -> list[str]:
    stream = summarize(figure_values(results.get("streaming", []), "e2e_latency"), "e2e")
    naive = summarize(figure_values(results.get("naive", []), "e2e_latency"), "e2e")
    lines = []
    if stream:
        median_ok = stream.median <= E2E_TARGETS["median"]
        p90_ok = stream.p90 <= E2E_TARGETS["p90"]
        lines.append(f"Streaming median e2e latency: **{stream.median:.3f} s**, p90 "
                     f"{stream.p90:.3f} s ({'meets' if median_ok else 'misses'} the "
                     f"{E2E_TARGETS['median']} s median target, "
                     f"{'meets' if p90_ok else 'misses'} the {E2E_TARGETS['p90']} s p90 "
                     "target).")
    for mode in compared_modes(results):
        other = summarize(figure_values(results[mode], "e2e_latency"), "e2e")
        if other and stream:
            lines.append(f"`{mode}` in the same run, turn by turn: median "
                         f"**{other.median:.3f} s**, p90 {other.p90:.3f} s "
                         f"({stream.median - other.median:+.3f} s for this config's).")
    if stream and naive:
        ratio = naive.median / stream.median
        verdict = "meets" if ratio >= 3.0 else "misses"
        lines.append(f"Naive cascade median e2e latency: **{naive.median:.3f} s**, "
                     f"**{ratio:.1f}x** the streaming pipeline ({verdict} the 3x target).")
    return lines


E2E_TARGETS = {"median": 0.8, "p90": 1.1}
"""The default config's targets on a quiet 2-core machine (issue: right answers by default)."""


def compared_modes(results: Mapping[str, Sequence[TurnRecord]]) -> list[str]:
    """The modes of `--compare` configs (not streaming, naive or a busy round)."""
    return [m for m in results if m not in ("streaming", "naive") and not busy_count(m)]


def mode_label(mode: str, busy: int) -> str:
    """"streaming", or "streaming +2 busy" for a round beside two busy processes."""
    return f"{mode} +{busy} busy" if busy else mode


def busy_count(label: str) -> int:
    """The number of busy processes in a `mode_label` (0 for a quiet round)."""
    _, plus, rest = label.partition(" +")
    return int(rest.split()[0]) if plus else 0


LOAD_TARGETS = {1: 1.5, 2: 1.8}
"""e2e median beside N busy processes / quiet median, at most (on a 2-core machine)."""
MAX_TURN_S = 3.0


def _load_lines(results: Mapping[str, Sequence[TurnRecord]]) -> list[str]:
    """Quiet vs loaded rounds of the streaming pipeline, as a table with the targets."""
    quiet = summarize(figure_values(results.get("streaming", []), "e2e_latency"), "e2e")
    loaded = [m for m in results if m.startswith("streaming") and busy_count(m)]
    if quiet is None or not loaded:
        return []
    rows = ["## Beside busy processes", "",
            "| round | e2e median | p90 | max | median vs quiet | target | LLM threads |",
            "|---|---:|---:|---:|---:|---|---|"]
    for mode in ["streaming", *loaded]:
        s = summarize(figure_values(results[mode], "e2e_latency"), "e2e")
        if s is None:
            rows.append(f"| {mode} | — | — | — | — | | |")
            continue
        busy = busy_count(mode)
        target = LOAD_TARGETS.get(busy)
        ratio = s.median / quiet.median
        verdict = "" if target is None else (
            f"≤ {target}x: {'met' if ratio <= target else 'missed'}")
        over = sum(v > MAX_TURN_S for v in figure_values(results[mode], "e2e_latency"))
        verdict += f"; turns over {MAX_TURN_S:.0f} s: {over}" if busy else ""
        rows.append(f"| {mode} | {s.median:.3f} s | {s.p90:.3f} s | {s.max:.3f} s | "
                    f"{ratio:.2f}x | {verdict} | {_threads_used(results[mode])} |")
    return [*rows, ""]


def _threads_used(records: Sequence[TurnRecord]) -> str:
    """How many turns each LLM thread count answered ("2 in 9, 1 in 1"), else "–"."""
    counts = Counter(r.llm_threads for r in records if r.llm_threads is not None)
    return ", ".join(f"{n} in {k}" for n, k in sorted(counts.items(), reverse=True)) or "–"


def _turn_table(
    results: Mapping[str, Sequence[TurnRecord]], turns: Sequence[Any]
) -> list[str]:
    rows = ["| # | turn | mode | status | heard | e2e |", "|---:|---|---|---|---|---:|"]
    for mode, records in results.items():
        for record, turn in zip(records, turns, strict=False):
            e2e = record.figures.get("e2e_latency")
            heard = record.user_text.replace("|", "/")[:60]
            rows.append(f"| {record.index} | {turn.label} | {mode} | {record.status} | "
                        f"{heard} | {f'{e2e:.3f} s' if e2e is not None else '—'} |")
    return rows

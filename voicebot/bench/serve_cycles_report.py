"""The report of `bench serve --cycles`: server RSS, threads and open descriptors after
cycle 1, 10, ... and the last, judged against the targets, with a plot per cycle."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from voicebot.bench.serve_cycles import Cycle

RSS_GROWTH_TARGET_MB = 30.0
BASE_CYCLE = 10


def shown_cycles(count: int) -> list[int]:
    """Cycle numbers for the table: 1, 10, then every quarter, and the last."""
    marks = {1, min(BASE_CYCLE, count), count}
    marks |= {max(1, round(count * q / 4)) for q in (1, 2, 3)}
    return sorted(marks)


def verdicts(cycles: Sequence[Cycle]) -> list[str]:
    """One line per target: answered, RSS growth from cycle 10 to the last, threads and
    descriptors back to their cycle-10 counts."""
    asked = sum(c.asked for c in cycles)
    answered = sum(c.answered for c in cycles)
    lines = [f"Turns answered: {answered}/{asked} "
             f"({'met' if answered == asked else 'NOT met'}: every cycle answered)."]
    base = _figures_at(cycles, BASE_CYCLE)
    last = cycles[-1].figures if cycles else None
    if base is None or last is None or len(cycles) <= BASE_CYCLE:
        return [*lines, f"Growth needs more than {BASE_CYCLE} cycles with server figures."]
    growth = last.rss_mb - base.rss_mb
    met = "met" if growth <= RSS_GROWTH_TARGET_MB else "NOT met"
    lines.append(f"RSS cycle {BASE_CYCLE} -> {len(cycles)}: {base.rss_mb:.0f} -> "
                 f"{last.rss_mb:.0f} MB ({growth:+.0f} MB; target <= "
                 f"{RSS_GROWTH_TARGET_MB:g} MB: {met}).")
    for name in ("threads", "fds"):
        a, b = getattr(base, name), getattr(last, name)
        label = "threads" if name == "threads" else "open descriptors"
        lines.append(f"{label.capitalize()} cycle {BASE_CYCLE} -> {len(cycles)}: {a} -> {b} "
                     f"({'met' if b <= a else 'NOT met'}: back to the cycle-{BASE_CYCLE} count).")
    return lines


def write_cycles_report(cycles: Sequence[Cycle], clients: int, config_name: str,
                        out: Path, load: tuple[float, float] | None = None) -> Path:
    with (out / "cycles.jsonl").open("w", encoding="utf-8") as f:
        for cycle in cycles:
            f.write(json.dumps(cycle.to_json()) + "\n")
    plot_cycles(cycles, out / "cycles.png")
    rows = []
    for n in shown_cycles(len(cycles)):
        c = cycles[n - 1]
        fig = c.figures
        rows.append(f"| {n} | {c.answered}/{c.asked} | "
                    + (f"{fig.rss_mb:.0f} | {fig.threads} | {fig.fds} |" if fig
                       else "— | — | — |"))
    failures = [(c.index, e) for c in cycles for e in c.errors]
    lines = [
        "# voicebot bench serve --cycles",
        "",
        f"One `voicebot serve` (config `{config_name}`, its own in-process engines, "
        f"`--max-sessions {clients}`) on this machine ({platform.machine()}, "
        f"{os.cpu_count()} CPUs). Each cycle {clients} client(s) connect over loopback "
        "together, each asks one question at 1x (synthesized and real recordings in "
        "turn), and all disconnect. After each cycle, once the thread and descriptor "
        "counts have been steady for 0.3 s, the server's RSS, threads and open "
        "descriptors are read from /proc."
        + (f" Load average (1 min) before / after: {load[0]:.1f} / {load[1]:.1f}."
           if load else ""),
        "",
        "| cycle | answered | server RSS (MB) | threads | open descriptors |",
        "|---:|---:|---:|---:|---:|",
        *rows,
        "",
        *(f"- {line}" for line in verdicts(cycles)),
        "",
        "![server RSS, threads and descriptors per cycle](cycles.png)",
        "",
    ]
    if failures:
        lines += ["## Turns not answered", "", "| cycle | status: error |", "|---:|---|",
                  *(f"| {i} | {e} |" for i, e in failures), ""]
    path = out / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def plot_cycles(cycles: Sequence[Cycle], path: Path) -> Path:
    from voicebot.bench.memory_plot import rss_with_right_axis

    points = [(c.index, c.figures) for c in cycles if c.figures is not None]
    xs = [i for i, _ in points]

    def counts(ax: Any) -> None:
        ax.step(xs, [f.threads for _, f in points], where="mid", color="tab:orange",
                label="threads")
        ax.step(xs, [f.fds for _, f in points], where="mid", color="tab:green",
                label="open descriptors")
        ax.set_ylabel("count")
        top = max([f.threads for _, f in points] + [f.fds for _, f in points] + [1])
        ax.set_ylim(0, top * 1.6)  # the lines below the legend

    return rss_with_right_axis([(i, f.rss_mb) for i, f in points], path, xlabel="cycle",
                               rss_label="server RSS (MB)", draw_right=counts,
                               title="voicebot serve over many sessions, one after another")


def _figures_at(cycles: Sequence[Cycle], n: int) -> Any:
    return cycles[n - 1].figures if len(cycles) >= n else None

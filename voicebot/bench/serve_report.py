"""report.md, serve.png and turns.jsonl for `voicebot bench serve`."""

from __future__ import annotations

import dataclasses
import json
import os
import platform
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from voicebot.metrics import summarize

TARGET_P90_S = 2.0


@dataclasses.dataclass(frozen=True)
class Level:
    clients: int
    turns: int
    failed: int
    client_median: float | None
    client_p90: float | None
    server_median: float | None
    server_p90: float | None


def levels_of(results: Sequence[Any], levels: Sequence[int]) -> list[Level]:
    out = []
    for n in levels:
        rows = [r for r in results if r.clients == n]
        client = summarize([r.client_e2e for r in rows if r.client_e2e is not None], "client")
        server = summarize([r.server_e2e for r in rows
                            if r.status == "ok" and r.server_e2e is not None], "server")
        out.append(Level(
            n, len(rows), sum(1 for r in rows if r.status != "ok"),
            client.median if client else None, client.p90 if client else None,
            server.median if server else None, server.p90 if server else None))
    return out


def first_over_target(levels: Sequence[Level]) -> int | None:
    """The smallest N whose client-measured p90 passes the target (None: none did)."""
    return next((lv.clients for lv in levels
                 if lv.client_p90 is not None and lv.client_p90 > TARGET_P90_S), None)


def write_report(results: Sequence[Any], levels: Sequence[int], questions: Sequence[Any],
                 cfg: Any, model: str, out: Path,
                 load: tuple[float, float] | None = None) -> Path:
    """`load`: the machine's 1-minute load average before and after the run."""
    with (out / "turns.jsonl").open("w", encoding="utf-8") as f:
        for r in results:
            f.write(json.dumps(dataclasses.asdict(r)) + "\n")
    summary = levels_of(results, levels)
    plot(summary, out / "serve.png")
    over = first_over_target(summary)
    verdict = (f"p90 passes {TARGET_P90_S:g} s at **N = {over}**" if over is not None
               else f"p90 stays under {TARGET_P90_S:g} s up to N = {levels[-1]}")
    failures = [r for r in results if r.status != "ok"]
    lines = [
        "# voicebot bench serve",
        "",
        f"One `voicebot serve` (config `{cfg.source.name}`: ASR {cfg.asr.backend} "
        f"{cfg.asr.params.model}, TTS {cfg.tts.backend}; endpoint silence "
        f"{cfg.endpoint.end_ms} ms) with its LLM on llama.cpp's server "
        f"(`scripts/llama_server.py --model {model} --parallel {levels[-1]}`), both on this "
        f"machine ({platform.machine()}, {os.cpu_count()} CPUs), and N clients on loopback, "
        f"each streaming its questions at 1x in one conversation ({len(questions)} "
        "questions: synthesized and real recordings). e2e = last speech sample sent -> "
        "first reply audio received, measured by the client; the server's own figure "
        "(end of speech -> reply audio handed to the socket) beside it."
        + (f" Load average (1 min) before / after the run: {load[0]:.1f} / {load[1]:.1f}"
           f" on {os.cpu_count()} CPUs (other jobs share the machine)." if load else ""),
        "",
        "| clients | turns | failed | e2e median | e2e p90 | server e2e median | "
        "server e2e p90 |",
        "|---:|---:|---:|---:|---:|---:|---:|",
        *(f"| {lv.clients} | {lv.turns} | {lv.failed} | {_s(lv.client_median)} | "
          f"{_s(lv.client_p90)} | {_s(lv.server_median)} | {_s(lv.server_p90)} |"
          for lv in summary),
        "",
        f"Target: p90 under {TARGET_P90_S:g} s. {verdict}.",
        "",
        "![e2e per number of clients](serve.png)",
        "",
    ]
    if failures:
        lines += ["## Failed turns", "", "| clients | client | question | status | error |",
                  "|---:|---:|---|---|---|"]
        lines += [f"| {r.clients} | {r.client} | {r.question} | {r.status} | {r.error} |"
                  for r in failures]
    path = out / "report.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _s(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} s"


def plot(levels: Sequence[Level], path: Path) -> Path:
    from voicebot.plots import _pyplot

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    xs = [lv.clients for lv in levels]
    for attr, label, style in (("client_median", "e2e median (client)", "o-"),
                               ("client_p90", "e2e p90 (client)", "s-"),
                               ("server_median", "e2e median (server)", "o:")):
        ys = [getattr(lv, attr) for lv in levels]
        points = [(x, y) for x, y in zip(xs, ys, strict=True) if y is not None]
        if points:
            ax.plot(*zip(*points, strict=True), style, label=label)
    ax.axhline(TARGET_P90_S, color="#c62828", linestyle="--", linewidth=1,
               label=f"{TARGET_P90_S:g} s")
    ax.set_xscale("log", base=2)
    ax.set_xticks(xs, [str(x) for x in xs])
    ax.set_xlabel("concurrent clients (each streaming at 1x)")
    ax.set_ylabel("seconds")
    ax.set_ylim(bottom=0)
    ax.set_title("voicebot serve: e2e latency vs concurrent sessions")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

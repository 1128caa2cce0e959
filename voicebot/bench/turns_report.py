"""report.md, turns.png and outcomes.jsonl for `voicebot bench turns`."""

from __future__ import annotations

import json
import os
import platform
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from voicebot.metrics import percentile

TARGET_MEDIAN_S = 0.50
TARGET_P90_S = 0.80
STATEMENT_P90_S = 1.3  # issue 22: finished statements and commands
TARGET_CUT_INS = 1 / 15


def write_report(outcomes: Sequence[Any], settings: Sequence[Any], cfg: Any, out: Path,
                 vad_cost: dict[str, float], pace: str = "") -> Path:
    with (out / "outcomes.jsonl").open("w", encoding="utf-8") as f:
        for o in outcomes:
            f.write(json.dumps({"setting": o.setting, "kind": o.kind, "label": o.label,
                                "cut_in": o.cut_in, "closed_in_pause": o.closed_in_pause,
                                "ends": o.ends, "answered": o.answered,
                                "resume_at": o.resume_at, "pause_at": o.pause_at,
                                "closed_early": o.closed_early, "own_pause_s": o.own_pause_s,
                                "snr_db": o.snr_db, "detector_ms": o.detector_ms,
                                "turns": [t.to_json() for t in o.turns]}) + "\n")
    names = [s.name for s in settings]
    detector_names = [s.name for s in settings if s.turn != "silence"]
    rows = {name: _row([o for o in outcomes if o.setting == name]) for name in names}
    _plot(rows, out / "turns.png")
    lines = [
        "# voicebot bench turns",
        "",
        f"Config `{cfg.source.name}`: VAD {cfg.vad.backend} (unless named), ASR "
        f"{cfg.asr.backend} {cfg.asr.params.model}, LLM {getattr(cfg.llm.params, 'model', '')}"
        f", TTS {cfg.tts.backend}; smart-turn: threshold {cfg.turn.threshold}, recheck "
        f"{cfg.turn.recheck_ms} ms, hard timeout {cfg.turn.max_silence_ms} ms, text rule "
        f"{'on' if cfg.turn.text_rule else 'off'}. Machine: "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, shared with "
        "other jobs: compare rows of this run. Every input replayed at 1x; settings alternate "
        "input by input. e2e = first reply sample out − end of the user's speech.",
        "",
        *_summary_table(rows),
        "",
        *_time_table(rows),
        "",
        "VAD compute per second of audio: " + ", ".join(
            f"{name} {ms:.1f} ms" for name, ms in vad_cost.items()) + ".",
        "",
        *([pace, ""] if pace else []),
        "![e2e vs cut-ins](turns.png)",
        "",
        "## Pause set (1.0 s silence inside an unfinished sentence)",
        "",
        *_pause_table(outcomes, names),
        "",
        *_early_table(outcomes, detector_names),
        "",
        "## Finished statements (real recordings that are not questions)",
        "",
        *_statement_table(rows),
        "",
        "## Noise set (the finished questions with noise under them)",
        "",
        *_noise_table(outcomes, names, detector_names[0] if detector_names else names[-1]),
    ]
    path = out / "report.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _e2e(outcomes: Sequence[Any]) -> list[float]:
    values = []
    for o in outcomes:
        e2e = [t.figures["e2e_latency"] for t in o.turns
               if t.status == "ok" and "e2e_latency" in t.figures]
        if e2e:
            values.append(e2e[-1])
    return values


def _median_of(outcomes: Sequence[Any], figure: str) -> float | None:
    values = [t.figures[figure] for o in outcomes for t in o.turns[-1:] if figure in t.figures]
    return statistics.median(values) if values else None


def _head_start(outcomes: Sequence[Any]) -> tuple[int, int]:
    """(replies started before the endpoint, replies) among the heard replies."""
    started = [t for o in outcomes for t in o.turns[-1:] if "playback_start" in t.marks]
    early = sum(1 for t in started if t.marks.get("llm_start", 0.0) < t.marks.get("endpoint", 0))
    return early, len(started)


def _wer(outcomes: Sequence[Any]) -> float | None:
    from voicebot.bench.asr import normalized_wer

    scores = [normalized_wer(o.reference, " ".join(t.user_text for t in o.turns))
              for o in outcomes if o.reference]
    return statistics.mean(scores) if scores else None


def _row(outcomes: Sequence[Any]) -> dict[str, Any]:
    by_kind = {k: [o for o in outcomes if o.kind == k]
               for k in ("pause", "clean", "noise", "statement")}
    calls = [ms for o in outcomes for ms in o.detector_ms]
    return {
        "by_kind": by_kind,
        "cut_ins": (sum(o.cut_in for o in by_kind["pause"]), len(by_kind["pause"])),
        "closed": sum(o.closed_in_pause for o in by_kind["pause"]),
        "pause_answered": sum(o.answered for o in by_kind["pause"]),
        "clean": _e2e(by_kind["clean"]),
        "noise": _e2e(by_kind["noise"]),
        "statement": _e2e(by_kind["statement"]),
        "statement_waits": _waits(by_kind["statement"]),
        "noise_answered": (sum(o.answered for o in by_kind["noise"]), len(by_kind["noise"])),
        "wer_clean": _wer(by_kind["clean"]),
        "wer_noise": _wer(by_kind["noise"]),
        "detector_ms": statistics.median(calls) if calls else None,
    }


def _waits(outcomes: Sequence[Any]) -> list[float]:
    """End-of-turn delays (speech end -> endpoint) of the turns that replied."""
    return [t.figures["end_of_turn_delay"] for o in outcomes for t in o.turns
            if "end_of_turn_delay" in t.figures and "e2e_latency" in t.figures]


def _statement_table(rows: dict[str, dict[str, Any]]) -> list[str]:
    lines = ["| setting | statements replied | e2e median / p90 (s) | end of turn median / "
             "p90 (s) | waits over 1 s |", "|---|---:|---:|---:|---:|"]
    for name, r in rows.items():
        total = len(r["by_kind"]["statement"])
        if not total:
            continue
        waits = r["statement_waits"]
        lines.append(f"| {name} | {len(r['statement'])} / {total} | {_s(r['statement'])} "
                     f"| {_s(waits)} | {sum(w > 1.0 for w in waits)} |")
    lines += ["", f"Target: e2e p90 ≤ {STATEMENT_P90_S:.1f} s on finished statements, with "
              "no more cut-ins on the pause set."]
    return lines


def _s(values: Sequence[float]) -> str:
    if not values:
        return "–"
    return f"{statistics.median(values):.2f} / {percentile(values, 90):.2f}"


def _summary_table(rows: dict[str, dict[str, Any]]) -> list[str]:
    lines = [
        "| setting | turn closed in the pause | cut-ins (reply audio before the resume) "
        "| e2e clean, median / p90 (s) | e2e in noise, median /"
        " p90 (s) | noise: replied | WER clean / noise | detector call (ms) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in rows.items():
        cut, n = r["cut_ins"]
        replied, total = r["noise_answered"]
        wer = (f"{r['wer_clean']:.0%} / {r['wer_noise']:.0%}"
               if r["wer_clean"] is not None and r["wer_noise"] is not None else
               f"{r['wer_clean']:.0%} / –" if r["wer_clean"] is not None else "–")
        det = f"{r['detector_ms']:.0f}" if r["detector_ms"] is not None else "–"
        closed = r["closed"]
        lines.append(
            f"| {name} | {f'{closed} / {n}' if n else '–'} "
            f"| {f'{cut} / {n}' if n else '–'} | {_s(r['clean'])} | {_s(r['noise'])} "
            f"| {f'{replied} / {total}' if total else '–'} | {wer} | {det} |")
    lines += ["", f"Targets: e2e median ≤ {TARGET_MEDIAN_S:.2f} s, p90 ≤ {TARGET_P90_S:.2f} s "
              "(clean questions); cut-ins ≤ 1 in 15; every noisy question replied."]
    return lines


def _time_table(rows: dict[str, dict[str, Any]]) -> list[str]:
    """Where the time goes on the clean questions: medians per stage."""
    figures = [("end_of_turn_delay", "end of turn"), ("transcription_delay", "final transcript"),
               ("llm_ttfs", "LLM first chunk"), ("tts_ttfb", "TTS first audio"),
               ("e2e_latency", "e2e")]
    lines = ["Where the time goes (clean questions, medians in s; a reply started in the pause "
             "overlaps the stages before it):", "",
             "| setting | " + " | ".join(label for _, label in figures) +
             " | reply started before the endpoint |",
             "|---|" + "---:|" * (len(figures) + 1)]
    for name, r in rows.items():
        clean = r["by_kind"]["clean"]
        cells = []
        for figure, _ in figures:
            value = _median_of(clean, figure)
            cells.append(f"{value:.3f}" if value is not None else "–")
        early, total = _head_start(clean)
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {early} / {total} |")
    return lines


def _pause_table(outcomes: Sequence[Any], names: Sequence[str]) -> list[str]:
    labels = list(dict.fromkeys(o.label for o in outcomes if o.kind == "pause"))
    lines = ["| utterance | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for label in labels:
        cells = []
        for name in names:
            found = [o for o in outcomes
                     if o.kind == "pause" and o.label == label and o.setting == name]
            cells.append(_pause_cell(found[0]) if found else "–")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def _pause_cell(o: Any) -> str:
    if o.cut_in:
        return "cut-in, in the speaker's own pause" if o.closed_early else "cut-in"
    return "closed in the pause, reply too late" if o.closed_in_pause else "held"


def _early_table(outcomes: Sequence[Any], names: Sequence[str]) -> list[str]:
    """Where and on what the detector settings closed a turn before the speaker resumed: in
    the inserted silence, or earlier, in a pause of the speaker's own."""
    closed = [o for o in outcomes if o.kind == "pause" and o.setting in names
              and o.closed_in_pause]
    lines = ["Turns the detector closed before the speaker resumed (a cut-in when the reply "
             "also started before it): in the inserted silence, or earlier, in a pause of the "
             "speaker's own, whose length is the VAD's silence there (the input alone, "
             "replayed through the VAD again).", ""]
    if not closed:
        return [*lines, "None."]
    lines += ["| setting | utterance | closed | the speaker's own pause (s) | heard at the close |"
              " cut-in |", "|---|---|---|---:|---|---|"]
    for o in closed:
        where = "before the inserted silence" if o.closed_early else "in the inserted silence"
        own = f"{o.own_pause_s:.2f}" if o.own_pause_s is not None else "–"
        heard = o.turns[0].user_text if o.turns else ""
        lines.append(f"| {o.setting} | {o.label} | {where} | {own} | {heard} "
                     f"| {'yes' if o.cut_in else 'no'} |")
    early = [o for o in closed if o.closed_early]
    pauses = [o.own_pause_s for o in early if o.own_pause_s is not None]
    lines += ["", f"{len(early)} of {len(closed)} closed in a pause of the speaker's own"
              + (f", {min(pauses):.2f}–{max(pauses):.2f} s long: holding such a pause costs "
                 "as much silence after every finished question, unless what was said shows "
                 "it is unfinished." if pauses else ".")]
    return lines


def _noise_table(outcomes: Sequence[Any], names: Sequence[str], heard_by: str) -> list[str]:
    """Each noisy question: its speech level over the noise, whether each setting replied,
    and what `heard_by` heard."""
    labels = list(dict.fromkeys(o.label for o in outcomes if o.kind == "noise"))
    lines = ["SNR: the question's active speech level (its speech frames only) over the "
             "noise's RMS. The noise is mixed at a fixed dBFS, so a quiet recording gets a low "
             "SNR.", "",
             "| input | SNR (dB) | " + " | ".join(names) + f" | heard ({heard_by}) |",
             "|---|---:|" + "---|" * len(names) + "---|"]
    for label in labels:
        found = {o.setting: o for o in outcomes if o.kind == "noise" and o.label == label}
        snrs = [o.snr_db for o in found.values() if o.snr_db is not None]
        snr = f"{snrs[0]:.1f}" if snrs else "–"
        cells = [("replied" if found[n].answered else "no reply") if n in found else "–"
                 for n in names]
        heard = " / ".join(t.user_text for t in found[heard_by].turns) \
            if heard_by in found else ""
        lines.append(f"| {label} | {snr} | " + " | ".join(cells) + f" | {heard} |")
    return lines


def _plot(rows: dict[str, dict[str, Any]], path: Path) -> Path:
    from voicebot.plots import _pyplot

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for k, (name, r) in enumerate(rows.items()):
        cut, n = r["cut_ins"]
        if not r["clean"] or not n:
            continue
        med, p90 = statistics.median(r["clean"]), percentile(r["clean"], 90)
        closed = r["closed"] / n
        bar = ax.errorbar([med], [closed], xerr=[[0], [p90 - med]], fmt="o", capsize=4,
                          label=f"{name}: turn closed in the pause")
        ax.plot([med], [cut / n], "x", color=bar[0].get_color(), label=f"{name}: cut-ins")
        ax.annotate(name, (med, closed), textcoords="offset points", xytext=(4, 6 + 9 * k),
                    fontsize=8)
    ax.axvline(TARGET_MEDIAN_S, color="#2e7d32", ls="--", lw=1, label="target e2e median")
    ax.axhline(TARGET_CUT_INS, color="#c62828", ls="--", lw=1, label="target cut-ins (1/15)")
    ax.set_xlabel("e2e latency on finished questions, median (bar to p90), s")
    ax.set_ylabel("share of the mid-sentence pauses")
    ax.set_ylim(-0.05, 1.2)
    ax.set_title("End of turn: latency vs cutting in (1x replay, one run)")
    ax.legend(fontsize=7, loc="center right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

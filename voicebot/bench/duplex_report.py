"""bench duplex's report: the figures against the full-duplex targets, a table per session,
and a PNG (barge-in reaction per line; e2e with the canceller vs half-duplex)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from voicebot.bench.asr import word_errors
from voicebot.bench.duplex_figures import (
    Session,
    backchannels,
    continued,
    cut_ins,
    line_texts,
    lines_over_reply,
    median,
    p90,
    reactions,
    self_interruptions,
    self_pauses,
)


def _e2e(sessions: list[Session], kind: str) -> list[float]:
    return [t.figures["e2e_latency"] for s in sessions if s.kind == kind
            for t in s.turns if t.status == "ok" and "e2e_latency" in t.figures]


def _wer(pairs: list[tuple[str, str]]) -> float | None:
    errors = words = 0
    for reference, heard in pairs:
        e, n = word_errors(reference, heard)
        errors, words = errors + e, words + n
    return errors / words if words else None


def said_alone(sessions: list[Session]) -> dict[str, str]:
    """Line label -> what the bot heard of it in a duplex session (no reply playing)."""
    alone: dict[str, str] = {}
    for s in sessions:
        if s.kind == "duplex":
            alone.update(line_texts(s))
    return alone


def double_talk(sessions: list[Session]) -> tuple[float | None, float | None, int]:
    """(WER of the barged-in lines, WER of the same lines said alone, lines compared)."""
    alone = said_alone(sessions)
    over, clean = [], []
    for s in sessions:
        if s.kind != "barge-in":
            continue
        for label, reference, heard in lines_over_reply(s):
            if label in alone:
                over.append((reference, heard))
                clean.append((reference, alone[label]))
    return _wer(over), _wer(clean), len(over)


def _double_talk_lines(sessions: list[Session]) -> list[str]:
    """Each line said into a reply, as heard there and alone (the double-talk row's terms),
    and the echo recordings kept of sessions where a line lost more than half its words."""
    alone = said_alone(sessions)
    rows = ["", "## Lines said over a reply (double talk)", "",
            "| # | line | heard over the reply | errors | heard alone | errors |",
            "|---|---|---|---:|---|---:|"]
    for i, s in enumerate(sessions, start=1):
        if s.kind != "barge-in":
            continue
        for label, reference, over in lines_over_reply(s):
            clean = alone.get(label)
            rows.append(f"| {i} | {label} | {over} | {word_errors(reference, over)[0]} | "
                        + ("(not said alone) | |" if clean is None else
                           f"{clean} | {word_errors(reference, clean)[0]} |"))
    kept = [s.recording for s in sessions if s.recording]
    if kept:
        rows += ["", "Echo recordings kept (a line with over half its words wrong; 4 "
                 "channels: microphone, what the speaker played, what the VAD heard, what "
                 "the recognizer heard): " + ", ".join(f"`{k}`" for k in kept)]
    return rows


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 1000:.0f} ms"


def write_report(sessions: list[Session], out: Path) -> Path:
    duplex = [s for s in sessions if s.kind == "duplex"]
    replies_0db = sum(1 for s in duplex if s.room and s.room[0] == 0.0
                      for t in s.turns if "playback_start" in t.marks)
    selfs = {id(s): self_interruptions(s) for s in duplex}
    selfs_0db = sum(len(selfs[id(s)]) for s in duplex if s.room and s.room[0] == 0.0)
    reacts = [r for s in sessions if s.kind == "barge-in" for r in reactions(s)]
    stopped = [r for r in reacts if r is not None]
    # ERLE on echo alone: sessions where no line went on over a reply (a cut-in's voice
    # is not echo, and the canceller rightly keeps it)
    echo_only = [s for s in duplex if not cut_ins(s)]
    echo_in = sum(s.echo.get("echo_in", 0.0) for s in echo_only)
    echo_out = sum(s.echo.get("echo_out", 0.0) for s in echo_only)
    erle = 10 * math.log10(echo_in / echo_out) if echo_out > 0 else None
    cpu = sum(s.echo.get("cpu_s", 0.0) for s in sessions)
    audio = sum(s.echo.get("audio_s", 0.0) for s in sessions)
    over, clean, compared = double_talk(sessions)
    on, off = _e2e(sessions, "duplex"), _e2e(sessions, "half-duplex")
    outside_on = [e for s in sessions if s.kind == "duplex" for e in s.outside_e2e]
    outside_off = [e for s in sessions if s.kind == "half-duplex" for e in s.outside_e2e]
    channels = [b for s in sessions if s.kind == "backchannel" for b in backchannels(s)]
    over_reply = [fate for _, fate in channels if not fate.startswith("reply over")]
    resumed = sum(1 for fate in over_reply if not fate.startswith("cut"))
    cuts = [c for s in duplex for c in cut_ins(s)]
    recovered = [after for ok, after in cuts if ok]
    pauses = [p.paused_s for s in sessions if s.kind == "backchannel" for t in s.turns
              for p in t.pauses]
    lines = [
        "# Full duplex in a simulated room",
        "",
        "Command: `voicebot bench duplex` (default config; real recorded lines from "
        "../shared/speech/dev said by a simulated user at 1x; the bot's voice fed back into "
        "the microphone through an echo path; WebRTC AEC3, voicebot/audio/echo.py).",
        "",
        "| figure | value | target |",
        "|---|---|---|",
        f"| self-interruptions, 0 dB echo path | {selfs_0db} in {replies_0db} replies | "
        "0 in 20 |",
        f"| self-interruptions, all rooms | {sum(len(v) for v in selfs.values())} | 0 |",
        f"| cut-ins (a reply begun before the user's line went on after a pause) | "
        f"{len(cuts)}: {len(recovered)} recovered (dropped, the whole line answered once; "
        f"the reply silent {', '.join(_ms(r) for r in recovered) or 'n/a'} after the "
        "continuation began) | every cut-in recovered |",
        f"| barge-in reaction, median / p90 | {_ms(median(stopped))} / {_ms(p90(stopped))} "
        f"({len(stopped)} of {len(reacts)} replies still playing stopped) | "
        "<= 250 / 400 ms |",
        f"| ERLE of AEC3 once it has learned the room ({len(echo_only)} duplex sessions "
        "without a cut-in) | "
        + (f"{erle:.1f} dB" if erle is not None else "n/a") + " | >= 25 dB |",
        f"| double-talk WER vs the same lines alone ({compared} lines) | "
        + (f"{over:.1%} vs {clean:.1%}" if over is not None and clean is not None
           else "n/a") + " | <= 2x |",
        f"| canceller cost | {1000 * cpu / audio:.1f} ms CPU per s of audio "
        f"({100 * cpu / audio:.1f} % of a core) | <= 5 % |" if audio else
        "| canceller cost | n/a | <= 5 % |",
        f"| e2e median, duplex vs half-duplex (alternating sessions) | "
        f"{_ms(median(on))} vs {_ms(median(off))} ({len(on)} / {len(off)} turns) | unchanged |",
        f"| e2e median measured from outside (the user's line and the reply audio), duplex vs "
        f"half-duplex | {_ms(median(outside_on))} vs {_ms(median(outside_off))} "
        f"({len(outside_on)} / {len(outside_off)} turns) | unchanged |",
        f"| self-pauses (the reply paused for its own voice, duplex sessions) | "
        f"{sum(self_pauses(s) for s in duplex)} | 0 |",
        f"| backchannels said over a reply after which it went on (resumed, or never "
        f"paused) | {resumed} of {len(over_reply)} (pause median {_ms(median(pauses))}) "
        "| >= 4 of 5 |",
        f"| barge-ins that continued the user's turn (said within continue_within_s) | "
        f"{sum(continued(s) for s in sessions if s.kind == 'barge-in')} | |",
        "",
        "## Sessions",
        "",
        "| # | kind | room | turns (status) | self-interruptions | reactions, backchannels "
        "| gated |",
        "|---|---|---|---|---|---|---|",
    ]
    for i, s in enumerate(sessions, start=1):
        room = f"{s.room[0]:+.0f} dB, {s.room[1]:.0f} ms" if s.room else "none (muted)"
        statuses = ", ".join(t.status for t in s.turns)
        found = "; ".join(selfs.get(id(s), [])) or ("0" if s.kind == "duplex" else "")
        react = ", ".join(_ms(r) if r is not None else "not stopped"
                          for r in reactions(s)) if s.kind == "barge-in" else \
            "; ".join(f"{said} {fate}" for said, fate in backchannels(s))
        gated = f"{s.echo['gated_s']:.1f} s" if s.echo else ""
        lines.append(f"| {i} | {s.kind} | {room} | {statuses} | {found} | {react} | {gated} |")
    lines += _double_talk_lines(sessions)
    plot = _plot(sessions, on, off, out / "duplex.png")
    lines += ["", f"![duplex]({plot.name})", ""]
    report = out / "report.md"
    report.write_text("\n".join(lines), encoding="utf-8")
    with (out / "sessions.jsonl").open("w", encoding="utf-8") as f:
        for s in sessions:
            f.write(json.dumps({"kind": s.kind, "room": s.room, "labels": s.labels,
                                "into": s.into, "onsets": s.onsets, "ends": s.ends,
                                "outside_e2e": s.outside_e2e, "echo": s.echo,
                                "recording": s.recording,
                                "turns": [t.to_json() for t in s.turns]}) + "\n")
    return report


def _plot(sessions: list[Session], on: list[float], off: list[float], path: Path) -> Path:
    from voicebot.plots import _pyplot

    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    reacts = [r for s in sessions if s.kind == "barge-in" for r in reactions(s)]
    shown = [r * 1000 if r is not None else np.nan for r in reacts]
    left.bar(range(1, len(shown) + 1), np.nan_to_num(shown, nan=0.0), color="#1565c0")
    for i, r in enumerate(reacts, start=1):
        if r is None:
            left.text(i, 10, "not\nstopped", ha="center", fontsize=8, color="#c62828")
    left.axhline(250, color="#2e7d32", linestyle="--", label="median target 250 ms")
    left.axhline(400, color="#c62828", linestyle=":", label="p90 target 400 ms")
    left.set_xlabel("barge-in")
    left.set_ylabel("user's onset → reply silent (ms)")
    left.set_title("Barge-in reaction, measured on the reply audio")
    left.legend(fontsize=8)
    bins = np.linspace(0, max([*on, *off, 1.5]), 20)
    right.hist([on, off], bins=bins, label=["duplex (canceller)", "half-duplex (muted)"],
               color=["#1565c0", "#9e9e9e"])
    right.set_xlabel("e2e latency (s)")
    right.set_ylabel("turns")
    right.set_title("Quiet turns: e2e with and without the canceller")
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

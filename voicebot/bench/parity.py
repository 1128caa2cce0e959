"""`voicebot bench parity`: `voicebot serve` with one client against `voicebot talk`, same
config, same inputs, alternating input by input, both at 1x.

Both build their conversation with the one builder (voicebot/assembly.py), so a browser
user should get the turns a terminal user gets. Inputs: `bench turns`' pause set (real
utterances with a 1.0 s pause inside an unfinished sentence: a cut-in is reply audio that
starts before the speaker resumes) and `bench talk`'s questions (e2e latency). The talk side
replays the input through talk's conversation into a time-aligned WAV sink; the serve side
streams it to an in-process server over a loopback WebSocket, as the browser page does.
Both sides' figures come from their own turn records (the same code), and the serve side's
e2e also from the client's clock (network and queueing included).
"""

from __future__ import annotations

import argparse
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from voicebot.bench.speech_set import DEFAULT_SPEECH_DIR
from voicebot.bench.turns import AFTER_RESUME_S, LEAD_S

if TYPE_CHECKING:
    from voicebot.config import Config
    from voicebot.engines import Engines

HELP = "serve (one client) vs talk: cut-ins on the pause set and e2e, same run, at 1x"
SIDES = ("talk", "serve")


@dataclass(frozen=True)
class Input:
    kind: str  # pause | question
    label: str
    audio: np.ndarray  # 16 kHz mono, starting with LEAD_S of silence
    resume_at: float | None = None  # pause set: where speech resumes, in `audio`'s time


@dataclass
class Outcome:
    side: str
    kind: str
    label: str
    turns: list[dict[str, Any]] = field(default_factory=list)  # TurnRecord.to_json()
    client_e2e: float | None = None
    resume_at: float | None = None

    @property
    def reply_start(self) -> float | None:
        """When the first reply began to play, in the input's time."""
        starts = [t["marks"]["playback_start"] for t in self.turns
                  if "playback_start" in t.get("marks", {})]
        return min(starts) if starts else None

    @property
    def cut_in(self) -> bool:
        start = self.reply_start
        return self.resume_at is not None and start is not None and start < self.resume_at

    @property
    def flagged(self) -> bool:
        """The program itself said a reply played over the user's speech (`overlapped`)."""
        return any(t.get("overlapped") for t in self.turns)

    @property
    def e2e(self) -> float | None:
        values = [t["figures"]["e2e_latency"] for t in self.turns
                  if "e2e_latency" in t.get("figures", {})]
        return values[0] if values else None


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="YAML config (default: configs/default.yaml)")
    parser.add_argument("--out", type=Path, default=Path("bench-out/parity"),
                        help="folder for report.md and outcomes.jsonl")
    parser.add_argument("--speech-dir", type=Path, default=DEFAULT_SPEECH_DIR,
                        help="real speech with manifest.tsv (the pause set is made from it)")
    parser.add_argument("--pauses", type=int, default=10, help="paused utterances (default 10)")
    parser.add_argument("--questions", type=int, default=6,
                        help="synthesized questions for e2e (default 6)")


def run(args: argparse.Namespace) -> int:
    from voicebot.config import load_config
    from voicebot.engines import load_engines, share
    from voicebot.progress import say
    from voicebot.serve.background import BackgroundServer

    cfg = load_config(args.config)
    engines = load_engines(cfg)
    inputs = _inputs(args, cfg, engines)
    # the server's view of the same models; one VAD, reset per conversation, serves both
    # sides because they never run at once
    served = share(engines.asr, engines.llm, engines.tts, engines.turn, engines.new_vad)
    outcomes: list[Outcome] = []
    with BackgroundServer(served, cfg) as server:
        for n, item in enumerate(inputs, start=1):
            for side in SIDES if n % 2 else reversed(SIDES):  # alternate who goes first
                outcome = (_talk(item, engines, cfg) if side == "talk"
                           else _serve(item, server.url))
                outcomes.append(outcome)
                say(f"[{n}/{len(inputs)}] {side}: {item.label}: {_summary(outcome)}")
    args.out.mkdir(parents=True, exist_ok=True)
    report = write_report(outcomes, cfg, args.out)
    say(f"Report: {report}")
    return 0


def _inputs(args: argparse.Namespace, cfg: Config, engines: Engines) -> list[Input]:
    from voicebot.bench.talk import synthesized_turns
    from voicebot.bench.turn_sets import paused_set
    from voicebot.bench.turns_rig import set_builder

    rate = cfg.audio.sample_rate
    lead = np.zeros(round(LEAD_S * rate), np.float32)
    inputs = [Input("pause", p.label,
                    np.concatenate([lead, p.audio[: round((p.resume_at + AFTER_RESUME_S) * rate)]]),
                    LEAD_S + p.resume_at)
              for p in paused_set(args.speech_dir, set_builder(), rate, args.pauses)]
    inputs += [Input("question", q.label, np.concatenate([lead, q.audio]))
               for q in synthesized_turns(engines.tts, cfg, args.questions)]
    return inputs


def _tail_s(cfg: Config) -> float:
    return max(cfg.endpoint.end_ms, cfg.turn.max_silence_ms) / 1000.0 + 1.0


def _talk(item: Input, engines: Engines, cfg: Config) -> Outcome:
    from voicebot.bench.talk import replay

    turns, _, _ = replay(item.audio, "streaming", engines, cfg, _tail_s(cfg))
    return Outcome("talk", item.kind, item.label, [t.to_json() for t in turns],
                   resume_at=item.resume_at)


def _serve(item: Input, url: str) -> Outcome:
    from voicebot.serve.client import speech_end, talk_once

    received, t0 = talk_once(url, item.audio, tail_silence_s=3.0)
    turns = [{k: v for k, v in e.items() if k != "type"} for e in received.of_type("turn")]
    outcome = Outcome("serve", item.kind, item.label, turns, resume_at=item.resume_at)
    spoken_end = t0 + speech_end(item.audio)
    first = received.first_audio_after(spoken_end)
    if item.kind == "question" and first is not None:
        outcome.client_e2e = first - spoken_end
    return outcome


def _summary(outcome: Outcome) -> str:
    parts = [f"{len(outcome.turns)} turn(s)"]
    if outcome.e2e is not None:
        parts.append(f"e2e {outcome.e2e:.3f} s")
    if outcome.resume_at is not None:
        parts.append("CUT-IN" if outcome.cut_in else "no cut-in")
    if outcome.flagged:
        parts.append("flagged overlapped")
    return ", ".join(parts)


def side_figures(outcomes: list[Outcome], side: str) -> dict[str, float | int | None]:
    mine = [o for o in outcomes if o.side == side]
    e2e = [o.e2e for o in mine if o.kind == "question" and o.e2e is not None]
    client = [o.client_e2e for o in mine if o.client_e2e is not None]
    return {
        "cut_ins": sum(o.cut_in for o in mine if o.kind == "pause"),
        "cut_ins_flagged": sum(o.cut_in and o.flagged for o in mine if o.kind == "pause"),
        "flagged_clean": sum(o.flagged and not o.cut_in for o in mine),
        "pauses": sum(o.kind == "pause" for o in mine),
        "answered": sum(bool(o.turns) for o in mine if o.kind == "question"),
        "questions": sum(o.kind == "question" for o in mine),
        "e2e_median": statistics.median(e2e) if e2e else None,
        "client_e2e_median": statistics.median(client) if client else None,
    }


def write_report(outcomes: list[Outcome], cfg: Config, out: Path) -> Path:
    import json

    with (out / "outcomes.jsonl").open("w", encoding="utf-8") as f:
        for o in outcomes:
            f.write(json.dumps({"side": o.side, "kind": o.kind, "label": o.label,
                                "cut_in": o.cut_in, "flagged": o.flagged, "e2e": o.e2e,
                                "client_e2e": o.client_e2e,
                                "turns": o.turns}) + "\n")
    talk, serve = side_figures(outcomes, "talk"), side_figures(outcomes, "serve")
    lines = [f"# serve (one client) vs talk: {cfg.source}", "",
             "Same inputs, alternating input by input, both at 1x. Cut-in: reply audio "
             "before the speaker resumes after a 1.0 s mid-sentence pause.", "",
             "| | talk | serve |", "|---|---|---|",
             f"| cut-ins on the pause set | {talk['cut_ins']}/{talk['pauses']} "
             f"| {serve['cut_ins']}/{serve['pauses']} |",
             f"| of those, flagged by the program (`overlapped`) | {talk['cut_ins_flagged']} "
             f"| {serve['cut_ins_flagged']} |",
             f"| flagged without a cut-in | {talk['flagged_clean']} | {serve['flagged_clean']} |",
             f"| questions answered | {talk['answered']}/{talk['questions']} "
             f"| {serve['answered']}/{serve['questions']} |",
             f"| e2e median (turn record) | {_s(talk['e2e_median'])} "
             f"| {_s(serve['e2e_median'])} |",
             f"| e2e median (client's clock) | | {_s(serve['client_e2e_median'])} |"]
    ratio = _ratio(serve["e2e_median"], talk["e2e_median"])
    if ratio is not None:
        lines += ["", f"serve / talk e2e median: {ratio:.2f}x (target ≤ 1.15x); cut-ins "
                  f"differ by {abs(int(serve['cut_ins'] or 0) - int(talk['cut_ins'] or 0))} "
                  "(target ≤ 1)."]
    lines += ["", "| input | talk | serve |", "|---|---|---|"]
    by_label: dict[str, dict[str, Outcome]] = {}
    for o in outcomes:
        by_label.setdefault(o.label, {})[o.side] = o
    for label, sides in by_label.items():
        lines.append(f"| {label} | {_cell(sides.get('talk'))} | {_cell(sides.get('serve'))} |")
    report = out / "report.md"
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return report


def _s(value: float | int | None) -> str:
    return "–" if value is None else f"{float(value):.3f} s"


def _ratio(a: float | int | None, b: float | int | None) -> float | None:
    return float(a) / float(b) if a is not None and b else None


def _cell(outcome: Outcome | None) -> str:
    return "–" if outcome is None else _summary(outcome)

"""`voicebot bench soak --turns N`: a long conversation with a patient user.

Spoken questions (the configured TTS, a pool of varied questions) are replayed as a live
microphone would deliver them, into the conversation users run (the one builder, the
default config, the turn detector, a session log); each is asked once the previous reply
has played, after a short gap. Reported: turns answered vs asked, speech dropped while the
microphone was muted, LLM time to first token by turn index (does a long history slow it
down?), and resident memory per turn, with probes at chosen turns that say where it went
(bench/memory.py). Targets (issue 23): every turn answered, TTFT of the last 10 turns within
1.5x of turns 3-7, RSS growth from turn 10 to the end within 50 MB.

`--speed K` replays the session K times faster than real time (soak mode only): the whole
conversation runs on a clock K times fast, so the audio, the pauses and the playback shrink
while the compute does not. Memory and the TTFT ratio stay meaningful; TTFT is reported in
real seconds, and the report says the speed.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voicebot.bench.memory import MemoryProbe, MemoryWatch, rss_mb
from voicebot.view import QuietView

if TYPE_CHECKING:
    from voicebot.config import Config
    from voicebot.engines import Engines
    from voicebot.pipeline import Conversation

HELP = "long-session soak: turns answered, TTFT by turn index, where memory goes"

QUESTIONS = (
    "What is the capital of France?",
    "How many legs does a spider have?",
    "Why is the sky blue?",
    "What is the tallest mountain in the world?",
    "Who wrote Romeo and Juliet?",
    "How far away is the moon?",
    "What do bees make?",
    "What is the boiling point of water?",
    "Which planet is closest to the sun?",
    "How many days are in a leap year?",
    "What language is spoken in Brazil?",
    "What is the largest ocean?",
    "Name a fruit that is yellow.",
    "What is two plus three?",
    "What color are most leaves in summer?",
    "How many hours are in a day?",
)


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="YAML config (default: configs/default.yaml)")
    parser.add_argument("--turns", type=int, default=200, help="questions to ask (default 200)")
    parser.add_argument("--gap", type=float, default=1.5,
                        help="seconds the user waits after a reply before the next question")
    parser.add_argument("--warmup", type=int, default=10,
                        help="turns before RSS growth is measured (default 10)")
    parser.add_argument("--speed", type=float, default=1.0,
                        help="replay K times faster than real time (soak mode only; "
                        "default 1)")
    parser.add_argument("--probe-at", default="10,50,100,200",
                        help="turns at which to say where memory went (default 10,50,100,200;"
                        " the first starts tracing Python allocations)")
    parser.add_argument("--no-trace-python", action="store_true",
                        help="leave tracemalloc off (its bookkeeping costs memory and time)")
    parser.add_argument("--llm-only", action="store_true",
                        help="typed turns through the LLM only: TTFT by turn index with the "
                        "history trimmed one turn at a time vs in blocks")
    parser.add_argument("--chat", action="store_true",
                        help="typed questions into one `voicebot chat -o` child process "
                        "instead (the factual set in turn), its RSS read from outside after "
                        "each reply")
    parser.add_argument("--out", type=Path, default=Path("bench-out/soak"),
                        help="folder for report.md, soak.png and turns.jsonl")


@dataclass
class SoakView(QuietView):
    """Records memory at every turn end, and a probe at the chosen turns; prints one
    progress line per turn. Latencies are turned back into real seconds (`speed`)."""

    began: float
    watch: MemoryWatch
    probe_at: frozenset[int] = frozenset()
    speed: float = 1.0
    rows: list[dict[str, Any]] = field(default_factory=list)

    def turn_done(self, turn: Any) -> None:
        import time

        from voicebot.progress import say

        if turn.index in self.probe_at:
            if not self.watch.probes:
                self.watch.start()
            probe = self.watch.probe(f"turn {turn.index}")
            say(f"memory at turn {turn.index}: {describe(probe)}")
        rss = rss_mb()
        ttft, e2e = (_real(turn.figures.get(k), self.speed) for k in ("llm_ttft", "e2e_latency"))
        self.rows.append({"turn": turn.index, "status": turn.status, "ttft": ttft, "e2e": e2e,
                          "rss_mb": rss, "t": time.monotonic() - self.began,
                          "muted_speech_s": turn.muted_speech_s / self.speed})
        ttft_s = f"{ttft * 1000:.0f} ms" if ttft is not None else "—"
        say(f"turn {turn.index} {turn.status}: ttft {ttft_s}, rss {rss:.0f} MB"
            + (f" ({turn.error})" if turn.error else ""))


def _real(seconds: float | None, speed: float) -> float | None:
    return None if seconds is None else seconds / speed


def describe(probe: MemoryProbe) -> str:
    parts = [f"rss {probe.rss_mb:.0f} MB"]
    if probe.heap is not None:
        parts.append(f"C heap {probe.heap.in_arenas_mb:.0f} MB in arenas + "
                     f"{probe.heap.mmapped_mb:.0f} MB mmapped, "
                     f"{probe.heap.free_held_mb:.0f} MB free but held")
    if probe.threads is not None:
        parts.append(f"{probe.threads} threads, {probe.fds} open files")
    if probe.python_mb is not None:
        parts.append(f"Python {probe.python_mb:.0f} MB")
    return ", ".join(parts)


def run(args: argparse.Namespace) -> int:
    import time

    from voicebot.bench.soak_report import write_report
    from voicebot.config import load_config
    from voicebot.errors import VoicebotError
    from voicebot.progress import say

    if args.turns < 1:
        raise VoicebotError("--turns must be at least 1")
    if not 0.1 <= args.speed <= 20:
        raise VoicebotError(f"--speed must be between 0.1 and 20, got {args.speed:g}")
    probe_at = _turns(args.probe_at)
    cfg = load_config(args.config)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.chat:
        return _run_chat(args)
    if args.llm_only:
        from voicebot.bench.soak_llm import run_llm_only

        questions = [QUESTIONS[i % len(QUESTIONS)] for i in range(args.turns)]
        from voicebot.loading import load_llm

        say(f"Report: {run_llm_only(load_llm(cfg), cfg, questions, args.out)}")
        return 0
    from voicebot.audio.wav_sink import WavSink
    from voicebot.engines import load_engines

    engines = load_engines(cfg)
    view = SoakView(time.monotonic(), MemoryWatch(not args.no_trace_python), probe_at,
                    args.speed)
    say(f"Soak: {args.turns} questions at {args.speed:g}x real time, {args.gap:g} s after "
        "each reply…")
    conversation, source = _conversation(cfg, engines, view, args)
    try:
        conversation.run(source, WavSink(None, engines.reply_sample_rate, keep=False))
    except KeyboardInterrupt:
        say("Stopped: reporting the turns so far")
    with (args.out / "turns.jsonl").open("w", encoding="utf-8") as f:
        for turn in conversation.turns:
            f.write(json.dumps(turn.to_json(), ensure_ascii=False) + "\n")
    with (args.out / "memory.jsonl").open("w", encoding="utf-8") as f:
        for probe in view.watch.probes:
            f.write(json.dumps(probe.to_json(), ensure_ascii=False) + "\n")
    report = write_report(view.rows, view.watch.probes, source.asked, source.gave_up, cfg,
                          args)
    say(f"Report: {report}")
    return 0


def _run_chat(args: argparse.Namespace) -> int:
    from voicebot.bench.facts_new import NEW_FACTS
    from voicebot.bench.soak_chat import chat_report_lines, run_chat_soak
    from voicebot.progress import say

    pool = [fact.question for fact in NEW_FACTS]
    questions = [pool[i % len(pool)] for i in range(args.turns)]
    say(f"Chat soak: {len(questions)} typed questions into one voicebot chat…")
    replies = run_chat_soak(args.config, questions, args.out)
    report = args.out / "report.md"
    report.write_text("\n".join(chat_report_lines(replies, args.out)), encoding="utf-8")
    say(f"Report: {report}")
    return 0 if replies and all(r.status == "ok" for r in replies) else 1


def _conversation(cfg: Config, engines: Engines, view: SoakView,
                  args: argparse.Namespace) -> tuple[Conversation, Any]:
    """The conversation users run (the builder's, no overrides) and a patient user."""
    import numpy as np

    from voicebot.assembly import build_conversation
    from voicebot.audio.resample import resample
    from voicebot.bench.soak_source import PatientUserSource
    from voicebot.clock import ScaledClock
    from voicebot.metrics import SessionLog

    rate = cfg.audio.sample_rate
    tts = engines.tts
    spoken = [resample(np.concatenate(list(tts.synthesize(q))), tts.sample_rate, rate)
              for q in QUESTIONS]
    questions = [spoken[i % len(spoken)] for i in range(args.turns)]
    log = SessionLog(args.out / "session.jsonl", {"config": str(cfg.source), "input": "soak"})
    log.path.write_text("")  # one session per run
    conversation = build_conversation(cfg, engines, clock=ScaledClock(args.speed), view=view,
                                      log=log)
    source = PatientUserSource(questions, rate, rate * cfg.audio.frame_ms // 1000,
                               lambda: len(conversation.turns), gap_s=args.gap,
                               give_up_s=90.0 * args.speed)  # 90 s of real time
    return conversation, source


def _turns(text: str) -> frozenset[int]:
    from voicebot.errors import VoicebotError

    try:
        turns = frozenset(int(t) for t in text.split(",") if t.strip())
    except ValueError:
        turns = frozenset({0})
    if not turns or min(turns) < 1:
        raise VoicebotError(f"--probe-at takes turn numbers like 10,50,100,200, got {text!r}")
    return turns

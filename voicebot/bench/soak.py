"""`voicebot bench soak --turns N`: a long conversation with a patient user, at 1x.

Spoken questions (the configured TTS, a pool of varied questions) are replayed as a live
microphone would deliver them; each is asked once the previous reply has played, after a
short gap. Reported: turns answered vs asked, speech dropped while the microphone was muted,
LLM time to first token by turn index (does a long history slow it down?), and resident
memory over time (does anything leak?). Targets (issue 10): every turn answered, TTFT at the
last turns within 1.5x of turn 5, RSS growth after warm-up within 50 MB.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voicebot.view import QuietView

if TYPE_CHECKING:
    from voicebot.config import Config
    from voicebot.engines import Engines
    from voicebot.pipeline import Conversation

HELP = "long-session soak: turns answered, TTFT by turn index, memory over time, at 1x"

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
    parser.add_argument("--llm-only", action="store_true",
                        help="typed turns through the LLM only: TTFT by turn index with the "
                        "history trimmed one turn at a time vs in blocks")
    parser.add_argument("--out", type=Path, default=Path("bench-out/soak"),
                        help="folder for report.md, soak.png and turns.jsonl")


@dataclass
class SoakView(QuietView):
    """Records memory at every turn end; prints one progress line per turn."""

    began: float
    rows: list[dict[str, Any]] = field(default_factory=list)

    def turn_done(self, turn: Any) -> None:
        import time

        from voicebot.progress import say

        rss = rss_mb()
        ttft = turn.figures.get("llm_ttft")
        self.rows.append({"turn": turn.index, "status": turn.status, "ttft": ttft,
                          "e2e": turn.figures.get("e2e_latency"), "rss_mb": rss,
                          "t": time.monotonic() - self.began,
                          "muted_speech_s": turn.muted_speech_s})
        ttft_s = f"{ttft * 1000:.0f} ms" if ttft is not None else "—"
        say(f"turn {turn.index} {turn.status}: ttft {ttft_s}, rss {rss:.0f} MB"
            + (f" ({turn.error})" if turn.error else ""))


def rss_mb() -> float:
    """Resident memory of this process now, in MB (Linux /proc; else the peak)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def run(args: argparse.Namespace) -> int:
    import time

    from voicebot.bench.soak_report import write_report
    from voicebot.config import load_config
    from voicebot.errors import VoicebotError
    from voicebot.progress import say

    if args.turns < 1:
        raise VoicebotError("--turns must be at least 1")
    cfg = load_config(args.config)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.llm_only:
        from voicebot.bench.soak_llm import run_llm_only

        questions = [QUESTIONS[i % len(QUESTIONS)] for i in range(args.turns)]
        from voicebot.loading import load_llm

        say(f"Report: {run_llm_only(load_llm(cfg), cfg, questions, args.out)}")
        return 0
    from voicebot.audio.sinks import WavSink
    from voicebot.engines import load_engines

    engines = load_engines(cfg)
    view = SoakView(time.monotonic())
    say(f"Soak: {args.turns} questions at 1x, {args.gap:g} s after each reply…")
    conversation, source = _conversation(cfg, engines, view, args)
    try:
        conversation.run(source, WavSink(None, sample_rate=engines.reply_sample_rate))
    except KeyboardInterrupt:
        say("Stopped: reporting the turns so far")
    with (args.out / "turns.jsonl").open("w", encoding="utf-8") as f:
        for turn in conversation.turns:
            f.write(json.dumps(turn.to_json(), ensure_ascii=False) + "\n")
    report = write_report(view.rows, source.asked, source.gave_up, cfg, args)
    say(f"Report: {report}")
    return 0


def _conversation(cfg: Config, engines: Engines, view: SoakView,
                  args: argparse.Namespace) -> tuple[Conversation, Any]:
    """The conversation users run (the builder's, no overrides) and a patient user."""
    import numpy as np

    from voicebot.assembly import build_conversation
    from voicebot.audio.resample import resample
    from voicebot.bench.soak_source import PatientUserSource
    from voicebot.clock import MonotonicClock

    rate = cfg.audio.sample_rate
    tts = engines.tts
    spoken = [resample(np.concatenate(list(tts.synthesize(q))), tts.sample_rate, rate)
              for q in QUESTIONS]
    questions = [spoken[i % len(spoken)] for i in range(args.turns)]
    conversation = build_conversation(cfg, engines, clock=MonotonicClock(), view=view)
    source = PatientUserSource(questions, rate, rate * cfg.audio.frame_ms // 1000,
                               lambda: len(conversation.turns), gap_s=args.gap)
    return conversation, source

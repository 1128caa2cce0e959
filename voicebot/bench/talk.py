"""`voicebot bench talk`: the streaming pipeline vs a naive sequential cascade, same models,
same spoken turns, same run, both replayed at real time (1x)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from voicebot.bench.load import busy_processes, load_levels
from voicebot.bench.speech_set import DEFAULT_SPEECH_DIR, has_manifest, read_manifest
from voicebot.bench.talk_report import mode_label

if TYPE_CHECKING:
    from voicebot.audio.sources import WavReplaySource
    from voicebot.audio.wav_sink import WavSink
    from voicebot.config import Config
    from voicebot.engines import Engines
    from voicebot.metrics import TurnRecord
    from voicebot.pipeline import Conversation

HELP = "end-to-end latency: streaming pipeline vs naive cascade on spoken turns at 1x"

QUESTIONS = (
    "What is the capital of France?",
    "How many legs does a spider have?",
    "Why is the sky blue?",
    "Can you recommend a good book to read?",
    "What should I cook for dinner tonight?",
    "Tell me a fun fact about octopuses.",
)
LEAD_SILENCE_S = 0.5


@dataclass(frozen=True)
class SpokenTurn:
    label: str
    audio: np.ndarray  # mono float32 at the config's sample rate


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="YAML config (default: configs/default.yaml)")
    parser.add_argument("--out", type=Path, default=Path("bench-out/talk"),
                        help="folder for report.md, the PNGs and turns.jsonl")
    parser.add_argument("--speech-dir", type=Path, default=DEFAULT_SPEECH_DIR,
                        help="real speech with manifest.tsv (skipped when absent)")
    parser.add_argument("--real", type=int, default=4,
                        help="how many of the shortest real recordings to add (default 4)")
    parser.add_argument("--questions", type=int, default=len(QUESTIONS),
                        help=f"how many synthesized questions (max {len(QUESTIONS)})")
    parser.add_argument("--no-naive", action="store_true", help="skip the naive cascade")
    parser.add_argument("--compare", type=Path, metavar="CONFIG",
                        help="also run the streaming turns with this config (e.g. "
                        "configs/fast.yaml), alternating turn by turn in the quiet round")
    parser.add_argument(
        "--background-load", type=_levels, default=[0], metavar="N[,N...]",
        help="run the streaming turns again beside N busy processes (normal priority), "
        "e.g. 0,1,2: quiet, one busy core, two; the naive cascade runs only in the first round",
    )


def run(args: argparse.Namespace) -> int:
    from voicebot.bench.pace import PaceProbe
    from voicebot.bench.talk_report import write_report
    from voicebot.config import load_config
    from voicebot.engines import load_engines
    from voicebot.progress import say

    cfg = load_config(args.config)
    engines = load_engines(cfg)
    setups = {"streaming": (engines, cfg), "naive": (engines, cfg)}
    if args.compare is not None:
        compare_cfg = load_config(args.compare)
        setups[compare_label(compare_cfg)] = (load_engines(compare_cfg), compare_cfg)
    turns = synthesized_turns(engines.tts, cfg, args.questions)
    turns += real_turns(args.speech_dir, cfg.audio.sample_rate, args.real)
    pace = PaceProbe(engines.asr, engines.new_vad(), turns[0].audio, turns[0].label,
                     cfg.audio.sample_rate) if turns else None
    results: dict[str, list[Any]] = {}
    for round_index, busy in enumerate(args.background_load):
        modes = ["streaming"] if round_index > 0 else [
            m for m in setups if not (m == "naive" and args.no_naive)]
        with busy_processes(busy):
            for mode in modes:
                results[mode_label(mode, busy)] = []
            for i, turn in enumerate(turns, start=1):
                for mode in modes:
                    label = mode_label(mode, busy)
                    say(f"[{i}/{len(turns)}] {label}: {turn.label}")
                    mode_engines, mode_cfg = setups[mode]
                    record = run_turn(turn, "naive" if mode == "naive" else "streaming",
                                      mode_engines, mode_cfg)
                    record.index = i
                    results[label].append(record)
                    e2e = record.figures.get("e2e_latency")
                    say(f"    {record.status}: e2e {e2e:.3f} s" if e2e is not None
                        else f"    {record.status}: {record.error}")
    pace_text = pace.line() if pace is not None else ""
    args.out.mkdir(parents=True, exist_ok=True)
    report = write_report(results, turns, cfg, args.out, pace_text)
    say(f"Report: {report}")
    return 0


def compare_label(cfg: Any) -> str:
    """The mode name of a --compare config's turns: its file name ("fast.yaml")."""
    return str(cfg.source.name)


def _levels(text: str) -> list[int]:
    try:
        return load_levels(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def synthesized_turns(tts: Any, cfg: Any, count: int) -> list[SpokenTurn]:
    from voicebot.audio.resample import resample

    turns = []
    for question in QUESTIONS[:count]:
        audio = np.concatenate(list(tts.synthesize(question)))
        turns.append(SpokenTurn(f"tts: {question}",
                                resample(audio, tts.sample_rate, cfg.audio.sample_rate)))
    return turns


def real_turns(speech_dir: Path, rate: int, count: int) -> list[SpokenTurn]:
    from voicebot.audio.wav import read_wav
    from voicebot.progress import say

    if count <= 0:
        return []
    if not has_manifest(speech_dir):
        say(f"No real speech at {speech_dir}: using synthesized questions only")
        return []
    rows = sorted(read_manifest(speech_dir), key=lambda r: float(r["duration_s"]))
    return [SpokenTurn(f"real: {row['file']}", read_wav(speech_dir / row["file"], rate))
            for row in rows[:count]]


def bench_conversation(mode: str, engines: Engines, cfg: Config) -> Conversation:
    """A fresh conversation for one turn: talk's, or the naive cascade on the same loop (one
    offline decode after the endpoint, then the whole reply, then all of its audio)."""
    from voicebot.assembly import Overrides, build_conversation
    from voicebot.clock import MonotonicClock
    from voicebot.view import QuietView

    return build_conversation(cfg, engines, clock=MonotonicClock(), view=QuietView(),
                              overrides=Overrides(naive=mode == "naive"))


def replay(audio: np.ndarray, mode: str, engines: Engines, cfg: Config,
           tail_silence_s: float) -> tuple[list[TurnRecord], WavReplaySource, WavSink]:
    """Replay `audio` at 1x through a fresh conversation of the given mode into a
    time-aligned WAV sink at the input's rate; its turns, the source and the sink."""
    from voicebot.audio.sources import WavReplaySource
    from voicebot.audio.wav_sink import WavSink

    rate = cfg.audio.sample_rate
    conversation = bench_conversation(mode, engines, cfg)
    source = WavReplaySource(audio, rate, rate * cfg.audio.frame_ms // 1000, speed=1.0,
                             tail_silence_s=tail_silence_s)
    sink = WavSink(None, sample_rate=rate)
    return conversation.run(source, sink), source, sink


def run_turn(turn: SpokenTurn, mode: str, engines: Engines, cfg: Config) -> Any:
    """Replay one spoken turn at 1x through a fresh conversation of the given mode."""
    from voicebot.bench.audible import FIXED_SPEECH_DBFS, measure_turns
    from voicebot.metrics import TurnRecord

    rate = cfg.audio.sample_rate
    lead = np.zeros(int(LEAD_SILENCE_S * rate), dtype=np.float32)
    tail_s = max(cfg.endpoint.end_ms, cfg.turn.max_silence_ms) / 1000 + 0.5
    turns, source, sink = replay(np.concatenate([lead, turn.audio]), mode, engines, cfg, tail_s)
    if not turns:
        return TurnRecord(index=0, status="failed", error="no words recognised")
    measured = measure_turns(source.samples, sink.samples(), rate)
    if measured:  # what a listener hears, from the input and the time-aligned reply
        turns[0].measured_e2e = measured[0].e2e
    plain = measure_turns(source.samples, sink.samples(), rate, fixed_dbfs=FIXED_SPEECH_DBFS)
    if plain:  # the same by a fixed threshold: where the level rule and it disagree
        turns[0].measured_e2e_fixed = plain[0].e2e
    return turns[0]

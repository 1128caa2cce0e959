"""`voicebot bench turns`: end-of-turn settings side by side, in one run, at 1x.

Four inputs per setting: (a) real utterances with a 1.0 s pause inside an unfinished
sentence (a cut-in is reply audio that starts before the speaker resumes); (b) the finished
questions of `bench talk` (e2e latency); (c) the same questions with noise under them (every
one should still get an endpoint and a reply); (d) finished statements, real recordings that
are not questions (a turn detector may hold them: e2e p90 and the waits over 1 s), under the
200 ms settings. (a) and (d) in one run show what a shorter wait costs in cut-ins.
Settings: the fixed silence rule at 400 ms (the old default) and 200 ms, and Smart Turn
asked after 200 ms; plus, on (b) only, the chosen turn setting with webrtcvad instead of
Silero, to show what the VAD costs.
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from voicebot.bench.speech_set import DEFAULT_SPEECH_DIR
from voicebot.bench.turns_rig import (
    InstantSink,
    TimedDetector,
    first_audio_only,
    recording_listener,
    set_builder,
    smart_turn_setting,
    vad_cost,
    vads_to_compare,
)

if TYPE_CHECKING:
    from voicebot.config import Config
    from voicebot.engines import Engines
    from voicebot.pipeline import Conversation

HELP = "end of turn: cut-ins on mid-sentence pauses and e2e latency per turn setting at 1x"
STATEMENT_MAX_S = 12.0  # longer recordings are paragraphs, not one turn
LEAD_S = 0.5
AFTER_RESUME_S = 1.0
"""The pause set is replayed up to this long after the speaker resumes: a cut-in happens
before that, and the rest of a long sentence would only cost run time."""


@dataclass(frozen=True)
class Setting:
    name: str
    end_ms: int
    turn: Literal["silence", "smart-turn"]
    vad: str | None = None  # None: the config's VAD
    only: tuple[str, ...] = ("pause", "clean", "noise", "statement")


SETTINGS = (
    Setting("silence 400 ms", 400, "silence", only=("pause", "clean", "noise")),
    Setting("silence 200 ms", 200, "silence"),
    Setting("smart-turn 200 ms", 200, "smart-turn"),
    Setting("smart-turn 200 ms, webrtcvad", 200, "smart-turn", vad="webrtcvad",
            only=("clean",)),
)


@dataclass(frozen=True)
class BenchInput:
    kind: str  # pause | clean | noise | statement
    label: str
    audio: np.ndarray
    reference: str = ""
    resume_at: float | None = None  # pause set: where speech resumes in `audio`
    pause_at: float | None = None  # pause set: where the inserted silence starts
    noise: str | None = None  # noise set: white | low-passed
    seed: int = 0
    snr_db: float | None = None  # noise set: the speech's active level over the noise


@dataclass
class Outcome:
    """One input replayed under one setting."""

    setting: str
    kind: str  # pause | clean | noise
    label: str
    turns: list[Any]
    reference: str = ""
    resume_at: float | None = None  # pause set: when speech resumes (session time)
    detector_ms: list[float] = field(default_factory=list)
    ends: list[float] = field(default_factory=list)  # audio times the endpointer fired
    pause_at: float | None = None  # pause set: when the inserted silence starts
    own_pause_s: float | None = None
    """Pause set, a turn closed before the inserted silence: the speaker's own pause it
    closed in, in seconds (None: unknown, or no such close)."""
    snr_db: float | None = None

    @property
    def closed_in_pause(self) -> bool:
        """The endpointer ended the turn inside the pause (an audio-time decision: on a quiet
        machine the reply would then start before the speaker resumes)."""
        if self.resume_at is None:
            return False
        return any(at < self.resume_at for at in self.ends)

    @property
    def cut_in(self) -> bool:
        if self.resume_at is None:
            return False
        return any(t.marks.get("playback_start", float("inf")) < self.resume_at
                   for t in self.turns)

    @property
    def closed_early(self) -> bool:
        """The turn closed before the inserted silence began: in a pause of the speaker's
        own (the cut-in, if any, is not the bench's mid-sentence pause)."""
        if self.pause_at is None or self.resume_at is None:
            return False
        return any(at < self.pause_at for at in self.ends)

    @property
    def answered(self) -> bool:
        return any("playback_start" in t.marks for t in self.turns)


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="YAML config (default: configs/default.yaml)")
    parser.add_argument("--out", type=Path, default=Path("bench-out/turns"),
                        help="folder for report.md, turns.png and outcomes.jsonl")
    parser.add_argument("--speech-dir", type=Path, default=DEFAULT_SPEECH_DIR,
                        help="real speech with manifest.tsv")
    parser.add_argument("--pauses", type=int, default=15,
                        help="how many paused utterances (default 15)")
    parser.add_argument("--questions", type=int, default=6,
                        help="synthesized questions (max 6), plus --real real ones")
    parser.add_argument("--real", type=int, default=4, help="short real recordings (default 4)")
    parser.add_argument("--statements", type=int, default=12,
                        help="finished statements: real recordings of at most "
                             f"{STATEMENT_MAX_S:g} s after the --real ones (default 12)")
    parser.add_argument("--statements-dir", type=Path, action="append", default=[],
                        help="more real statements (a folder with manifest.tsv; every "
                             f"recording of at most {STATEMENT_MAX_S:g} s), e.g. the "
                             "held-out set of scripts/heldout_set.py; repeatable")


def run(args: argparse.Namespace) -> int:
    from voicebot.bench.pace import PaceProbe
    from voicebot.bench.speech_set import read_manifest
    from voicebot.bench.talk import real_turns, synthesized_turns
    from voicebot.bench.turn_causes import snr_db
    from voicebot.bench.turn_sets import NOISES, paused_set
    from voicebot.bench.turns_report import write_report
    from voicebot.config import load_config
    from voicebot.engines import load_engines
    from voicebot.progress import say

    cfg = load_config(args.config)
    loaded = load_engines(cfg)
    engines = BenchEngines(loaded, vads_to_compare(cfg, loaded.new_vad()),
                           TimedDetector(smart_turn_setting(cfg, loaded.turn)))
    rate = cfg.audio.sample_rate
    references = {f"real: {r['file']}": r["reference_text"] for r in read_manifest(args.speech_dir)}
    pauses = paused_set(args.speech_dir, set_builder(), rate, args.pauses)
    questions = synthesized_turns(loaded.tts, cfg, args.questions)
    questions += real_turns(args.speech_dir, rate, args.real)
    inputs = [BenchInput("pause", p.label, p.audio[: round((p.resume_at + AFTER_RESUME_S) * rate)],
                         resume_at=p.resume_at, pause_at=p.pause_at) for p in pauses]
    for label, audio, ref in real_statements(args.speech_dir, args.statements_dir, rate,
                                             skip=args.real, count=args.statements):
        inputs.append(BenchInput("statement", label, audio, ref))
    for i, q in enumerate(questions):
        ref = references.get(q.label, q.label.removeprefix("tts: "))
        noise = ("white", "low-passed")[i % 2]
        inputs.append(BenchInput("clean", q.label, q.audio, ref))
        inputs.append(BenchInput("noise", f"{q.label} + {noise} noise", q.audio, ref,
                                 noise=noise, seed=i,
                                 snr_db=snr_db(q.audio, rate, NOISES[noise][1])))
    pace = PaceProbe(loaded.asr, engines.vads[cfg.vad.backend], questions[0].audio,
                     questions[0].label,
                     rate) if questions else None
    outcomes: list[Outcome] = []
    for n, item in enumerate(inputs, start=1):
        for setting in SETTINGS:  # settings alternate input by input: same machine load
            if item.kind not in setting.only:
                continue
            outcome = run_input(setting, item, engines, cfg)
            outcomes.append(outcome)
            say(f"[{n}/{len(inputs)}] {setting.name}: {item.label}: {_summary(outcome)}")
    args.out.mkdir(parents=True, exist_ok=True)
    costs = vad_cost(engines.vads, questions[0].audio if questions else None, rate)
    report = write_report(outcomes, SETTINGS, cfg, args.out, costs,
                          pace.line() if pace is not None else "")
    say(f"Report: {report}")
    return 0


def real_statements(speech_dir: Path, extra_dirs: list[Path], rate: int, skip: int,
                    count: int) -> list[tuple[str, np.ndarray, str]]:
    """(label, audio, reference) of real recordings that are one finished statement: of
    `speech_dir`'s recordings up to STATEMENT_MAX_S, `count` after the `skip` shortest (those
    are the clean set's), and every one of `extra_dirs` up to that length. Question marks
    are left out where the reference has punctuation."""
    from voicebot.audio.wav import read_wav
    from voicebot.bench.speech_set import has_manifest, read_manifest

    chosen: list[tuple[Path, dict[str, str]]] = []
    for folder, limit in [(speech_dir, count), *((d, None) for d in extra_dirs)]:
        if not has_manifest(folder) or limit == 0:
            continue
        rows = sorted((r for r in read_manifest(folder)
                       if float(r["duration_s"]) <= STATEMENT_MAX_S
                       and not r["reference_text"].rstrip().endswith("?")),
                      key=lambda r: float(r["duration_s"]))
        rows = rows[skip:skip + limit] if limit is not None else rows
        chosen += [(folder, r) for r in rows]
    return [(f"statement: {r['file']}", read_wav(folder / r["file"], rate), r["reference_text"])
            for folder, r in chosen]


def _summary(outcome: Outcome) -> str:
    e2e = [t.figures["e2e_latency"] for t in outcome.turns if "e2e_latency" in t.figures]
    parts = [f"{len(outcome.turns)} turn(s)"]
    if e2e:
        parts.append(f"e2e {e2e[-1]:.3f} s")
    if outcome.resume_at is not None:
        parts.append("CUT-IN" if outcome.cut_in else "no cut-in")
        parts.append("closed in the pause" if outcome.closed_in_pause else "held")
    return ", ".join(parts)


@dataclass
class BenchEngines:
    """The config's engines, plus every VAD backend and a timed Smart Turn to compare."""

    loaded: Engines
    vads: dict[str, Any]
    smart_turn: TimedDetector


def setting_conversation(setting: Setting, engines: BenchEngines, cfg: Config) -> Conversation:
    """A fresh conversation under `setting`: the builder's, with the setting's end of turn and
    VAD, a listener that records its endpoints, and replies stopped at their first audio."""
    from voicebot.assembly import Overrides, build_conversation
    from voicebot.clock import MonotonicClock
    from voicebot.turn.silence import SilenceTurn
    from voicebot.view import QuietView

    cfg = dataclasses.replace(
        cfg, endpoint=dataclasses.replace(cfg.endpoint, end_ms=setting.end_ms),
        turn=dataclasses.replace(cfg.turn, backend=setting.turn))
    detector = engines.smart_turn if setting.turn == "smart-turn" else SilenceTurn()
    vad = engines.vads[setting.vad or cfg.vad.backend]
    vad.reset()
    overrides = Overrides(reply_fn=first_audio_only, vad=vad,
                          listener_class=recording_listener())
    return build_conversation(cfg, dataclasses.replace(engines.loaded, turn=detector),
                              clock=MonotonicClock(), view=QuietView(), overrides=overrides)


def run_input(setting: Setting, item: BenchInput, engines: BenchEngines, cfg: Config) -> Outcome:
    """Replay one input at 1x through a fresh conversation under `setting`."""
    from voicebot.audio.sources import WavReplaySource
    from voicebot.bench.turn_sets import with_noise

    rate = cfg.audio.sample_rate
    conversation = setting_conversation(setting, engines, cfg)
    listener = conversation.listener
    vad = listener.vad
    detector = engines.smart_turn if setting.turn == "smart-turn" else None
    calls_before = len(detector.calls_ms) if detector is not None else 0
    tail_s = max(setting.end_ms, cfg.turn.max_silence_ms) / 1000.0 + 0.6
    signal = np.concatenate([np.zeros(round(LEAD_S * rate), dtype=np.float32), item.audio,
                             np.zeros(round(tail_s * rate), dtype=np.float32)])
    if item.noise is not None:
        signal = with_noise(signal, item.noise, seed=item.seed)

    source = WavReplaySource(signal, rate, rate * cfg.audio.frame_ms // 1000, speed=1.0,
                             tail_silence_s=0.0)
    turns = conversation.run(source, InstantSink(on_first_audio=source.close))
    calls = detector.calls_ms[calls_before:] if detector is not None else []
    resume = None if item.resume_at is None else LEAD_S + item.resume_at
    outcome = Outcome(setting.name, item.kind, item.label, list(turns), item.reference, resume,
                      list(calls), getattr(listener, "ends", []), snr_db=item.snr_db,
                      pause_at=None if item.pause_at is None else LEAD_S + item.pause_at)
    if outcome.closed_early:
        outcome.own_pause_s = _own_pause_s(vad, signal, cfg, min(outcome.ends))
    return outcome


def _own_pause_s(vad: Any, signal: np.ndarray, cfg: Any, closed_at: float) -> float | None:
    """How long the speaker's own pause lasted that the turn closed in, as the VAD hears it.
    The VAD hears the whole input again: the replay stopped at the first reply audio, which
    for a cut-in comes before the speaker resumes, so its own frames never reach the pause's
    end."""
    from voicebot.bench.turn_causes import own_pause, vad_speech

    speech = vad_speech(vad, signal, cfg.endpoint.threshold)
    found = own_pause(speech, vad.frame_samples / cfg.audio.sample_rate, closed_at)
    return None if found is None else found[1] - found[0]

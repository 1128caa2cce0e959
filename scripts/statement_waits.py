"""Smart Turn on finished statements and commands against mid-sentence pauses, by silence.

A turn that does not end in "?" is judged by the turn detector alone: P(finished) at the first
ask, and after a "not yet" at the re-ask (`turn.recheck_ms` later) or the cap
(`turn.max_silence_ms`). Finished statements that get P < threshold wait 1.2 or 2 s. This
prints P at several silences after the sound of speech ends for

- real recorded statements: the held-out `tune` split (scripts/heldout_set.py) and the dev
  recordings of at most 12 s;
- spoken commands synthesized by the configured TTS (no real recordings of commands are in
  the sets);
- the mid-sentence pauses of `bench turns` (1.0 s inserted after a function word), which a
  shorter wait must not cut;

and how many of each would end at each silence with a given threshold.

    .venv/bin/python scripts/statement_waits.py [--tune-dir /work/heldout/tune]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
from turn_silence import p_at  # the sibling script (scripts/ is on the path when run)

from voicebot.audio.levels import speech_offset
from voicebot.audio.resample import resample
from voicebot.audio.wav import read_wav
from voicebot.bench.speech_set import DEFAULT_SPEECH_DIR, read_manifest
from voicebot.bench.turn_sets import paused_set
from voicebot.bench.turns_rig import set_builder
from voicebot.config import load_config
from voicebot.loading import load_tts, load_turn

RATE = 16000
SILENCES = (0.1, 0.3, 0.5, 0.7, 1.2)
THRESHOLDS = (0.5, 0.3)
MAX_S = 12.0
COMMANDS = (
    "Tell me a joke.",
    "Set a timer for five minutes.",
    "Turn off the lights in the kitchen.",
    "Remind me to call my mother tomorrow morning.",
    "Play some relaxing music.",
    "Say that again.",
    "Give me a recipe for pancakes.",
    "I would like to know more about the Roman Empire.",
    "Explain how a rainbow forms.",
    "Stop.",
)


def table(name: str, rows: list[tuple[str, np.ndarray, float]], detector: Any,
          silences: tuple[float, ...]) -> None:
    print(f"\n{name}: P at {', '.join(f'{s:.1f}' for s in silences)} s after the sound ends")
    ps = np.array([[p_at(detector, audio, end + s) for s in silences]
                   for _, audio, end in rows])
    for (label, _, _), row in zip(rows, ps, strict=True):
        print(f"  {label[:52]:52s} " + " ".join(f"{p:.2f}" for p in row))
    for threshold in THRESHOLDS:
        print(f"  P >= {threshold}: " + ", ".join(
            f"{s:.1f} s {int(np.sum(ps[:, i] >= threshold))}/{len(ps)}"
            for i, s in enumerate(silences)))


def statements(tune_dir: Path) -> list[tuple[str, np.ndarray, float]]:
    rows = []
    for folder, tag in ((tune_dir, "tune"), (DEFAULT_SPEECH_DIR, "dev")):
        if not (folder / "manifest.tsv").exists():
            print(f"(no {folder}/manifest.tsv: {tag} skipped)")
            continue
        for row in read_manifest(folder):
            if float(row["duration_s"]) > MAX_S:
                continue
            audio = read_wav(folder / row["file"], RATE)
            rows.append((f"{tag}: {row['file']}", audio, speech_offset(audio, RATE) or 0.0))
    return rows


def commands(tts: Any) -> list[tuple[str, np.ndarray, float]]:
    rows = []
    for text in COMMANDS:
        audio = resample(np.concatenate(list(tts.synthesize(text))), tts.sample_rate, RATE)
        rows.append((f"tts: {text}", audio, speech_offset(audio, RATE) or 0.0))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tune-dir", type=Path, default=Path("/work/heldout/tune"))
    args = parser.parse_args()
    cfg = load_config(None)
    detector, tts = load_turn(cfg), load_tts(cfg)
    table("real recorded statements", statements(args.tune_dir), detector, SILENCES)
    table("synthesized commands", commands(tts), detector, SILENCES)
    paused = paused_set(DEFAULT_SPEECH_DIR, set_builder(), RATE, 15)
    table("mid-sentence pauses (bench turns, 1.0 s long)",
          [(u.label, u.audio, u.pause_at) for u in paused], detector, SILENCES[:-1])


if __name__ == "__main__":
    main()

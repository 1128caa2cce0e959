#!/usr/bin/env python3
"""Measure e2e latency from outside: the user's input recording and the bot's time-aligned reply
recording (both start at the same instant), optionally compared with a session log.

    python scripts/measure_e2e.py in.wav out.wav --log session.jsonl
    python scripts/measure_e2e.py room.wav --log session.jsonl    # one stereo recording

`voicebot talk -i in.wav -o out.wav` writes such a pair (the reply WAV is time-aligned with
the input). One stereo WAV holds the user on the left and the bot on the right (the live
tests record their virtual room so). Measured turn k is compared with the k-th logged turn
that has an e2e figure.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

from voicebot.audio.wav import audio_info, read_wav
from voicebot.bench.audible import Turn, measure_turns
from voicebot.errors import AudioInputError
from voicebot.metrics import read_log


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("input", type=Path, help="recording of the user's speech (WAV)")
    parser.add_argument("reply", type=Path, nargs="?",
                        help="time-aligned recording of the bot (WAV); without it, INPUT is "
                        "stereo: left the user, right the bot")
    parser.add_argument("--log", type=Path, help="JSONL session log to compare with")
    parser.add_argument("--min-gap", type=float, default=0.6,
                        help="pauses shorter than this (s) do not end the user's speech")
    args = parser.parse_args(argv)
    try:
        user, reply, rate = load_pair(args.input, args.reply)
        turns = measure_turns(user, reply, rate, min_gap_s=args.min_gap)
        logged = logged_e2e(args.log) if args.log else None
    except (AudioInputError, OSError, ValueError) as exc:
        print(f"measure_e2e: {exc}", file=sys.stderr)
        return 2
    print(format_table(turns, logged))
    return 0 if turns else 1


def load_pair(first: Path, second: Path | None) -> tuple[np.ndarray, np.ndarray, int]:
    """(user, bot, rate): two WAVs read at the higher of their rates, or one stereo WAV."""
    if second is not None:
        rate = max(audio_info(first).sample_rate, audio_info(second).sample_rate)
        return read_wav(first, rate), read_wav(second, rate), rate
    import soundfile as sf

    info = audio_info(first)
    if info.channels != 2:
        raise ValueError(f"{first}: give a reply WAV too, or one stereo WAV (user left, bot "
                         f"right); this one has {info.channels} channel(s)")
    both, rate = sf.read(str(first), dtype="float32", always_2d=True)
    return both[:, 0], both[:, 1], int(rate)


def logged_e2e(path: Path) -> list[tuple[int, float]]:
    """(turn index, logged e2e seconds) of every logged turn that has the figure, in order."""
    rows: list[dict[str, Any]] = read_log(path)
    return [(int(r.get("index", i + 1)), float(r["figures"]["e2e_latency"]))
            for i, r in enumerate(rows) if "e2e_latency" in r.get("figures", {})]


def format_table(turns: list[Turn], logged: list[tuple[int, float]] | None) -> str:
    head = f"{'turn':>4}  {'speech end':>10}  {'reply onset':>11}  {'measured e2e':>12}"
    if logged is not None:
        head += f"  {'logged turn':>11}  {'logged e2e':>10}  {'diff':>8}"
    lines = [head]
    for k, turn in enumerate(turns):
        line = (f"{k + 1:>4}  {turn.speech_end:>9.3f}s  {turn.onset:>10.3f}s  "
                f"{turn.e2e * 1000:>9.0f} ms")
        if logged is not None:
            if k < len(logged):
                index, e2e = logged[k]
                diff_ms = (e2e - turn.e2e) * 1000
                line += f"  {index:>11}  {e2e * 1000:>7.0f} ms  {diff_ms:>+5.0f} ms"
            else:
                line += f"  {'—':>11}"
        lines.append(line)
    if not turns:
        lines.append("no turn found (no reply onset after the end of any speech)")
    if logged is not None and len(logged) != len(turns):
        lines.append(f"note: {len(turns)} measured turns, {len(logged)} logged with an e2e")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())

"""Where the end of speech is logged, against the last word's acoustic end marked by hand.

For each recording of a held-out set (scripts/heldout_set.py builds them; each manifest row
has speech_end_s, the last word's end marked from the level profile), this runs the
listener as `voicebot talk` runs it (the config's VAD, the level rule of
voicebot/audio/levels.py with the room's noise floor) over the recording followed by 1 s of
digital silence, and takes the last SpeechEnded's `last_speech`: the logged end of speech
(the session log's `speech_end` mark). Beside it, the outside measurement's end
(`bench.audible.speech_ends`, as scripts/measure_e2e.py and `bench talk` use it), the same
rule without the noise floor (the rule before it), and a plain fixed -40 dBFS threshold.
Prints the error of each per file and how many lie within ±50 ms.

    .venv/bin/python scripts/speech_end_check.py --split tune
    .venv/bin/python scripts/speech_end_check.py --split test  # untuned: start and end only
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

from voicebot.audio.levels import SILENCE_DBFS, speech_offset
from voicebot.audio.wav import read_wav
from voicebot.bench.audible import FIXED_SPEECH_DBFS, fixed_speech_ends, speech_ends
from voicebot.clock import FakeClock
from voicebot.config import load_config
from voicebot.events import AudioFrame, SpeechEnded
from voicebot.listener import Listener
from voicebot.loading import load_vad
from voicebot.testing.fakes import FakeAsr

RATE = 16000
BLOCK = 320
TOLERANCE_S = 0.05


def logged_end(listener: Listener, audio: np.ndarray) -> float | None:
    """The last end of speech the listener reports over `audio` + 1 s of silence."""
    padded = np.concatenate([audio, np.zeros(RATE, dtype=np.float32)])
    last = None
    for i in range(0, len(padded), BLOCK):
        for event in listener.push_audio(AudioFrame(padded[i : i + BLOCK], RATE, i / RATE)):
            if isinstance(event, SpeechEnded):
                last = event.last_speech
        while listener.has_work():
            listener.work()
    return last


def last(ends: list[float]) -> float | None:
    return ends[-1] if ends else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="tune", help="tune (default) or test")
    parser.add_argument("--root", type=Path, default=Path("/work/heldout"))
    parser.add_argument("--config", default="configs/default.yaml")
    args = parser.parse_args()
    cfg = load_config(args.config)
    folder = args.root / args.split
    with open(folder / "manifest.tsv", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    columns = ("logged (listener)", "outside measurement", "without noise floor",
               f"fixed {FIXED_SPEECH_DBFS:.0f} dBFS")
    within = dict.fromkeys(columns, 0)
    vad = load_vad(cfg)
    print(f"{'file':32s} {'mark':>7s}  " + "  ".join(f"{c:>20s}" for c in columns))
    for row in rows:
        audio = read_wav(folder / row["file"], RATE)
        mark = float(row["speech_end_s"])
        vad.reset()
        listener = Listener(vad, FakeAsr(FakeClock(), "x", compute_s=0.0),
                            cfg.endpoint, cfg.streaming)
        found = dict(zip(columns, (
            logged_end(listener, audio),
            last(speech_ends(audio, RATE)),
            speech_offset(audio, RATE, noise_dbfs=SILENCE_DBFS),
            last(fixed_speech_ends(audio, RATE)),
        ), strict=True))
        cells = []
        for column, end in found.items():
            if end is None:
                cells.append(f"{'none':>20s}")
                continue
            within[column] += abs(end - mark) <= TOLERANCE_S
            cells.append(f"{end - mark:+20.3f}")
        print(f"{row['file'][:32]:32s} {mark:7.3f}  " + "  ".join(cells))
    print(f"within ±{TOLERANCE_S * 1000:.0f} ms of the mark ({len(rows)} files): "
          + ", ".join(f"{c} {n}/{len(rows)}" for c, n in within.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Offline WER and decode time of faster-whisper on the dev recordings, per encoder window.

    .venv/bin/python scripts/encoder_window.py [--pads 30,3,5,8,10] [--threads 1]

Each recording (the ones under 28 s) is decoded whole, once per setting, with the
backend's `encoder_pad_s` (30 = faster-whisper's own full window). Prints the corpus WER
(Whisper's normaliser, as `voicebot bench asr`) and the median decode time. Run it on a
quiet machine: the times are wall-clock.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from voicebot.asr.faster_whisper import FasterWhisperAsr
from voicebot.audio.wav import read_wav
from voicebot.bench.asr import word_errors
from voicebot.bench.speech_set import DEFAULT_SPEECH_DIR, read_manifest

MAX_S = 28.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pads", default="30,3,5,8,10", help="encoder_pad_s values")
    parser.add_argument("--threads", type=int, default=1, help="CTranslate2 threads")
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--speech-dir", type=Path, default=DEFAULT_SPEECH_DIR)
    args = parser.parse_args()
    rows = [r for r in read_manifest(args.speech_dir) if float(r["duration_s"]) < MAX_S]
    audio = [(read_wav(args.speech_dir / r["file"]), r["reference_text"]) for r in rows]
    print(f"{len(audio)} recordings, {args.model}, {args.threads} thread(s)")
    print("| encoder window | WER | median decode |")
    print("|---|---:|---:|")
    for pad in (float(p) for p in args.pads.split(",")):
        params = FasterWhisperAsr.Params(model=args.model, cpu_threads=args.threads,
                                         encoder_pad_s=None if pad >= 30 else pad)
        asr = FasterWhisperAsr(params)
        asr.warmup()
        errors = words = 0
        times = []
        for samples, reference in audio:
            start = time.perf_counter()
            hypothesis = " ".join(w.text for w in asr.transcribe(samples))
            times.append(time.perf_counter() - start)
            e, n = word_errors(reference, hypothesis)
            errors, words = errors + e, words + n
        label = "30 s (full)" if pad >= 30 else f"speech + {pad:g} s"
        print(f"| {label} | {errors / words:.3f} | {statistics.median(times) * 1000:.0f} ms |",
              flush=True)


if __name__ == "__main__":
    main()

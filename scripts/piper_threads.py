"""Piper synthesis time of one first-chunk-sized sentence per onnxruntime setting, quiet and
beside one busy process (a `while True` loop at normal priority).

    .venv/bin/python scripts/piper_threads.py

Prints the median of 7 syntheses per setting: threads (0 = one per core) and spinning.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from voicebot.tts.piper import PiperParams, PiperTts

TEXT = "The reason for the sky being"
SETTINGS = ((0, True), (2, True), (0, False), (1, False))


def median_ms(tts: PiperTts, repeats: int = 7) -> float:
    for _ in range(2):
        list(tts.synthesize(TEXT))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        list(tts.synthesize(TEXT))
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0]).parse_args()
    voices = {s: PiperTts(PiperParams(threads=s[0], spinning=s[1])) for s in SETTINGS}
    print(f"piper joe, {TEXT!r}: median synthesis of 7")
    print("| threads | spinning | quiet | beside one busy process |")
    print("|---:|---|---:|---:|")
    quiet = {s: median_ms(v) for s, v in voices.items()}
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        loaded = {s: median_ms(v) for s, v in voices.items()}
    finally:
        busy.kill()
    for s in SETTINGS:
        threads = "all" if s[0] == 0 else str(s[0])
        print(f"| {threads} | {'yes' if s[1] else 'no'} | {quiet[s]:.0f} ms | {loaded[s]:.0f} ms |")


if __name__ == "__main__":
    main()

"""How fast the machine ran during a benchmark: two small pieces of the pipeline, timed alone
before and after the run, printed in its report.

A shared machine's pace moves by more than the margins to the latency targets: quiet
`bench talk` runs of one commit gave medians of 0.58-0.81 s on one day and 0.53-0.62 s the
day before, and 0.51 and 0.58 s half an hour apart on another. Two reports are comparable
only with their pace beside them.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Pace:
    decode_ms: float  # one ASR decode of the clip (median)
    vad_ms_per_s: float  # VAD compute per second of audio (median over the repeats)


def vad_ms_per_s(vad: Any, audio: np.ndarray, rate: int) -> float:
    """Milliseconds of VAD compute per second of `audio`, one pass from a reset state (the
    VAD is left reset)."""
    size = vad.frame_samples
    frames = [audio[i:i + size] for i in range(0, len(audio) - size + 1, size)]
    vad.reset()
    start = time.perf_counter()
    for frame in frames:
        vad.speech_prob(frame)
    elapsed = time.perf_counter() - start
    vad.reset()
    return elapsed * 1000.0 / max(len(frames) * size / rate, 1e-9)


def measure_pace(asr: Any, vad: Any, audio: np.ndarray, rate: int, repeats: int = 5) -> Pace:
    """Median wall times of `repeats` ASR decodes of `audio` and VAD passes over it."""
    decodes, vads = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        asr.transcribe(audio)
        decodes.append(time.perf_counter() - start)
        vads.append(vad_ms_per_s(vad, audio, rate))
    return Pace(statistics.median(decodes) * 1000.0, statistics.median(vads))


class PaceProbe:
    """The pace before a run (at creation) and after it (`line()`), on the same clip."""

    def __init__(self, asr: Any, vad: Any, audio: np.ndarray, label: str, rate: int) -> None:
        self.asr, self.vad, self.audio, self.label, self.rate = asr, vad, audio, label, rate
        self.before = measure_pace(asr, vad, audio, rate)

    def line(self) -> str:
        """The report's line: the pace before and after the run."""
        after = measure_pace(self.asr, self.vad, self.audio, self.rate)
        return (f"Machine pace, the same work timed alone before / after the run "
                f"({self.label}): ASR decode {self.before.decode_ms:.0f} / "
                f"{after.decode_ms:.0f} ms, VAD {self.before.vad_ms_per_s:.1f} / "
                f"{after.vad_ms_per_s:.1f} ms per second of audio. Compare runs only at a "
                "like pace.")

"""What the speaker played, addressed by session time: the echo canceller's reference.

A canceller subtracts the bot's own voice from the microphone, so it must know exactly what
the speaker put into the room and when. The sink knows: a WAV sink lays each block out at
its session time, and a speaker stamps each block with the moment its first sample is heard
(PortAudio's DAC time, on the loop's time base, see audio/sinks.py). The sink writes each
block here as it starts to play, and cuts what a barge-in dropped; the canceller reads the
stretch of session time a microphone frame covers. Only the last `keep_s` are kept.
"""

from __future__ import annotations

import threading

import numpy as np

from voicebot.audio.resample import resample


class PlayedAudio:
    def __init__(self, sample_rate: int = 16000, keep_s: float = 10.0) -> None:
        if sample_rate <= 0 or keep_s <= 0:
            raise ValueError("sample_rate and keep_s must be positive")
        self.sample_rate = sample_rate
        self.keep_samples = round(keep_s * sample_rate)
        self._segments: list[tuple[int, np.ndarray]] = []  # (first sample index, samples)
        self._lock = threading.Lock()  # a speaker writes from its device thread

    def prepare(self, samples: np.ndarray, rate: int) -> np.ndarray:
        """`samples` at this reference's rate: done where the block is queued, so a device
        callback only stores it."""
        return resample(np.asarray(samples, dtype=np.float32).reshape(-1), rate,
                        self.sample_rate)

    def add(self, start: float, samples: np.ndarray) -> None:
        """Prepared `samples` started playing at session time `start`; they overwrite
        whatever was thought to play there."""
        if not len(samples):
            return
        index = round(start * self.sample_rate)
        with self._lock:
            self._cut_locked(index)
            self._segments.append((index, samples))
            oldest = index + len(samples) - self.keep_samples
            self._segments = [(i, s) for i, s in self._segments if i + len(s) > oldest]

    def cut(self, at: float) -> None:
        """Nothing was played from session time `at` on (a barge-in stopped the reply)."""
        with self._lock:
            self._cut_locked(round(at * self.sample_rate))

    def _cut_locked(self, index: int) -> None:
        kept = []
        for first, samples in self._segments:
            if first < index:
                kept.append((first, samples[: index - first]))
        self._segments = kept

    def read(self, start: float, count: int) -> np.ndarray:
        """The `count` samples heard from session time `start` on (0 where nothing played)."""
        out = np.zeros(count, dtype=np.float32)
        lo = round(start * self.sample_rate)
        hi = lo + count
        with self._lock:
            segments = list(self._segments)
        for first, samples in segments:
            a, b = max(first, lo), min(first + len(samples), hi)
            if a < b:
                out[a - lo : b - lo] = samples[a - first : b - first]
        return out

    def playing_between(self, start: float, end: float) -> bool:
        """Whether any reply audio was heard in [start, end)."""
        lo, hi = round(start * self.sample_rate), round(end * self.sample_rate)
        with self._lock:
            return any(first < hi and first + len(s) > lo for first, s in self._segments)

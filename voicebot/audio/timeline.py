"""The recent input audio, addressed by absolute audio time (seconds since the stream start).

The listener appends every frame and later slices out an utterance from its onset minus the
pre-roll; audio older than `keep_s` is dropped so a long session uses bounded memory.
"""

from __future__ import annotations

import numpy as np


class AudioTimeline:
    def __init__(self, sample_rate: int, keep_s: float) -> None:
        if sample_rate <= 0 or keep_s <= 0:
            raise ValueError("sample_rate and keep_s must be positive")
        self.sample_rate = sample_rate
        self.keep_samples = max(1, round(keep_s * sample_rate))
        self._buf = np.zeros(2 * self.keep_samples, dtype=np.float32)
        self._first = 0  # absolute index of _buf[0]
        self._total = 0  # absolute index one past the last sample appended

    @property
    def end(self) -> float:
        """Audio seconds appended since the stream start."""
        return self._total / self.sample_rate

    @property
    def start(self) -> float:
        """The oldest audio time still kept."""
        return max(self._first, self._total - self.keep_samples) / self.sample_rate

    def append(self, samples: np.ndarray) -> None:
        data = np.asarray(samples, dtype=np.float32).reshape(-1)
        if len(data) >= self.keep_samples:
            # Only the newest keep_samples matter.
            tail = data[-self.keep_samples :]
            self._total += len(data)
            self._first = self._total - len(tail)
            self._buf[: len(tail)] = tail
            return
        used = self._total - self._first
        if used + len(data) > len(self._buf):
            self._compact(len(data))
            used = self._total - self._first
        self._buf[used : used + len(data)] = data
        self._total += len(data)

    def _compact(self, incoming: int) -> None:
        """Drop audio older than keep_s so `incoming` more samples fit."""
        keep_from = max(self._first, self._total + incoming - self.keep_samples)
        offset = keep_from - self._first
        used = self._total - self._first
        self._buf[: used - offset] = self._buf[offset:used]
        self._first = keep_from

    def slice(self, start: float, end: float) -> np.ndarray:
        """A copy of the audio in [start, end) (absolute seconds), clamped to what is kept."""
        lo = max(round(start * self.sample_rate), self._first, self._total - self.keep_samples)
        hi = min(round(end * self.sample_rate), self._total)
        if hi <= lo:
            return np.zeros(0, dtype=np.float32)
        return self._buf[lo - self._first : hi - self._first].copy()

    def reset(self) -> None:
        """Forget everything, including the stream position."""
        self._first = 0
        self._total = 0

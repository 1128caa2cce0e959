"""Cutting a stream of arbitrary-size blocks into fixed-size frames (what a VAD wants)."""

from __future__ import annotations

import numpy as np


class Reframer:
    """Accumulates samples and hands out frames of exactly `frame_samples`; the remainder
    waits for the next `push`."""

    def __init__(self, frame_samples: int) -> None:
        if frame_samples <= 0:
            raise ValueError(f"frame_samples must be positive, got {frame_samples}")
        self.frame_samples = frame_samples
        self._pending = np.zeros(0, dtype=np.float32)

    @property
    def pending(self) -> int:
        """Samples held back, waiting to complete a frame."""
        return len(self._pending)

    def push(self, samples: np.ndarray) -> list[np.ndarray]:
        data = np.asarray(samples, dtype=np.float32).reshape(-1)
        if len(self._pending):
            data = np.concatenate([self._pending, data])
        n = len(data) // self.frame_samples
        cut = n * self.frame_samples
        size = self.frame_samples
        frames = [data[i : i + size].copy() for i in range(0, cut, size)]
        self._pending = data[cut:].copy()
        return frames

    def reset(self) -> None:
        self._pending = np.zeros(0, dtype=np.float32)

"""The TTS interface: one hook, `synthesize(text) -> Iterator[np.ndarray]`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

import numpy as np


class Tts(Protocol):
    sample_rate: int

    def synthesize(self, text: str) -> Iterator[np.ndarray]:
        """Yield float32 mono chunks in [-1, 1] at `sample_rate`, the first as early as the
        backend can produce it. Empty text yields nothing."""
        ...

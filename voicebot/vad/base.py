"""The VAD interface: one hook, `speech_prob(frame)`."""

from __future__ import annotations

from typing import Protocol

import numpy as np


class Vad(Protocol):
    sample_rate: int
    frame_samples: int
    """The frame length the backend wants (e.g. 480 at 16 kHz for 30 ms)."""

    def speech_prob(self, frame: np.ndarray) -> float:
        """Probability (0..1) that this float32 mono frame of `frame_samples` holds speech.
        Backends that decide yes/no return 0.0 or 1.0."""
        ...

    def reset(self) -> None:
        """Forget any state carried between frames (start of a new stream)."""
        ...

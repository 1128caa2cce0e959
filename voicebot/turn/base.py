"""The turn-detector interface: one hook, `p_finished(audio, text)`.

Called by the endpointer (through the listener) once the user has been silent for the short
VAD pause (`endpoint.end_ms`); its answer decides whether the turn ends now or the silence
needed grows (turn/policy.py).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np


class TurnDetector(Protocol):
    name: str
    needs_audio: bool
    """False for detectors that ignore the audio (the listener then passes an empty array)."""

    def p_finished(self, audio: np.ndarray, text: str) -> float:
        """P(the user has finished their turn), 0..1, from the turn's 16 kHz mono audio up to
        now (its trailing silence included) and the transcript heard so far ("" if none)."""
        ...

"""`silence`: the fixed rule (every pause of `endpoint.end_ms` ends the turn), the baseline."""

from __future__ import annotations

import numpy as np


class SilenceTurn:
    name = "silence"
    needs_audio = False

    def p_finished(self, audio: np.ndarray, text: str) -> float:
        return 1.0

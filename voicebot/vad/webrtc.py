"""WebRTC VAD (the `webrtcvad-wheels` package): a fast yes/no per 10/20/30 ms frame."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from voicebot.config import ParamError


class WebRtcVad:
    """Registry name `webrtcvad`. Returns 1.0 for speech, 0.0 otherwise, at 16 kHz."""

    sample_rate = 16000

    @dataclass
    class Params:
        aggressiveness: int = 3
        """0 (lets most sound through as speech) .. 3 (strictest)."""
        frame_ms: Literal[10, 20, 30] = 30

        def check(self) -> None:
            if not 0 <= self.aggressiveness <= 3:
                raise ParamError("aggressiveness", self.aggressiveness,
                                 "must be 0, 1, 2 or 3 (3 is the strictest)")
            if self.frame_ms not in (10, 20, 30):
                raise ParamError("frame_ms", self.frame_ms, "must be 10, 20 or 30")

    def __init__(self, params: WebRtcVad.Params | None = None) -> None:
        self.params = params or WebRtcVad.Params()
        self.params.check()
        self.frame_samples = self.sample_rate * self.params.frame_ms // 1000
        self._vad = self._new()

    def _new(self) -> Any:
        import webrtcvad

        return webrtcvad.Vad(self.params.aggressiveness)

    def speech_prob(self, frame: np.ndarray) -> float:
        data = np.asarray(frame, dtype=np.float32).reshape(-1)
        if len(data) != self.frame_samples:
            raise ValueError(f"webrtcvad needs frames of {self.frame_samples} samples, "
                             f"got {len(data)}")
        pcm = (np.clip(data, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
        return 1.0 if self._vad.is_speech(pcm, self.sample_rate) else 0.0

    def reset(self) -> None:
        self._vad = self._new()

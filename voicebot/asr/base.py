"""The ASR interface: one hook, `transcribe(audio, prompt=...) -> list[Word]`."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from voicebot.events import Word


class Asr(Protocol):
    sample_rate: int
    """Expected input rate (16000 for Whisper)."""

    word_timestamps: bool
    """True when `Word.start/end` are real word times; False when they are interpolated
    from segment times (the streaming policy then trims less precisely)."""

    def transcribe(self, audio: np.ndarray, *, prompt: str = "") -> list[Word]:
        """Transcribe float32 mono audio; word times are seconds from the start of `audio`.

        `prompt` is previous committed text (Whisper's initial prompt) for context.
        Returns [] for non-speech rather than hallucinated text where the backend can tell.
        """
        ...

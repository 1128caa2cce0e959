"""Shared by the `voicebot serve` tests: fake engines on the real clock (milliseconds of
"compute"), and a spoken question the fakes understand."""

from __future__ import annotations

import numpy as np

from voicebot.clock import MonotonicClock
from voicebot.engines import Engines, share
from voicebot.testing.fakes import FakeAsr, FakeLlm, FakeTts, FakeVad, scripted_audio
from voicebot.turn.silence import SilenceTurn

QUESTION_TEXT = "what is the capital of france"
REPLY_TOKENS = ("The", " capital", " of", " France", " is", " Paris.")


def fake_engines(reply_tokens: tuple[str, ...] = REPLY_TOKENS, per_token_s: float = 0.005,
                 seconds_per_char: float = 0.01) -> Engines:
    clock = MonotonicClock()
    return share(
        FakeAsr(clock, QUESTION_TEXT, compute_s=0.002),
        FakeLlm(clock, reply_tokens, ttft_s=0.01, per_token_s=per_token_s),
        FakeTts(clock, first_audio_s=0.002, sample_rate=16000,
                seconds_per_char=seconds_per_char),
        SilenceTurn(),
        FakeVad,
    )


def question_audio() -> np.ndarray:
    """2.1 s of scripted "speech" (the six words at 3 words/s), then 0.6 s of silence."""
    return scripted_audio([(0.3, 2.4)], 3.0)

"""The conversation with its reply on a worker thread, as talk and serve run it: on Ctrl-C
the loop returns only once no thread is left inside a backend (a process that exits while
llama.cpp still evaluates a prompt aborts with status -6 instead of 130)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence

import numpy as np
import pytest

from voicebot.assembly import build_conversation
from voicebot.audio.sources import WavReplaySource
from voicebot.audio.wav_sink import WavSink
from voicebot.clock import FakeClock
from voicebot.config import ConversationConfig, EndpointConfig, StreamingConfig, TextConfig
from voicebot.engines import Engines, reused
from voicebot.events import AudioFrame, ChatMessage
from voicebot.testing.fakes import (
    FakeAsr,
    FakeTts,
    FakeVad,
    RecordedView,
    fake_config,
    scripted_audio,
)
from voicebot.turn.silence import SilenceTurn

RATE, FRAME = 16000, 480
EVALUATION_S = 0.5  # the uninterruptible part of the fake LLM's request


class UninterruptibleLlm:
    """Like llama.cpp: the prompt evaluation ignores the cancel flag (a native call)."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.left = threading.Event()

    def stream(self, messages: Sequence[ChatMessage], *,
               cancel: threading.Event) -> Iterator[str]:
        self.entered.set()
        time.sleep(EVALUATION_S)
        self.left.set()
        for token in ["Paris", " is", " the", " capital", "."]:
            if cancel.is_set():
                return
            yield token

    def count_tokens(self, text: str) -> int:
        return len(text.split())


class CtrlCOnceTheLlmRuns(WavReplaySource):
    """Raises KeyboardInterrupt (Ctrl-C) as soon as the LLM has taken the request."""

    def __init__(self, audio: np.ndarray, llm: UninterruptibleLlm) -> None:
        super().__init__(audio, RATE, FRAME, speed=1.0)
        self.llm = llm

    def read_available(self, elapsed: float) -> list[AudioFrame]:
        if self.llm.entered.wait(0.001):
            raise KeyboardInterrupt
        return super().read_available(elapsed)


def test_ctrl_c_returns_only_after_the_reply_thread_left_the_llm() -> None:
    clock = FakeClock()
    cfg = fake_config(
        endpoint=EndpointConfig(threshold=0.5, start_ms=90, end_ms=300, preroll_ms=300),
        streaming=StreamingConfig(min_chunk_s=5.0), text=TextConfig(early_first_chunk=False),
        conversation=ConversationConfig(prefill=False))
    llm = UninterruptibleLlm()
    engines = Engines(reused(FakeVad(RATE, FRAME)),
                      FakeAsr(clock, "what is the capital of france", compute_s=0.1), llm,
                      FakeTts(clock, first_audio_s=0.05, sample_rate=RATE), SilenceTurn())
    conversation = build_conversation(cfg, engines, clock=clock, view=RecordedView())
    assert conversation.workers.threaded  # the builder's production mode: replies on a thread
    source = CtrlCOnceTheLlmRuns(scripted_audio([(0.48, 2.52)], 6.0), llm)
    with pytest.raises(KeyboardInterrupt):
        conversation.run(source, WavSink(None, RATE))
    assert llm.entered.is_set()
    assert llm.left.is_set(), "run() returned while its reply thread was inside the LLM"
    assert [t.status for t in conversation.turns] == ["interrupted"]

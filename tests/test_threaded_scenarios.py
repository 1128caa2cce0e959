"""Scenarios of the talk loop as production runs it: reply and prefill on worker threads
(workers.py), on the real clock, with fake backends. The FakeClock scenarios
(test_pipeline_scenarios.py) run all of it inline; these check that the threaded mode takes
the same turns. They assert what happened and in which order, never how fast (the machine
is shared)."""

from __future__ import annotations

import threading

import numpy as np

from voicebot.assembly import build_conversation
from voicebot.audio.sources import WavReplaySource
from voicebot.audio.wav_sink import WavSink
from voicebot.clock import MonotonicClock
from voicebot.config import ConversationConfig, EndpointConfig, StreamingConfig, TextConfig
from voicebot.engines import Engines, reused
from voicebot.metrics import MARKS, TurnRecord
from voicebot.pipeline import Conversation
from voicebot.testing.fakes import (
    FakeAsr,
    FakeLlm,
    FakeTts,
    FakeVad,
    RecordedView,
    fake_config,
    scripted_audio,
)
from voicebot.turn.silence import SilenceTurn

RATE, FRAME = 16000, 480
REPLY = ["The", " capital", " is", " Paris.", " It", " is", " lovely."]


class PrefillingLlm(FakeLlm):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.prefilled: list[str] = []

    def prefill(self, messages: list[object]) -> None:
        self.prefilled.append(str(messages[-1]))


def converse(audio: np.ndarray, llm: FakeLlm, *, barge_in: bool = False,
             speculative: bool = False) -> tuple[list[TurnRecord], Conversation, WavSink]:
    clock = MonotonicClock()
    llm.clock = clock
    cfg = fake_config(
        endpoint=EndpointConfig(threshold=0.5, start_ms=90, end_ms=300, preroll_ms=300),
        streaming=StreamingConfig(min_chunk_s=1.0),
        text=TextConfig(early_first_chunk=False),
        conversation=ConversationConfig(barge_in=barge_in, speculative_reply=speculative,
                                        prefill=True, resume_after_s=0.0),
    )
    engines = Engines(reused(FakeVad(RATE, FRAME)),
                      FakeAsr(clock, "what is the capital of france", compute_s=0.05), llm,
                      FakeTts(clock, first_audio_s=0.05, sample_rate=RATE), SilenceTurn())
    conversation = build_conversation(cfg, engines, clock=clock, view=RecordedView())
    assert conversation.workers.threaded  # the production mode, not the tests' inline one
    sink = WavSink(None, sample_rate=RATE)
    turns = conversation.run(WavReplaySource(audio, RATE, FRAME, speed=1.0), sink)
    return turns, conversation, sink


def voicebot_threads() -> list[str]:
    return [t.name for t in threading.enumerate()
            if t.name in ("voicebot-reply", "voicebot-prefill")]


def test_a_turn_on_worker_threads_has_its_marks_in_order_and_leaves_no_thread() -> None:
    llm = PrefillingLlm(MonotonicClock(), REPLY, ttft_s=0.1, per_token_s=0.02)
    turns, _, sink = converse(scripted_audio([(0.3, 2.3)], 3.0), llm)
    assert [t.status for t in turns] == ["ok"]
    turn = turns[0]
    assert turn.reply_text == "The capital is Paris. It is lovely."
    order = [name for name in MARKS if name in turn.marks]
    assert order == list(MARKS)  # every mark, none missing
    times = [turn.marks[name] for name in order]
    assert times == sorted(times)
    assert llm.prefilled  # the prompt was read on the prefill thread while the user spoke
    assert voicebot_threads() == []
    assert sink.samples().any()


def test_on_threads_a_user_who_goes_on_is_answered_once() -> None:
    llm = FakeLlm(MonotonicClock(), REPLY, ttft_s=0.3, per_token_s=0.05)
    # the endpoint fires at ~2.1 s; the user resumes at 2.2 s, before any reply audio
    turns, conversation, _ = converse(scripted_audio([(0.3, 1.8), (2.2, 3.2)], 5.0), llm,
                                      speculative=True)
    assert [t.status for t in turns] == ["ok"]
    assert [m.role for m in conversation.history.messages()] == ["system", "user", "assistant"]
    assert turns[0].marks["playback_start"] > turns[0].marks["speech_end"] > 3.0
    assert voicebot_threads() == []


def test_on_threads_barge_in_cuts_the_reply_and_the_next_turn_is_answered() -> None:
    long_reply = [*REPLY, " It", " has", " many", " museums.", " People", " love", " it."]
    llm = FakeLlm(MonotonicClock(), long_reply, ttft_s=0.1, per_token_s=0.02)
    # the reply plays from ~2.5 s for several seconds; the user cuts in at 3.5 s
    turns, _, sink = converse(scripted_audio([(0.3, 2.0), (3.5, 4.5)], 9.0), llm,
                              barge_in=True)
    assert [t.status for t in turns] == ["interrupted", "ok"]
    first, second = turns
    assert "barge-in" in (first.error or "")
    assert first.reply_text and first.partial_reply.startswith(first.reply_text.split()[0])
    out = sink.samples()
    silent_from = int((first.marks["turn_end"] + 0.05) * RATE)
    assert not out[silent_from:int((second.marks["playback_start"] - 0.01) * RATE)].any()
    assert voicebot_threads() == []


def test_on_threads_a_failing_llm_fails_its_turn_and_the_next_is_answered() -> None:
    llm = FakeLlm(MonotonicClock(), REPLY, ttft_s=0.1, per_token_s=0.02, fail_on=[1],
                  fail_after=2)
    turns, _, _ = converse(scripted_audio([(0.3, 1.5), (4.0, 5.2)], 7.5), llm)
    assert [t.status for t in turns] == ["failed", "ok"]
    assert "fake LLM exploded" in (turns[0].error or "")
    assert voicebot_threads() == []

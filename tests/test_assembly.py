"""One builder: talk, serve, bench talk and the soak assemble the same conversation from one
config; what differs is named (serve's prefill, the naive cascade). Before the builder,
serve and the soak ran without the turn detector."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np
import pytest

from voicebot.assembly import conversation_settings
from voicebot.bench.memory import MemoryWatch
from voicebot.bench.soak import SoakView
from voicebot.bench.soak import _conversation as soak_conversation
from voicebot.bench.talk import bench_conversation
from voicebot.clock import FakeClock
from voicebot.commands.talk import talk_conversation
from voicebot.config import load_config
from voicebot.engines import Engines, reused, share
from voicebot.metrics import SessionLog
from voicebot.pipeline import Conversation
from voicebot.serve.session import Session
from voicebot.testing.fakes import FakeAsr, FakeLlm, FakeTts, FakeVad

RATE = 16000


class FakeTurn:
    """A turn detector that is not the silence rule (the one serve used to miss)."""

    name = "fake-turn"
    needs_audio = True

    def p_finished(self, audio: np.ndarray, text: str) -> float:
        return 0.9


def engines_for(clock: FakeClock) -> tuple[Engines, Engines]:
    """The same fakes as one process's engines and as a server's (shared) engines."""
    asr = FakeAsr(clock, "what is the capital of france", compute_s=0.01)
    llm = FakeLlm(clock, ["Paris."], ttft_s=0.01, per_token_s=0.01)
    tts = FakeTts(clock, first_audio_s=0.01, sample_rate=RATE)
    turn = FakeTurn()
    return (Engines(reused(FakeVad(RATE, 480)), asr, llm, tts, turn,
                    new_words_vad=reused(FakeVad(RATE, 480))),
            share(asr, llm, tts, turn, lambda: FakeVad(RATE, 480)))


def built(tmp_path: Path) -> dict[str, Conversation]:
    cfg = load_config(None)  # the default config, as users run it
    one, many = engines_for(FakeClock())
    session = Session("s1", many, cfg, post=lambda message: None, on_done=lambda: None,
                      log_path=None)
    return {
        "talk": talk_conversation(argparse.Namespace(no_table=True, echo_recording=None), cfg, one,
                                  SessionLog(tmp_path / "talk.jsonl")),
        "serve": session.build(),
        "bench talk": bench_conversation("streaming", one, cfg),
        "bench talk naive": bench_conversation("naive", one, cfg),
        "soak": soak_conversation(cfg, one, SoakView(0.0, MemoryWatch(False)),
                                  argparse.Namespace(turns=1, gap=1.0, speed=1.0,
                                                     out=tmp_path))[0],
    }


def test_talk_serve_bench_and_soak_build_the_same_conversation(tmp_path: Path) -> None:
    conversations = built(tmp_path)
    settings = {name: conversation_settings(c) for name, c in conversations.items()}
    talk = settings["talk"]
    assert talk["turn"] == "fake-turn" and talk["threaded"] and talk["turn_thread"]
    assert settings["bench talk"] == talk
    assert settings["soak"] == talk
    # serve differs in one named setting: its sessions share one LLM, so no prefill
    assert settings["serve"] == {**talk, "prefill": False}
    assert talk["prefill"] is True
    assert talk["echo_onsets"] == "either"


def test_serve_sessions_get_the_turn_detector(tmp_path: Path) -> None:
    conversations = built(tmp_path)
    assert isinstance(conversations["serve"].listener.turn, FakeTurn)
    assert conversations["serve"].listener.turn_cfg.backend == "smart-turn"


def test_the_naive_cascade_differs_only_where_it_says(tmp_path: Path) -> None:
    settings = {name: conversation_settings(c) for name, c in built(tmp_path).items()}
    talk, naive = settings["talk"], settings["bench talk naive"]
    streaming = dict(talk["streaming"])  # type: ignore[call-overload]
    streaming["min_chunk_s"] = float("inf")
    assert naive == {**talk, "streaming": streaming, "decode_in_pauses": False,
                     "speculative_reply": False, "prefill": False,
                     "reply": "whole_reply_events"}


@pytest.mark.parametrize(("audio", "onsets"), [
    ({}, "either"),
    ({"echo_onsets": "aec3"}, "aec3"),
    # no canceller: nothing for a second ear
    ({"echo_onsets": "either", "echo_cancellation": "off"}, "aec3"),
    # the recognizer hears AEC3 too: the same audio
    ({"echo_onsets": "either", "echo_words": "aec3"}, "aec3"),
])
def test_a_second_vad_hears_the_words_filter_only_when_asked_and_where_it_can_differ(
        tmp_path: Path, audio: dict[str, str], onsets: str) -> None:
    cfg = load_config(None)
    cfg = dataclasses.replace(cfg, audio=dataclasses.replace(cfg.audio, **audio))
    one, _ = engines_for(FakeClock())
    conversation = bench_conversation("streaming", one, cfg)
    assert conversation_settings(conversation)["echo_onsets"] == onsets

"""Scenario tests of the talk loop: fake backends on a FakeClock, exact event order and
exact latency figures."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from voicebot.assembly import Overrides, build_conversation
from voicebot.audio.sources import WavReplaySource
from voicebot.audio.wav_sink import WavSink
from voicebot.clock import FakeClock
from voicebot.config import ConversationConfig, EndpointConfig, StreamingConfig, TextConfig
from voicebot.engines import Engines, reused
from voicebot.events import ChatMessage
from voicebot.metrics import SessionLog, format_turn_table, read_log
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

RATE = 16000
FRAME = 480  # 30 ms
REPLY = ["The", " capital", " is", " Paris.", " It", " is", " lovely."]


def make_conversation(
    clock: FakeClock,
    llm: FakeLlm,
    *,
    asr_text: str = "what is the capital of france",
    min_chunk_s: float = 5.0,
    barge_in: bool = False,
    log: SessionLog | None = None,
    tts_first_audio_s: float = 0.05,
    max_utterance_s: float = 30.0,
    speculative: bool = False,
    prefill: bool = True,
    resume_after_s: float = 1.5,
) -> tuple[Conversation, RecordedView, FakeTts]:
    endpoint = EndpointConfig(threshold=0.5, start_ms=90, end_ms=300, preroll_ms=300,
                              max_utterance_s=max_utterance_s)
    cfg = fake_config(
        endpoint=endpoint, streaming=StreamingConfig(min_chunk_s=min_chunk_s),
        text=TextConfig(early_first_chunk=False),
        conversation=ConversationConfig(barge_in=barge_in, speculative_reply=speculative,
                                        prefill=prefill, resume_after_s=resume_after_s),
    )
    tts = FakeTts(clock, first_audio_s=tts_first_audio_s, sample_rate=RATE)
    vad = FakeVad(RATE, FRAME)
    engines = Engines(reused(vad), FakeAsr(clock, asr_text, compute_s=0.1), llm, tts,
                      SilenceTurn())
    view = RecordedView()
    conversation = build_conversation(cfg, engines, clock=clock, view=view, log=log,
                                      overrides=Overrides(inline=True))
    return conversation, view, tts


def replay(audio: np.ndarray) -> WavReplaySource:
    return WavReplaySource(audio, RATE, FRAME, speed=1.0)


def test_one_turn_exact_marks_and_figures(tmp_path: Path) -> None:
    # The user speaks 0.48-2.52 s; endpoint after 300 ms of silence. A decode takes 0.1 s:
    # the listener runs it after 90 ms of silence (2.61-2.71 s), so at the endpoint the
    # transcript is already final. LLM ttft 0.2 s then 50 ms a token; the first sentence
    # closes 0.4 s after the LLM starts ("Paris." is decided when " It" arrives); TTS first
    # audio 50 ms later.
    clock = FakeClock()
    llm = FakeLlm(clock, REPLY, ttft_s=0.2, per_token_s=0.05)
    log = SessionLog(tmp_path / "session.jsonl")
    conversation, view, tts = make_conversation(clock, llm, log=log)
    sink = WavSink(None, sample_rate=RATE)
    turns = conversation.run(replay(scripted_audio([(0.48, 2.52)], 4.0)), sink)

    assert len(turns) == 1
    turn = turns[0]
    assert turn.status == "ok"
    assert turn.user_text == "what is the capital of france"
    expected_marks = {
        "speech_start": 0.48,
        "speech_end": 2.52,
        "endpoint": 2.82,
        "asr_final": 2.82,
        "llm_start": 2.82,
        "llm_first_token": 3.02,
        "first_sentence": 3.22,
        "tts_first_audio": 3.27,
        "playback_start": 3.27,
    }
    for name, value in expected_marks.items():
        assert turn.marks[name] == pytest.approx(value, abs=1e-6), name
    figures = turn.figures
    assert figures["end_of_turn_delay"] == pytest.approx(0.30, abs=1e-6)
    assert figures["transcription_delay"] == pytest.approx(0.0, abs=1e-6)
    assert figures["llm_ttft"] == pytest.approx(0.20, abs=1e-6)
    assert figures["llm_ttfs"] == pytest.approx(0.40, abs=1e-6)
    assert figures["tts_ttfb"] == pytest.approx(0.05, abs=1e-6)
    assert figures["e2e_latency"] == pytest.approx(0.75, abs=1e-6)
    assert conversation.listener.asr.calls == 1  # type: ignore[attr-defined]
    assert tts.spoken == ["The capital is Paris.", "It is lovely."]
    # Both sentences play back to back; the turn ends when playback ends.
    spoken_s = (len("The capital is Paris.") + len("It is lovely.")) * 0.05
    assert turn.reply_audio_s == pytest.approx(spoken_s, abs=1e-3)
    assert turn.marks["turn_end"] >= turn.marks["playback_start"] + spoken_s - 1e-6
    assert turn.stall_s == 0.0  # the second sentence was ready before the first had played

    kinds = [line.split(":")[0] for line in view.lines]
    assert kinds.index("user") < kinds.index("reply") < kinds.index("turn")
    logged = read_log(tmp_path / "session.jsonl")
    assert len(logged) == 1
    assert logged[0]["user_text"] == turn.user_text
    assert logged[0]["reply_text"] == "The capital is Paris. It is lovely."
    assert set(expected_marks) <= set(logged[0]["marks"])
    assert logged[0]["figures"]["e2e_latency"] == pytest.approx(0.75, abs=1e-3)
    # The reply audio sits where it was played: silence before 3.27 s, voice after.
    out = sink.samples()
    assert not out[: int(3.26 * RATE)].any()
    assert out[int(3.28 * RATE)] != 0


def test_a_reply_that_runs_dry_between_sentences_logs_the_gap() -> None:
    # "Hi." is complete when " It" arrives (0.2 + 0.5 s after the LLM starts); its 0.15 s
    # of audio plays from +0.75 s (50 ms of TTS) to +0.9 s. The fake LLM's next two tokens
    # come 0.5 s apart from then (+1.75 s), and the TTS takes 50 ms: 0.9 s of silence in
    # the middle of the reply.
    clock = FakeClock()
    llm = FakeLlm(clock, ["Hi.", " It", " is", " lovely."], ttft_s=0.2, per_token_s=0.5)
    conversation, _, _ = make_conversation(clock, llm)
    turns = conversation.run(replay(scripted_audio([(0.48, 2.52)], 4.0)),
                             WavSink(None, sample_rate=RATE))
    assert turns[0].stall_s == pytest.approx(0.9, abs=0.02)


def test_streaming_partials_arrive_before_the_endpoint() -> None:
    clock = FakeClock()
    llm = FakeLlm(clock, REPLY, ttft_s=0.2, per_token_s=0.05)
    conversation, view, _ = make_conversation(clock, llm, min_chunk_s=0.5)
    conversation.run(replay(scripted_audio([(0.48, 2.52)], 4.0)), WavSink(None, RATE))
    kinds = [line.split(":")[0] for line in view.lines]
    assert "partial" in kinds
    assert kinds.index("partial") < kinds.index("user")
    # committed words were stamped before the user's turn was final
    assert conversation.words and all(w.emitted <= 2.82 + 1e-6 for w in conversation.words)


class PrefillingLlm(FakeLlm):
    """A FakeLlm with a prompt cache to fill: records each prefill and its clock time."""

    def __init__(self, clock: FakeClock, prefill_s: float = 0.02) -> None:
        super().__init__(clock, REPLY, ttft_s=0.2, per_token_s=0.05)
        self.prefill_s = prefill_s
        self.prefills: list[tuple[float, list[ChatMessage]]] = []

    def prefill(self, messages: Sequence[ChatMessage]) -> None:
        self.prefills.append((self.clock.now(), list(messages)))
        self.clock.sleep(self.prefill_s)


def test_the_llm_reads_the_committed_words_while_the_user_speaks() -> None:
    clock = FakeClock()
    llm = PrefillingLlm(clock)
    conversation, _, _ = make_conversation(clock, llm, min_chunk_s=0.5)
    audio = scripted_audio([(0.48, 2.52)], 6.0)
    turns = conversation.run(replay(audio), WavSink(None, RATE))
    question = "what is the capital of france"
    assert [t.status for t in turns] == ["ok"]
    during = [(at, m) for at, m in llm.prefills if at < 2.52]
    assert during, "the conversation is prefilled before the user stops speaking"
    for _, messages in during:
        assert [m.role for m in messages] == ["system", "user"]
        assert messages[-1].content and question.startswith(messages[-1].content)
    assert len({m[-1].content for _, m in during}) >= 2  # it follows the words as they come
    assert llm.requests == [[ChatMessage("system", llm.requests[0][0].content),
                             ChatMessage("user", question)]]
    # once the reply is over, the history as the next turn will see it
    at, after = llm.prefills[-1]
    assert at >= turns[0].marks["turn_end"] - 1e-6
    assert [(m.role, m.content) for m in after[1:]] == [
        ("user", question), ("assistant", turns[0].reply_text), ("user", "")]


def test_the_newest_hypothesis_is_prefilled_before_its_words_are_committed() -> None:
    # LocalAgreement commits a word only when a second decode agrees, so the committed
    # words trail the speech by a decode or two; the prefill reads the newest hypothesis
    # (committed + partial), so the words that stay are read while the user still speaks.
    clock = FakeClock()
    llm = PrefillingLlm(clock)
    conversation, _, _ = make_conversation(clock, llm, min_chunk_s=0.5)
    conversation.run(replay(scripted_audio([(0.48, 2.52)], 6.0)), WavSink(None, RATE))
    first_at, first = llm.prefills[0]
    committed_then = [w for w in conversation.words if w.emitted <= first_at]
    said = first[-1].content
    assert said and "what is the capital of france".startswith(said)
    assert len(said.split()) > len(committed_then), (said, committed_then)


def test_words_committed_by_a_decode_that_ended_in_a_pause_are_not_prefilled() -> None:
    # Steps every 0.5 s of audio, 0.1 s each: one runs 2.22-2.32 s. Speaking to 2.31 s, its
    # words are prefilled at 2.32 s; stopping at 2.28 s, the VAD has called the pause by
    # the time that decode ends, the pause decode and the reply come next, and a prefill
    # beside them would only slow them: none until the turn is over.
    def prefill_times(speech_end: float) -> tuple[list[float], float]:
        clock = FakeClock()
        llm = PrefillingLlm(clock)
        conversation, _, _ = make_conversation(clock, llm, min_chunk_s=0.5)
        audio = scripted_audio([(0.48, speech_end)], 6.0)
        (turn,) = conversation.run(replay(audio), WavSink(None, RATE))
        return [at for at, _ in llm.prefills], turn.marks["llm_start"]

    speaking, _ = prefill_times(2.31)
    assert [t for t in speaking if 2.2 < t < 2.4] == pytest.approx([2.32])
    paused, llm_start = prefill_times(2.28)
    assert paused[0] < 2.28 and not [t for t in paused if 2.28 < t < llm_start + 1.0]


def test_prefill_off_in_the_config_never_calls_it() -> None:
    clock = FakeClock()
    llm = PrefillingLlm(clock)
    conversation, _, _ = make_conversation(clock, llm, min_chunk_s=0.5, prefill=False)
    turns = conversation.run(replay(scripted_audio([(0.48, 2.52)], 6.0)), WavSink(None, RATE))
    assert [t.status for t in turns] == ["ok"] and llm.prefills == []


def test_second_turn_sees_history() -> None:
    clock = FakeClock()
    llm = FakeLlm(clock, REPLY, ttft_s=0.2, per_token_s=0.05)
    conversation, _, _ = make_conversation(clock, llm)
    audio = scripted_audio([(0.48, 2.52), (8.01, 9.51)], 11.0)
    turns = conversation.run(replay(audio), WavSink(None, RATE))
    assert [t.status for t in turns] == ["ok", "ok"]
    second_request = [m.role for m in llm.requests[1]]
    assert second_request == ["system", "user", "assistant", "user"]


def test_half_duplex_ignores_speech_while_the_bot_talks() -> None:
    clock = FakeClock()
    llm = FakeLlm(clock, REPLY, ttft_s=0.2, per_token_s=0.05)
    conversation, _, _ = make_conversation(clock, llm)
    # 3.6-4.2 s falls inside the reply's playback (3.37 s .. ~5.1 s): muted.
    audio = scripted_audio([(0.48, 2.52), (3.6, 4.2)], 7.0)
    turns = conversation.run(replay(audio), WavSink(None, RATE))
    assert len(turns) == 1 and turns[0].status == "ok"


def test_barge_in_cuts_playback_and_starts_the_next_turn() -> None:
    clock = FakeClock()
    long_reply = [*REPLY, " It", " has", " many", " museums.", " People", " love", " it."]
    llm = FakeLlm(clock, long_reply, ttft_s=0.2, per_token_s=0.05)
    # resume_after_s 0: speech over the reply stops it at once (no pause to judge the words
    # first, tests/test_duplex.py)
    conversation, view, _ = make_conversation(clock, llm, barge_in=True, resume_after_s=0.0)
    sink = WavSink(None, sample_rate=RATE)
    # The reply plays from 3.27 s (1.05 s a sentence); the user cuts in at 4.6 s, during the
    # second sentence.
    audio = scripted_audio([(0.48, 2.52), (4.59, 6.09)], 10.0)
    turns = conversation.run(replay(audio), sink)

    assert [t.status for t in turns] == ["interrupted", "ok"]
    first, second = turns
    assert first.reply_text == "The capital is Paris. It is lovely."  # what was heard
    assert llm.requests[1][-2].content == first.reply_text
    detected = 4.59 + 0.06  # onset + start_over_reply_ms of speech (60 by default)
    stop = first.marks["turn_end"]
    assert detected <= stop < detected + 0.2
    out = sink.samples()
    # nothing plays between the cut and the second reply
    assert not out[int((stop + 0.001) * RATE): int((second.marks["playback_start"] - 0.001)
                                                   * RATE)].any()
    assert "barge-in" in (first.error or "")
    assert any("barge-in" in line for line in view.lines)


def test_a_backend_failure_fails_the_turn_and_the_loop_goes_on(tmp_path: Path) -> None:
    clock = FakeClock()
    llm = FakeLlm(clock, REPLY, ttft_s=0.2, per_token_s=0.05, fail_on=[2], fail_after=2)
    log = SessionLog(tmp_path / "s.jsonl")
    conversation, view, _ = make_conversation(clock, llm, log=log)
    audio = scripted_audio([(0.48, 2.52), (8.01, 9.51), (15.0, 16.5)], 18.0)
    turns = conversation.run(replay(audio), WavSink(None, RATE))
    assert [t.status for t in turns] == ["ok", "failed", "ok"]
    assert turns[1].error is not None and "fake LLM exploded" in turns[1].error
    assert any("failed" in line for line in view.lines)
    assert [r["status"] for r in read_log(tmp_path / "s.jsonl")] == ["ok", "failed", "ok"]


def test_ctrl_c_mid_reply_keeps_the_finished_turns(tmp_path: Path) -> None:
    clock = FakeClock()
    llm = FakeLlm(clock, REPLY, ttft_s=0.2, per_token_s=0.05, fail_on=[2], fail_after=3,
                  failure=KeyboardInterrupt())
    log = SessionLog(tmp_path / "s.jsonl")
    conversation, _, _ = make_conversation(clock, llm, log=log)
    audio = scripted_audio([(0.48, 2.52), (8.01, 9.51)], 12.0)
    with pytest.raises(KeyboardInterrupt):
        conversation.run(replay(audio), WavSink(None, RATE))
    logged = read_log(tmp_path / "s.jsonl")
    assert [r["status"] for r in logged] == ["ok", "interrupted"]
    assert logged[1]["error"] == "stopped by Ctrl-C"


def test_noise_without_words_is_not_a_turn() -> None:
    clock = FakeClock()
    llm = FakeLlm(clock, REPLY, ttft_s=0.2, per_token_s=0.05)
    conversation, view, _ = make_conversation(clock, llm, asr_text="")
    turns = conversation.run(replay(scripted_audio([(0.48, 2.52)], 4.0)), WavSink(None, RATE))
    assert turns == []
    assert llm.requests == []
    assert any("no words" in line for line in view.lines)


def test_input_ending_mid_utterance_is_still_answered() -> None:
    clock = FakeClock()
    llm = FakeLlm(clock, REPLY, ttft_s=0.2, per_token_s=0.05)
    conversation, _, _ = make_conversation(clock, llm)
    turns = conversation.run(replay(scripted_audio([(0.48, 2.52)], 2.52)), WavSink(None, RATE))
    assert [t.status for t in turns] == ["ok"]
    assert turns[0].user_text == "what is the capital of france"


def test_user_who_goes_on_after_a_pause_is_answered_once_at_the_end() -> None:
    # The endpoint fires at 2.82 s and the reply starts, but the user resumes at 3.0 s,
    # before any reply audio (due at 3.27 s): that reply is dropped, the turn goes on, and
    # the answer comes after the second part.
    clock = FakeClock()
    llm = FakeLlm(clock, REPLY, ttft_s=0.2, per_token_s=0.05)
    conversation, _, tts = make_conversation(clock, llm, speculative=True)
    audio = scripted_audio([(0.48, 2.52), (3.0, 4.5)], 8.0)
    turns = conversation.run(replay(audio), WavSink(None, RATE))
    assert [t.status for t in turns] == ["ok"]
    assert turns[0].marks["speech_end"] == pytest.approx(4.5, abs=1e-6)
    assert turns[0].marks["speech_start"] == pytest.approx(0.48, abs=1e-6)
    assert len(llm.requests) >= 2  # the reply(s) started in the pauses were dropped
    assert [m.role for m in llm.requests[-1]] == ["system", "user"]
    assert tts.spoken[0] == "The capital is Paris."
    assert turns[0].marks["playback_start"] > 4.5


def test_a_monologue_is_cut_and_answered_without_unbounded_buffers() -> None:
    clock = FakeClock()
    llm = FakeLlm(clock, REPLY, ttft_s=0.2, per_token_s=0.05)
    conversation, view, _ = make_conversation(clock, llm, max_utterance_s=5.0)
    turns = conversation.run(replay(scripted_audio([(0.48, 14.0)], 16.0)), WavSink(None, RATE))
    assert turns and turns[0].forced and turns[0].status == "ok"
    assert any("long utterance" in line for line in view.lines)
    assert turns[0].marks["endpoint"] == pytest.approx(0.48 + 5.0, abs=0.05)


def test_speculative_reply_is_held_until_the_endpoint_then_plays_at_once() -> None:
    # After the decode in the pause (2.61-2.71 s) the reply starts on the tentative text; a
    # fast LLM and TTS have audio ready at 2.82 s, held until the endpoint (2.82 s) confirms
    # the transcript, then played at once: e2e latency = the endpoint silence alone.
    clock = FakeClock()
    llm = FakeLlm(clock, REPLY, ttft_s=0.02, per_token_s=0.01)
    conversation, _, _ = make_conversation(clock, llm, speculative=True)
    sink = WavSink(None, sample_rate=RATE)
    turns = conversation.run(replay(scripted_audio([(0.48, 2.52)], 5.0)), sink)
    assert [t.status for t in turns] == ["ok"]
    expected = {
        "speech_end": 2.52,
        "llm_start": 2.71,
        "llm_first_token": 2.73,
        "first_sentence": 2.77,
        "tts_first_audio": 2.82,
        "endpoint": 2.82,
        "asr_final": 2.82,
        "playback_start": 2.82,
    }
    for name, value in expected.items():
        assert turns[0].marks[name] == pytest.approx(value, abs=1e-6), name
    assert turns[0].figures["e2e_latency"] == pytest.approx(0.30, abs=1e-6)
    assert len(llm.requests) == 1
    assert llm.requests[0][-1].content == "what is the capital of france"


def test_speculative_reply_on_a_slow_llm_is_released_when_final() -> None:
    clock = FakeClock()
    llm = FakeLlm(clock, REPLY, ttft_s=0.2, per_token_s=0.05)
    conversation, _, _ = make_conversation(clock, llm, speculative=True)
    turns = conversation.run(replay(scripted_audio([(0.48, 2.52)], 5.0)), WavSink(None, RATE))
    marks = turns[0].marks
    # the endpoint frame (2.82 s) is read after the LLM's first token step (2.71-2.91 s)
    assert marks["llm_start"] == pytest.approx(2.71, abs=1e-6)
    assert marks["endpoint"] == pytest.approx(2.91, abs=1e-6)
    assert marks["playback_start"] == pytest.approx(3.16, abs=1e-6)
    assert turns[0].figures["e2e_latency"] == pytest.approx(0.64, abs=1e-6)


def test_speculative_reply_is_dropped_when_speech_resumes_within_the_pause() -> None:
    # A 0.21 s pause (shorter than the 0.3 s endpoint silence) after 1.5 s: the pause decode
    # (1.59-1.69 s) starts a speculative reply, the user goes on at 1.71 s, the reply is
    # dropped with its marks; the heard reply is the one started after the real end.
    clock = FakeClock()
    llm = FakeLlm(clock, REPLY, ttft_s=0.2, per_token_s=0.05)
    conversation, _, _ = make_conversation(clock, llm, speculative=True)
    audio = scripted_audio([(0.48, 1.5), (1.71, 2.52)], 6.0)
    turns = conversation.run(replay(audio), WavSink(None, RATE))
    assert [t.status for t in turns] == ["ok"]
    marks = turns[0].marks
    assert len(llm.requests) == 2
    assert marks["llm_start"] == pytest.approx(2.71, abs=1e-6)
    assert marks["llm_first_token"] > marks["llm_start"] > marks["speech_end"]


def test_an_empty_speculative_reply_waits_for_the_final_before_failing() -> None:
    clock = FakeClock()
    llm = FakeLlm(clock, [], ttft_s=0.02, per_token_s=0.01)
    conversation, _, _ = make_conversation(clock, llm, speculative=True)
    turns = conversation.run(replay(scripted_audio([(0.48, 2.52)], 5.0)), WavSink(None, RATE))
    assert [t.status for t in turns] == ["failed"]
    assert turns[0].error == "the model returned an empty reply"
    assert turns[0].marks["turn_end"] >= turns[0].marks["endpoint"]
    assert len(llm.requests) == 2  # the speculative one, then the one on the final text


def test_a_reply_over_the_users_speech_is_flagged_as_overlapped(tmp_path: Path) -> None:
    # Half-duplex: the endpoint fires after the first 0.3 s pause, the reply plays from
    # 3.27 s for 1.7 s, and the user goes on speaking 3.6-4.4 s, muted. The turn says the
    # reply played over 0.8 s of their speech: its e2e is not what they heard.
    clock = FakeClock()
    llm = FakeLlm(clock, REPLY, ttft_s=0.2, per_token_s=0.05)
    log = SessionLog(tmp_path / "s.jsonl")
    conversation, _, _ = make_conversation(clock, llm, log=log)
    audio = scripted_audio([(0.48, 2.52), (3.6, 4.4)], 7.0)
    turns = conversation.run(replay(audio), WavSink(None, RATE))
    assert turns[0].overlap_s == pytest.approx(0.8, abs=0.035)
    assert turns[0].overlapped
    assert "(ok, overlapped)" in format_turn_table(turns[0])
    assert "played over 0.8 s of your speech" in format_turn_table(turns[0])
    logged = read_log(tmp_path / "s.jsonl")[0]
    assert logged["overlapped"] is True and logged["overlap_s"] == pytest.approx(0.8, abs=0.035)


def test_a_clean_turn_is_not_overlapped() -> None:
    clock = FakeClock()
    llm = FakeLlm(clock, REPLY, ttft_s=0.2, per_token_s=0.05)
    conversation, _, _ = make_conversation(clock, llm)
    turns = conversation.run(replay(scripted_audio([(0.48, 2.52)], 6.0)), WavSink(None, RATE))
    assert turns[0].overlap_s == 0.0 and not turns[0].overlapped
    assert "overlapped" not in format_turn_table(turns[0])

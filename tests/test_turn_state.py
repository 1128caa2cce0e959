"""The conversation's explicit state: the reply handle, the turn, the floor policy, the
speculation policy and the workers, each on its own (no loop, no clock)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np
import pytest

from voicebot.audio.sinks import Playback
from voicebot.events import ChatMessage
from voicebot.floor import Floor
from voicebot.llm.history import ChatHistory
from voicebot.reply import AudioChunk, ReplyEvent, TextDelta
from voicebot.reply_handle import ReplyHandle
from voicebot.reply_worker import Pending, ReplyWorker
from voicebot.speculation import Speculation
from voicebot.turn_state import Turn
from voicebot.workers import Workers

RATE = 16000


def chunk(index: int, silent_s: float = 0.0, voice_s: float = 0.5) -> AudioChunk:
    samples = np.concatenate([np.zeros(int(silent_s * RATE), np.float32),
                              np.full(int(voice_s * RATE), 0.2, np.float32)])
    return AudioChunk(samples=samples, sample_rate=RATE, sentence_index=index)


def handle(speculative: str | None = None, at: float = 1.0) -> ReplyHandle:
    return ReplyHandle.start(iter(()), threading.Event(), speculative, at)


def test_a_speculative_reply_holds_its_audio_until_confirmed_then_plays() -> None:
    reply = handle("what time is it")
    assert reply.state == "speculative" and reply.unconfirmed and not reply.waiting
    first = chunk(0)
    reply.hold(first)
    assert reply.state == "held" and reply.waiting and not reply.audible
    assert reply.confirm() == [first]
    assert reply.state == "confirmed" and not reply.held and reply.speculative_text is None
    reply.played(first, Playback(expected=2.0), audible_offset=0.1)
    assert reply.state == "playing" and reply.audible
    assert reply.audible_at == pytest.approx(2.1)


def test_silent_audio_does_not_make_a_reply_audible() -> None:
    reply = handle()
    reply.played(chunk(0, voice_s=0.0, silent_s=0.2), Playback(expected=2.0), None)
    assert reply.state == "confirmed" and reply.first_heard is None
    assert "playback_start" not in reply.marks()


def test_the_device_figure_of_the_first_sample_replaces_the_expected_one_in_the_marks() -> None:
    reply = handle(at=1.0)
    playback = Playback(expected=2.0)
    reply.played(chunk(0), playback, audible_offset=0.05)
    playback.started = 2.02  # the device's thread says when the block really began
    reply.ends_at = 4.0
    marks = reply.marks()
    assert marks["llm_start"] == 1.0
    assert marks["playback_start"] == pytest.approx(2.07)
    assert marks["playback_end"] == 4.0
    assert reply.audible_at == pytest.approx(2.05)  # the decision-time figure is kept


def test_ending_a_reply_cancels_and_closes_its_stream() -> None:
    closed: list[bool] = []

    def events() -> Iterator[ReplyEvent]:
        try:
            yield TextDelta("Hi")
            yield TextDelta(" there")
        finally:
            closed.append(True)

    stream = events()
    reply = ReplyHandle.start(stream, threading.Event(), None, 0.0)
    assert next(reply.events) == TextDelta("Hi")
    reply.end("dropped")
    assert reply.cancel.is_set() and closed == [True]
    assert reply.state == "dropped" and reply.ended


def test_a_reply_keeps_only_reply_marks() -> None:
    with pytest.raises(ValueError):
        handle().mark("speech_end", 1.0)  # the turn's, not the reply's


def test_sentences_heard_by_a_time_are_those_whose_audio_had_begun() -> None:
    reply = handle()
    reply.sentences = ["One.", "Two.", "Three."]
    for i, start in enumerate([2.0, 3.0, 4.0]):
        reply.played(chunk(i), Playback(expected=start), 0.0)
    assert reply.heard_by(3.5) == "One. Two."


def test_a_turn_that_goes_on_forgets_the_ends_of_its_earlier_part() -> None:
    turn = Turn.begin(1, speech_start=0.5)
    turn.mark("speech_end", 2.0)
    turn.mark("endpoint", 2.3)
    turn.mark("asr_final", 2.3)
    turn.phase = "replying"
    turn.user_went_on()
    assert turn.phase == "listening"
    turn.mark("speech_end", 4.0)
    turn.mark("endpoint", 4.3)
    record = turn.finish(None, turn_end=5.0)
    assert record.marks == {"speech_start": 0.5, "speech_end": 4.0, "endpoint": 4.3,
                            "turn_end": 5.0}


def test_the_record_gets_its_marks_only_when_the_turn_ends_with_the_heard_reply() -> None:
    turn = Turn.begin(3, speech_start=0.5, user_text="and Spain")
    turn.mark("speech_end", 2.0)
    assert turn.record.marks == {}  # nothing reads marks during the turn
    reply = handle(at=2.4)
    reply.played(chunk(0), Playback(expected=2.9), 0.0)
    turn.record.status = "interrupted"
    record = turn.finish(reply, turn_end=3.5)
    assert turn.phase == "interrupted"
    assert list(record.marks) == ["speech_start", "speech_end", "llm_start",
                                  "playback_start", "turn_end"]
    assert record.index == 3 and record.user_text == "and Spain"


def test_the_floor_resumes_after_quiet_and_pauses_again_if_the_voice_returns() -> None:
    floor = Floor(resume_after_s=1.5, continue_within_s=1.5)
    floor.paused(at=10.0, onset=9.9)
    assert floor.follow(voice=True, now=10.2) is None
    assert floor.follow(voice=False, now=10.5) is None  # quiet from 10.5
    assert floor.follow(voice=False, now=11.9) is None
    assert floor.follow(voice=False, now=12.0) == "resume"
    pause = floor.resume(utterance_open=True)
    assert pause.at == 10.0 and floor.pause is None and floor.resumed is pause
    assert floor.follow(voice=True, now=12.5) == "pause again"
    assert floor.pause is not None and floor.pause.at == 12.5 and floor.resumed is None


def test_the_floor_timer_waits_for_the_final_once_a_decode_had_words() -> None:
    floor = Floor(resume_after_s=1.5, continue_within_s=1.5)
    floor.paused(at=10.0, onset=9.9)
    floor.words_decoded()
    floor.follow(voice=False, now=10.1)
    assert floor.follow(voice=False, now=20.0) is None


@pytest.mark.parametrize(("paused_at", "text", "continues"), [
    (11.0, "and in Spain", True),  # 1.0 s into the reply: the user goes on
    (13.0, "and in Spain", False),  # 3.0 s in: a new turn
    (11.0, "stop", False),  # a request to stop is never merged
])
def test_words_over_the_reply_continue_the_turn_only_early_and_unless_asked_to_stop(
        paused_at: float, text: str, continues: bool) -> None:
    floor = Floor(resume_after_s=1.5, continue_within_s=1.5)
    floor.paused(at=paused_at, onset=paused_at - 0.1)
    pause, merged = floor.give_up(heard_from=10.0, text=text)
    assert merged is continues and pause.at == paused_at and floor.pause is None


def test_a_late_final_pauses_the_reply_again_only_when_asked() -> None:
    floor = Floor(resume_after_s=1.5, continue_within_s=1.5)
    floor.paused(at=10.0, onset=9.9)
    floor.resume(utterance_open=True)
    assert floor.is_late_final(9.9) and not floor.is_late_final(9.0)
    pause = floor.late_final(now=13.0)
    assert floor.pause is pause and pause.at == 13.0 and floor.resumed is None


def history() -> ChatHistory:
    return ChatHistory("Be brief.", 1000, lambda text: len(text.split()))


def test_speculation_starts_once_per_text_and_drops_when_the_user_speaks_again() -> None:
    speculation = Speculation(enabled=True)
    step = speculation.step(reply=None, tentative="what time is it", in_speech=True,
                            history=history())
    assert isinstance(step, list) and step[-1] == ChatMessage("user", "what time is it")
    # the same text again (its reply came back empty): not tried twice
    assert speculation.step(reply=None, tentative="what time is it", in_speech=True,
                            history=history()) is None
    reply = handle("what time is it")
    assert speculation.step(reply=reply, tentative=None, in_speech=True,
                            history=history()) == "drop"
    assert speculation.step(reply=reply, tentative="what time is it", in_speech=True,
                            history=history()) is None


def test_inline_workers_hand_back_the_stream_and_threaded_ones_a_worker_they_join() -> None:
    events: list[ReplyEvent] = [TextDelta("Hi")]
    inline = Workers(threaded=False)
    stream = iter(events)
    assert inline.reply(stream, threading.Event()) is stream

    threaded = Workers(threaded=True)
    release = threading.Event()

    def slow() -> Iterator[ReplyEvent]:
        release.wait(5)
        yield TextDelta("late")

    worker = threaded.reply(slow(), threading.Event())
    assert isinstance(worker, ReplyWorker)
    assert isinstance(next(worker), Pending)
    release.set()
    threaded.close()  # cancels, then waits for the thread
    assert not worker.alive

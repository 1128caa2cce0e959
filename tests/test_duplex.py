"""Full duplex on open speakers: the talk loop with WebRTC's echo canceller, in a simulated
room where the bot's own voice comes back into the microphone (testing/room.py), on a
FakeClock. The canceller is the real one (pywebrtc-audio); the other backends are fakes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from voicebot.assembly import Overrides, build_conversation
from voicebot.audio.echo import EchoMode, echo_wanted
from voicebot.audio.sources import WavReplaySource
from voicebot.audio.wav_sink import WavSink
from voicebot.clock import FakeClock
from voicebot.config import ConversationConfig, EndpointConfig, StreamingConfig, TextConfig
from voicebot.engines import Engines, reused
from voicebot.events import Word
from voicebot.metrics import TurnRecord
from voicebot.pipeline import Conversation
from voicebot.testing.fakes import (
    SPEECH_AMPLITUDE,
    FakeAsr,
    FakeLlm,
    FakeTts,
    FakeVad,
    RecordedView,
    fake_config,
    scripted_audio,
)
from voicebot.testing.room import EchoRoomSource, KnownRoomCanceller
from voicebot.turn.silence import SilenceTurn

RATE = 16000
FRAME = 480
# about 8 s of reply audio: it plays from ~3.3 s to ~11.4 s
REPLY = ["The", " capital", " is", " Paris.", " It", " has", " many", " museums", " and",
         " parks.", " The", " river", " Seine", " runs", " through", " the", " city.",
         " Millions", " visit", " it", " every", " year."]
BOT_VOICE = 0.15  # louder than the user's scripted voice (0.1): a speaker near the mic


def converse(audio: np.ndarray, *, echo: EchoMode, barge_in: bool | str = "auto",
             gain_db: float = 0.0, delay_ms: float = 100.0, known_room: bool = False,
             asr: FakeAsr | None = None, resume_after_s: float = 1.5,
             continue_within_s: float = 1.5, start_over_reply_ms: int = 90,
             ) -> tuple[list[TurnRecord], Conversation, WavSink, FakeLlm]:
    """One session in a simulated room; `known_room` cancels with the room's exact response
    (for the VAD and the recognizer alike) instead of AEC3 (whose suppressor takes a
    synthetic voice under an equally synthetic echo for echo, where it keeps real speech:
    see the test on recorded speech)."""
    clock = FakeClock()
    llm = FakeLlm(clock, REPLY, ttft_s=0.2, per_token_s=0.05)
    cfg = fake_config(
        endpoint=EndpointConfig(threshold=0.5, start_ms=90, end_ms=300, preroll_ms=300,
                                start_over_reply_ms=start_over_reply_ms),
        streaming=StreamingConfig(min_chunk_s=5.0),
        text=TextConfig(early_first_chunk=False, max_reply_sentences=9, max_reply_words=99),
        conversation=ConversationConfig(barge_in=barge_in,  # type: ignore[arg-type]
                                        speculative_reply=False, prefill=False,
                                        resume_after_s=resume_after_s,
                                        continue_within_s=continue_within_s),
    )
    tts = FakeTts(clock, first_audio_s=0.05, sample_rate=RATE, voice_amplitude=BOT_VOICE)
    if asr is not None:
        asr.clock = clock
    engines = Engines(reused(FakeVad(RATE, FRAME)),
                      asr or FakeAsr(clock, "what about paris", 0.1), llm, tts, SilenceTurn())
    conversation = build_conversation(cfg, engines, clock=clock, view=RecordedView(),
                                      overrides=Overrides(inline=True, echo=echo))
    sink = WavSink(None, sample_rate=RATE)
    room = EchoRoomSource(WavReplaySource(audio, RATE, FRAME, speed=1.0), sink.played,
                          gain_db=gain_db, delay_ms=delay_ms)
    if known_room:  # exact, so the recognizer hears its output too (no words filter)
        conversation.make_canceller = lambda rate: KnownRoomCanceller(room.response, rate)
        conversation.echo_words = "aec3"
    return conversation.run(room, sink), conversation, sink, llm


def test_without_a_canceller_an_open_microphone_hears_the_bot_and_cuts_it_off() -> None:
    # the hazard the canceller removes: barge-in on open speakers with nothing cancelled
    turns, conversation, _, _ = converse(scripted_audio([(0.48, 2.52)], 10.0), echo="off",
                                         barge_in=True, resume_after_s=0.0)
    assert conversation.echo is None
    assert turns[0].status == "interrupted"
    assert "barge-in" in (turns[0].error or "")
    # pausing for a voice without words only turns the cut into a stutter
    turns, _, _, _ = converse(scripted_audio([(0.48, 2.52)], 10.0), echo="off", barge_in=True)
    assert turns[0].pauses


@pytest.mark.parametrize(("gain_db", "delay_ms"), [(0.0, 50.0), (0.0, 200.0), (-10.0, 100.0)])
def test_with_the_canceller_the_bot_does_not_interrupt_itself(gain_db: float,
                                                              delay_ms: float) -> None:
    turns, conversation, sink, _ = converse(scripted_audio([(0.48, 2.52)], 10.0), echo="on",
                                            gain_db=gain_db, delay_ms=delay_ms)
    assert conversation.echo is not None and conversation.barge_in  # duplex: auto barge-in
    assert [t.status for t in turns] == ["ok"]  # one turn: no words heard from the bot
    played = sink.samples()
    assert len(played) / RATE > 3.5  # the whole reply played
    assert conversation.echo.cpu_s > 0 and conversation.echo.audio_s == pytest.approx(10.0,
                                                                                       abs=0.1)


def test_the_user_speaking_over_the_reply_stops_it_and_is_answered() -> None:
    # the reply plays from ~3.3 s, and the canceller has learned the room 3 s later; the
    # user speaks over it at 7.6-9.1 s
    audio = scripted_audio([(0.48, 2.52), (7.6, 9.1)], 20.0)
    turns, conversation, sink, llm = converse(audio, echo="on", known_room=True)
    assert conversation.echo is not None and conversation.echo.learned
    view = conversation.view
    assert isinstance(view, RecordedView)
    assert sum("room learned" in line for line in view.lines) == 1  # said once, when it is
    assert [t.status for t in turns] == ["interrupted", "ok"]
    first, second = turns
    onset = 7.6
    out = sink.samples()
    assert out[int((onset - 0.2) * RATE): int(onset * RATE)].any()  # playing until then
    # silent within 300 ms (paused at the onset, stopped once the words were known)
    assert not out[int((onset + 0.3) * RATE): int(second.marks["playback_start"] * RATE)].any()
    assert first.marks["turn_end"] > 9.1 and not first.pauses
    assert second.user_text == "what about paris"  # the speech over the reply is a turn
    assert len(llm.requests) == 2


def test_the_reference_is_aligned_with_the_microphone_sample_for_sample() -> None:
    # A canceller that knows the room leaves nothing of the echo only if what the sink
    # says it played, and when, lines up with the microphone's frames to the sample.
    clock = FakeClock()
    cfg = fake_config(conversation=ConversationConfig(speculative_reply=False, prefill=False))
    engines = Engines(reused(FakeVad(RATE, FRAME)), FakeAsr(clock, "hello", 0.1),
                      FakeLlm(clock, REPLY, ttft_s=0.2, per_token_s=0.05),
                      FakeTts(clock, 0.05, RATE, voice_amplitude=BOT_VOICE), SilenceTurn())
    conversation = build_conversation(cfg, engines, clock=clock, view=RecordedView(),
                                      overrides=Overrides(inline=True, echo="on"))
    sink = WavSink(None, sample_rate=RATE)
    room = EchoRoomSource(WavReplaySource(scripted_audio([(0.48, 2.52)], 9.0), RATE, FRAME),
                          sink.played, delay_ms=130.0)
    residual: list[float] = []

    class Recording(KnownRoomCanceller):
        def process(self, near: np.ndarray, far: np.ndarray) -> np.ndarray:
            out = super().process(near, far)
            if np.abs(near).max() > 0.01:
                residual.append(float(np.abs(out).max()))
            return out

    conversation.make_canceller = lambda rate: Recording(room.response, rate)
    turns = conversation.run(room, sink)
    assert [t.status for t in turns] == ["ok"]
    assert room.echo  # the reply came back into the microphone ...
    user_frames = round((2.52 - 0.48) / 0.01)
    echo_residual = residual[user_frames + 1:]
    assert len(echo_residual) > 200  # ... for seconds
    assert max(echo_residual) < 1e-4  # ... and nothing of it is left


def test_the_echo_recording_holds_microphone_reference_cleaned_and_words_on_one_time_base(
        tmp_path: Path) -> None:
    clock = FakeClock()
    cfg = fake_config(conversation=ConversationConfig(speculative_reply=False, prefill=False))
    engines = Engines(reused(FakeVad(RATE, FRAME)), FakeAsr(clock, "hello", 0.1),
                      FakeLlm(clock, REPLY, ttft_s=0.2, per_token_s=0.05),
                      FakeTts(clock, 0.05, RATE, voice_amplitude=BOT_VOICE), SilenceTurn())
    recording = tmp_path / "echo.wav"
    conversation = build_conversation(
        cfg, engines, clock=clock, view=RecordedView(),
        overrides=Overrides(inline=True, echo="on", echo_recording=recording))
    sink = WavSink(None, sample_rate=RATE)
    audio = scripted_audio([(0.48, 2.52)], 9.0)
    room = EchoRoomSource(WavReplaySource(audio, RATE, FRAME), sink.played, delay_ms=130.0)
    conversation.run(room, sink)
    data, rate = sf.read(recording, dtype="float32", always_2d=True)
    assert rate == RATE and data.shape == (len(audio), 4)
    mic, reference, cleaned, words = data.T
    before_reply = int(2.6 * RATE)
    assert np.array_equal(mic[:before_reply], audio[:before_reply])  # the user, as heard
    assert room.echo and np.abs(mic - audio).max() > 0.01  # and then the bot's echo
    played = sink.samples()[: len(mic)]
    assert np.array_equal(reference[: len(played)], played)  # what it played, and when
    lag = _best_lag(mic[int(3.5 * RATE):], reference[int(3.5 * RATE):], RATE // 4)
    assert lag == round(0.130 * RATE)  # the room's delay, found in the recording
    assert np.abs(cleaned[int(2.6 * RATE):]).max() < np.abs(mic[int(2.6 * RATE):]).max()
    assert np.abs(words[int(2.6 * RATE):]).max() < np.abs(mic[int(2.6 * RATE):]).max()


def _best_lag(near: np.ndarray, far: np.ndarray, most: int) -> int:
    span = len(near) - most
    scores = [float(np.dot(near[lag:lag + span], far[:span])) for lag in range(most)]
    return int(np.argmax(scores))


def test_until_the_canceller_has_learned_the_room_the_reply_cannot_be_interrupted() -> None:
    # AEC3 passes echo while it learns (audio/echo.py): speech 1.2 s into the session's
    # first reply is silenced with the echo, as half-duplex would, and the reply goes on
    audio = scripted_audio([(0.48, 2.52), (4.5, 5.5)], 14.0)
    turns, conversation, _, _ = converse(audio, echo="on", known_room=True)
    assert [t.status for t in turns] == ["ok"]
    assert conversation.echo is not None and conversation.echo.gated_s > 2.5
    view = conversation.view
    assert isinstance(view, RecordedView)
    learned = [i for i, line in enumerate(view.lines) if "room learned" in line]
    assert conversation.echo.learned and len(learned) == 1


def test_half_duplex_stays_as_it_was_when_the_canceller_is_off() -> None:
    # echo off, barge-in auto: muted while the bot talks, so its echo is never heard
    turns, conversation, _, _ = converse(scripted_audio([(0.48, 2.52)], 10.0), echo="off")
    assert conversation.echo is None and not conversation.barge_in
    assert [t.status for t in turns] == ["ok"]


def test_auto_turns_the_canceller_on_only_between_live_devices() -> None:
    assert echo_wanted("auto", live_input=True, live_output=True)
    assert not echo_wanted("auto", live_input=False, live_output=True)
    assert not echo_wanted("auto", live_input=True, live_output=False)
    assert echo_wanted("on", live_input=False, live_output=False)
    assert not echo_wanted("off", live_input=True, live_output=True)
    # a replayed WAV into a WAV sink: auto leaves the loop as it was (half-duplex)
    _, conversation, _, _ = converse(scripted_audio([(0.48, 2.52)], 6.0), echo="auto")
    assert conversation.echo is None and not conversation.barge_in


def test_the_simulated_user_waits_for_the_reply_or_speaks_into_it() -> None:
    from voicebot.audio.played import PlayedAudio
    from voicebot.testing.user import Line, SimulatedUser

    played = PlayedAudio(RATE)
    line = np.full(RATE // 2, 0.1, dtype=np.float32)  # 0.5 s
    user = SimulatedUser([Line(line), Line(line), Line(line, into_reply_s=1.0)], played,
                         FRAME, lead_s=0.5, pause_s=1.0)
    t = 0.0
    while not user.finished and t < 60.0:
        t += 0.03
        user.read_available(t)
        if abs(t - 2.0) < 0.015:  # the reply to line 1 plays 2-4 s
            played.add(2.0, np.full(2 * RATE, 0.2, dtype=np.float32))
        if abs(t - 6.0) < 0.015:  # the reply to line 2 plays 6-9 s
            played.add(6.0, np.full(3 * RATE, 0.2, dtype=np.float32))
    first, second, third = user.onsets
    assert first == pytest.approx(0.51, abs=0.03)  # after the lead silence
    assert second == pytest.approx(5.0, abs=0.04)  # the reply ended at 4 s, + 1 s pause
    assert third == pytest.approx(7.0, abs=0.04)  # 1 s into the reply that began at 6 s
    assert user.finished


class ByLengthAsr(FakeAsr):
    """Hears the text of the first (longest span, text) whose span the utterance's voice
    fits in: "mm-hm" for a short one, a sentence for a long one."""

    def __init__(self, texts: list[tuple[float, str]]) -> None:
        super().__init__(FakeClock(), "", 0.1, words_per_second=20.0)
        self.texts = texts

    def transcribe(self, audio: np.ndarray, *, prompt: str = "") -> list[Word]:
        loud = np.flatnonzero(np.abs(audio) > SPEECH_AMPLITUDE / 2)
        span = (loud[-1] - loud[0] + 1) / RATE if len(loud) else 0.0
        self.words = next(text for longest, text in self.texts if span <= longest).split()
        return super().transcribe(audio, prompt=prompt)


def test_a_backchannel_pauses_the_reply_and_it_resumes_where_it_paused() -> None:
    # "mm-hm" at 7.6-8.0 s over the reply (which plays from ~3.3 s)
    audio = scripted_audio([(0.48, 2.52), (7.6, 8.0)], 20.0)
    asr = ByLengthAsr([(0.5, "Mm-hm."), (9.0, "what about paris")])
    turns, _, sink, llm = converse(audio, echo="on", known_room=True, asr=asr)
    assert [t.status for t in turns] == ["ok"] and len(llm.requests) == 1
    (pause,) = turns[0].pauses
    assert pause.kind == "backchannel" and pause.heard == "Mm-hm."
    assert 7.6 < pause.at < 7.7 and 0.3 < pause.paused_s < 1.0
    out = sink.samples()
    silent = _silent_spans(out, RATE)
    assert any(s < 7.75 and e > pause.at + pause.paused_s - 0.05 for s, e in silent)
    whole = converse(scripted_audio([(0.48, 2.52)], 20.0), echo="on", known_room=True)[2]
    # nothing of the reply lost or repeated: the same audio, a pause longer
    assert abs(np.count_nonzero(out) - np.count_nonzero(whole.samples())) < RATE * 0.02
    assert len(out) - len(whole.samples()) == pytest.approx(pause.paused_s * RATE,
                                                            abs=RATE * 0.05)


def test_a_cough_without_words_and_the_bots_own_echo_let_the_reply_go_on() -> None:
    audio = scripted_audio([(0.48, 2.52), (7.0, 7.2), (9.0, 10.2)], 20.0)
    asr = ByLengthAsr([(0.25, ""), (1.5, "the capital is Paris"), (9.0, "what about paris")])
    turns, _, _, llm = converse(audio, echo="on", known_room=True, asr=asr)
    assert [t.status for t in turns] == ["ok"] and len(llm.requests) == 1
    assert [p.kind for p in turns[0].pauses] == ["nothing", "echo"]


def test_over_the_reply_a_voice_starts_after_start_over_reply_ms_and_only_there() -> None:
    """Two 30 ms frames of voice (what AEC3 left of "Wait" over a loud reply in a live run)
    pause the reply with `start_over_reply_ms` 60, and nothing with 90; before the reply,
    the same blip starts no turn either way."""
    audio = scripted_audio([(0.48, 2.52), (7.62, 7.68)], 20.0)
    asr = ByLengthAsr([(0.25, ""), (9.0, "what about paris")])
    turns, _, _, llm = converse(audio, echo="on", known_room=True, asr=asr,
                                start_over_reply_ms=60)
    assert [t.status for t in turns] == ["ok"] and len(llm.requests) == 1
    assert [p.kind for p in turns[0].pauses] == ["nothing"]
    assert 7.62 < turns[0].pauses[0].at < 7.75
    turns = converse(audio, echo="on", known_room=True, asr=asr)[0]
    assert [t.status for t in turns] == ["ok"] and turns[0].pauses == []
    before = scripted_audio([(0.3, 0.36), (1.48, 3.52)], 20.0)
    turns = converse(before, echo="on", known_room=True, asr=asr, start_over_reply_ms=60)[0]
    assert [t.status for t in turns] == ["ok"] and turns[0].marks["speech_start"] > 1.4


def test_words_in_the_first_seconds_of_the_reply_continue_the_turn_answered_once() -> None:
    # A question, its answer, a second question; 0.6 s into its answer the user goes on.
    audio = scripted_audio([(0.48, 2.52), (12.5, 14.1), (15.3, 16.3)], 30.0)
    asr = ByLengthAsr([(1.1, "and Spain"), (9.0, "what about paris")])
    turns, conversation, sink, llm = converse(audio, echo="on", known_room=True, asr=asr)
    assert [t.status for t in turns] == ["ok", "interrupted", "ok"]
    dropped, answered = turns[1], turns[2]
    assert dropped.continued_by == 3 and "went on" in (dropped.error or "")
    assert answered.user_text == "what about paris and Spain"
    users = [m.content for m in llm.requests[2] if m.role == "user"]
    assert users[-1].split() == answered.user_text.split()  # one user turn, not two
    assert len(users) == 2  # the first question, and this one
    history = conversation.history.messages()
    assert [m.role for m in history[1:]] == ["user", "assistant", "user", "assistant"]
    out = sink.samples()
    reply_began = dropped.marks["playback_start"]
    assert 15.3 - 1.5 < reply_began < 15.3  # the user went on within its first seconds
    assert not out[int(15.6 * RATE): int(answered.marks["playback_start"] * RATE)].any()


def test_a_stop_in_the_first_seconds_of_the_reply_stops_it_and_is_not_merged() -> None:
    audio = scripted_audio([(0.48, 2.52), (12.5, 14.1), (15.3, 16.3)], 30.0)
    asr = ByLengthAsr([(1.1, "Wait, stop."), (9.0, "what about paris")])
    turns, _, _, _ = converse(audio, echo="on", known_room=True, asr=asr)
    assert [t.status for t in turns] == ["ok", "interrupted", "ok"]
    assert turns[1].continued_by is None and "barge-in" in (turns[1].error or "")
    assert turns[2].user_text == "Wait, stop."


def test_the_timer_resumes_a_voice_without_words_and_late_words_still_take_the_floor() -> None:
    # a timer (10 ms) that runs out in the pause before the voice's only decode: the reply
    # resumes; then the final's words stop it for good
    audio = scripted_audio([(0.48, 2.52), (7.6, 9.1)], 20.0)
    turns, _, _, llm = converse(audio, echo="on", known_room=True, resume_after_s=0.01)
    assert [t.status for t in turns] == ["interrupted", "ok"]
    assert [p.kind for p in turns[0].pauses] == ["silence"]
    assert turns[1].user_text == "what about paris" and len(llm.requests) == 2


def test_once_a_decode_has_heard_words_the_timer_waits_for_the_final() -> None:
    # the endpoint (0.3 s of silence) comes after the timer (0.2 s), but the pause decode
    # heard words first: the reply stays paused, and the words are the next turn
    audio = scripted_audio([(0.48, 2.52), (7.6, 9.1)], 20.0)
    asr = FakeAsr(FakeClock(), "what about paris", 0.02)
    turns, _, _, _ = converse(audio, echo="on", known_room=True, resume_after_s=0.2,
                              asr=asr)
    assert [t.status for t in turns] == ["interrupted", "ok"]
    assert turns[0].pauses == []  # never resumed while the user was being heard


def test_with_resume_after_s_0_any_voice_stops_the_reply_at_once() -> None:
    audio = scripted_audio([(0.48, 2.52), (7.6, 8.0)], 20.0)
    asr = ByLengthAsr([(0.5, "Mm-hm."), (9.0, "what about paris")])
    turns, _, _, _ = converse(audio, echo="on", known_room=True, asr=asr, resume_after_s=0.0)
    assert [t.status for t in turns] == ["interrupted", "ok"]
    assert 7.6 < turns[0].marks["turn_end"] < 7.9


def _silent_spans(audio: np.ndarray, rate: int, least_s: float = 0.2) -> list[tuple[float, float]]:
    """(start, end) seconds of runs of exact silence at least `least_s` long."""
    quiet = np.concatenate([[False], audio == 0, [False]])
    edges = np.flatnonzero(np.diff(quiet.astype(int)))
    spans = [(a / rate, b / rate) for a, b in zip(edges[::2], edges[1::2], strict=True)]
    return [(a, b) for a, b in spans if b - a >= least_s]

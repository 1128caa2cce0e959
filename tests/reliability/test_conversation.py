"""The talk loop under long and awkward input, on fakes and a FakeClock (exact, fast):
a 10-minute monologue, speech while the microphone is muted, a dropped speculative reply,
and history trimming that keeps llama.cpp's cached prefix stable."""

from __future__ import annotations

import time

from tests.test_pipeline_scenarios import REPLY, make_conversation, replay
from voicebot.audio.wav_sink import WavSink
from voicebot.clock import FakeClock
from voicebot.llm.history import ChatHistory
from voicebot.testing.fakes import FakeLlm, scripted_audio

RATE = 16000


def test_a_ten_minute_monologue_is_answered_in_parts_and_memory_stays_bounded() -> None:
    clock = FakeClock()
    llm = FakeLlm(clock, REPLY, ttft_s=0.1, per_token_s=0.02)
    conversation, _, _ = make_conversation(
        clock, llm, max_utterance_s=30.0, asr_text="word " * 1800)
    began = time.monotonic()
    turns = conversation.run(replay(scripted_audio([(0.5, 600.5)], 602.0)), WavSink(None, RATE))
    took = time.monotonic() - began
    assert turns and all(t.status == "ok" for t in turns)
    assert sum(t.forced for t in turns) >= len(turns) - 1  # cut at max_utterance_s
    assert took < 60, f"10 minutes of audio took {took:.0f} s of wall time on the FakeClock"


def test_speech_while_muted_is_logged_and_shown() -> None:
    # the reply plays 3.05-4.75 s; the user speaks again at 3.5-4.5 s: muted, dropped
    clock = FakeClock()
    llm = FakeLlm(clock, REPLY, ttft_s=0.1, per_token_s=0.02)
    conversation, view, _ = make_conversation(clock, llm)
    audio = scripted_audio([(0.48, 2.52), (3.5, 4.5)], 9.0)
    turns = conversation.run(replay(audio), WavSink(None, RATE))
    assert abs(turns[0].muted_speech_s - 1.0) < 0.04
    assert abs(turns[0].to_json()["muted_speech_s"] - 1.0) < 0.04
    notices = [ln for ln in view.lines if ln.startswith("notice: (you spoke for 1.0 s")]
    assert notices, view.lines


def test_a_dropped_speculative_reply_never_reaches_the_screen() -> None:
    clock = FakeClock()
    llm = FakeLlm(clock, REPLY, ttft_s=0.05, per_token_s=0.01)
    conversation, view, _ = make_conversation(clock, llm, speculative=True)
    audio = scripted_audio([(0.48, 1.5), (1.71, 2.52)], 6.0)
    turns = conversation.run(replay(audio), WavSink(None, RATE))
    assert len(llm.requests) == 2 and [t.status for t in turns] == ["ok"]
    shown = [ln for ln in view.lines if not ln.startswith("partial:")]
    first_reply = next(i for i, ln in enumerate(shown) if ln.startswith("reply:"))
    assert shown[first_reply - 1].startswith("user:")  # "you: …" first, then "bot: …"
    assert "".join(ln[7:] for ln in shown if ln.startswith("reply:")) == "".join(REPLY)


def words(text: str) -> int:
    return len(text.split())


def test_history_drops_old_turns_in_blocks_so_the_prefix_rarely_changes() -> None:
    history = ChatHistory("You are brief.", 200, words)
    changes, previous = 0, None
    for i in range(200):
        history.add_user(f"question number {i} about something interesting here")
        messages = history.messages()
        assert sum(words(m.content) + 4 for m in messages) <= 200
        head = messages[1].content
        if previous is not None and head != previous:
            changes += 1
        previous = head
        history.add_assistant(f"answer number {i} which is a little longer than the question")
    # one turn costs ~22 tokens: the budget holds ~8; dropping to half each time changes the
    # prefix about every 4 turns (dropping one per turn would change it on every turn)
    assert changes <= 200 / 3, changes
    assert history.messages()[-2].content.startswith("question number 199")


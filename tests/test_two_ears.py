"""The VAD over the bot's voice (vad/two_ears.py): a second VAD on the words' filter."""

from __future__ import annotations

import numpy as np
import pytest

from voicebot.clock import FakeClock
from voicebot.config import EndpointConfig, StreamingConfig
from voicebot.events import AudioFrame, SpeechStarted
from voicebot.listener import Listener
from voicebot.testing.fakes import SPEECH_AMPLITUDE, FakeAsr, FakeVad, scripted_audio
from voicebot.vad.two_ears import TwoEars

RATE = 16000
BLOCK = 480


class CountingVad(FakeVad):
    def __init__(self) -> None:
        super().__init__(RATE, BLOCK)
        self.calls = 0
        self.resets = 0

    def speech_prob(self, frame: np.ndarray) -> float:
        self.calls += 1
        return super().speech_prob(frame)

    def reset(self) -> None:
        self.resets += 1


class GradedVad(FakeVad):
    """P grows with the level: a voice that AEC3 let through at a tenth of its level is a
    trace (P 0.1), and silence is 0."""

    def speech_prob(self, frame: np.ndarray) -> float:
        return min(1.0, float(np.abs(frame).mean()) / SPEECH_AMPLITUDE)


SILENT = np.zeros(BLOCK, dtype=np.float32)
VOICE = scripted_audio([(0.0, 0.03)], total_s=0.03)
TRACE = VOICE * np.float32(0.1)  # what AEC3's suppressor let through of a voice


def two_ears() -> tuple[TwoEars, CountingVad]:
    second = CountingVad()
    return TwoEars(GradedVad(RATE, BLOCK), second), second


def test_where_both_outputs_are_the_same_audio_the_second_vad_rests() -> None:
    ears, second = two_ears()
    voice, silent = VOICE, SILENT
    assert ears.speech_prob(voice, voice.copy(), 1.0) == 1.0
    assert ears.speech_prob(silent, silent, 1.0) == 0.0
    assert second.calls == 0


def test_a_voice_the_words_filter_hears_and_aec3_lets_a_trace_of_is_speech() -> None:
    ears, second = two_ears()
    voice, silent = VOICE, SILENT
    assert ears.speech_prob(TRACE, voice, 1.0) == 1.0
    assert ears.speech_prob(voice, silent + 0.001, 1.0) == 1.0  # either ear
    assert second.calls == 2 and second.resets == 1
    ears.speech_prob(silent, silent, 0.0)  # the words are AEC3's output again: it rests
    ears.speech_prob(TRACE, voice, 1.0)  # and starts fresh when they differ again
    assert second.resets == 2


def test_where_aec3_left_nothing_the_words_filter_alone_is_not_a_voice() -> None:
    # the filter's residue of the bot's voice, where AEC3 suppressed it all
    ears, second = two_ears()
    assert ears.speech_prob(SILENT, VOICE, 1.0) == 0.0
    assert ears.speech_prob(TRACE * np.float32(0.4), VOICE, 1.0) < 0.5  # P 0.04: no trace
    assert second.calls == 2


def test_the_words_vad_counts_only_where_the_filter_heard_more_than_the_echo() -> None:
    # where the filter explains the block from the speaker, its output is the bot's residue
    ears, second = two_ears()
    voice = VOICE
    assert ears.speech_prob(TRACE, voice, 0.4) == pytest.approx(0.1)
    assert second.calls == 1  # it still hears every block, to keep its state
    assert ears.speech_prob(TRACE, voice, 0.5) == 1.0


def test_without_a_second_vad_only_what_the_vad_hears_counts() -> None:
    assert TwoEars(GradedVad(RATE, BLOCK)).speech_prob(TRACE, VOICE, 1.0) == pytest.approx(0.1)


def test_the_two_vads_must_take_the_same_frames() -> None:
    with pytest.raises(ValueError, match="same frame length"):
        TwoEars(FakeVad(RATE, BLOCK), FakeVad(RATE, 512))


@pytest.mark.parametrize(("words_vad", "held", "started"),
                         [(True, 1.0, [1.0]), (False, 1.0, []), (True, 0.0, [])])
def test_the_listener_starts_an_utterance_the_words_alone_carry(
        words_vad: bool, held: float, started: list[float]) -> None:
    # AEC3's suppressor silenced the user's first words; the words' filter kept them (and
    # held still there: `held`)
    listener = Listener(GradedVad(RATE, BLOCK), FakeAsr(FakeClock(), "hello", 0.0),
                        EndpointConfig(), StreamingConfig(),
                        words_vad=FakeVad(RATE, BLOCK) if words_vad else None)
    words = scripted_audio([(1.0, 1.6)], total_s=2.0)
    heard = words * np.float32(0.1)  # AEC3 let a trace through
    double_talk = np.full_like(words, held)
    events = []
    for i in range(0, len(words), BLOCK):
        events += listener.push_audio(AudioFrame(heard[i:i + BLOCK], RATE, i / RATE,
                                                 words=words[i:i + BLOCK],
                                                 double_talk=double_talk[i:i + BLOCK]))
    onsets = [e.at for e in events if isinstance(e, SpeechStarted)]
    assert onsets == pytest.approx(started, abs=0.031)

"""The turn judge on its own: the listener's answer to the endpointer's ask, in audio time
(the detector inline, its audio from a timeline, the words handed in)."""

from __future__ import annotations

import numpy as np
import pytest

from voicebot.audio.timeline import AudioTimeline
from voicebot.config import EndpointConfig, TurnConfig
from voicebot.events import Word
from voicebot.testing.fakes import ScriptedDetector
from voicebot.turn.judge import TurnJudge
from voicebot.workers import Workers

RATE = 16000


def judge(detector: ScriptedDetector, text_rule: bool = True, seconds: float = 20.0) -> TurnJudge:
    timeline = AudioTimeline(RATE, 30.0)
    timeline.append(np.zeros(round(seconds * RATE), dtype=np.float32))
    return TurnJudge(detector, EndpointConfig(end_ms=210, preroll_ms=300), TurnConfig(),
                     timeline, text_rule, Workers(threaded=False))


def test_with_the_text_rule_the_answer_waits_for_the_pause_decode() -> None:
    detector = ScriptedDetector(0.9)
    assert judge(detector).decide(2.0, 1.8, onset=0.5, heard=None) is None
    assert detector.calls == []  # inline: no head start without a thread of its own


def test_the_text_rule_overrules_the_detector() -> None:
    detector = ScriptedDetector(0.9)
    words = [Word(0.5, 0.8, "I"), Word(0.8, 1.1, "went"), Word(1.1, 1.5, "to")]
    assert judge(detector).decide(2.0, 1.8, 0.5, words) == 0.0
    assert judge(detector).decide(2.0, 1.8, 0.5, [Word(0.5, 1.5, "Why?")]) == 1.0
    assert judge(detector).decide(2.0, 1.8, 0.5, []) == 0.0
    assert detector.calls == []


def test_a_squeezed_last_word_does_not_hide_the_word_the_sentence_stops_on() -> None:
    words = [Word(0.5, 1.0, "in"), Word(1.0, 1.4, "the"), Word(1.4, 1.45, "year.")]
    detector = ScriptedDetector(0.9)
    assert judge(detector).decide(2.0, 1.8, 0.5, words) == 0.0
    assert judge(detector, text_rule=False).decide(2.0, 1.8, 0.5, words) == 0.9
    assert detector.calls == [(pytest.approx(1.8), "in the year.")]  # onset - pre-roll to now


def test_the_detector_hears_at_most_its_window_of_the_utterance() -> None:
    detector = ScriptedDetector(0.2)
    assert judge(detector).decide(15.0, 14.8, 1.0, [Word(1.0, 14.5, "hello")]) == 0.2
    ((heard_s, text),) = detector.calls
    assert heard_s == pytest.approx(8.0) and text == "hello"

"""The end-of-turn policy, frame by frame in audio time, with a scripted detector: exact
times, no clock, no model."""

from __future__ import annotations

import pytest

from voicebot.config import EndpointConfig, TurnConfig
from voicebot.events import SpeechEnded, SpeechStarted
from voicebot.turn import build_policy
from voicebot.turn.policy import TurnPolicy
from voicebot.vad.segmenter import Endpointer

F = 0.03  # frame seconds


class ScriptedJudge:
    """Answers P(finished) from a list, and records the audio times it was asked at."""

    def __init__(self, *answers: float) -> None:
        self.answers = list(answers)
        self.asked: list[float] = []

    def __call__(self, now: float) -> float:
        self.asked.append(round(now, 6))
        return self.answers.pop(0)


def endpointer(judge: ScriptedJudge, end_ms: int = 210, max_silence_ms: int = 1500,
               recheck_ms: int = 300) -> Endpointer:
    endpoint = EndpointConfig(start_ms=90, end_ms=end_ms)
    turn = TurnConfig(max_silence_ms=max_silence_ms, recheck_ms=recheck_ms, threshold=0.5)
    return Endpointer(endpoint, build_policy(endpoint, turn), judge)


def feed(ep: Endpointer, pattern: str) -> list[object]:
    """One 30 ms frame per character: '#' speech, '.' silence; times rounded."""
    events: list[object] = []
    for i, ch in enumerate(pattern):
        for e in ep.push(i * F, F, 0.9 if ch == "#" else 0.1):
            if isinstance(e, SpeechStarted):
                events.append(SpeechStarted(round(e.at, 6)))
            elif isinstance(e, SpeechEnded):
                events.append(SpeechEnded(round(e.at, 6), round(e.last_speech, 6), e.forced))
    return events


def test_finished_turn_ends_at_the_short_pause() -> None:
    judge = ScriptedJudge(0.9)
    events = feed(endpointer(judge), "#####" + "." * 10)
    # last speech ends at 0.15; 210 ms of silence = 7 frames -> asked at 0.36, ends there
    assert events == [SpeechStarted(0.0), SpeechEnded(0.36, 0.15, False)]
    assert judge.asked == [0.36]


def test_unfinished_turn_waits_and_asks_again() -> None:
    judge = ScriptedJudge(0.1, 0.8)
    events = feed(endpointer(judge), "#####" + "." * 30)
    # asked at 210 ms of silence (0.36): not yet; again 300 ms later (0.66): finished
    assert judge.asked == [0.36, 0.66]
    assert events == [SpeechStarted(0.0), SpeechEnded(0.66, 0.15, False)]


def test_speech_after_a_not_yet_bridges_the_pause_and_starts_over() -> None:
    judge = ScriptedJudge(0.2, 0.9)
    # a 0.6 s pause mid-sentence (20 frames), then more speech, then a finished pause
    events = feed(endpointer(judge, recheck_ms=600), "#####" + "." * 20 + "####" + "." * 8)
    assert judge.asked == [0.36, 1.08]  # the recheck (at 0.96) never came: speech did
    assert events == [SpeechStarted(0.0), SpeechEnded(1.08, 0.87, False)]


def test_hard_timeout_ends_the_turn_whatever_the_detector_says() -> None:
    judge = ScriptedJudge(0.0, 0.0, 0.0, 0.0, 0.0)
    events = feed(endpointer(judge, max_silence_ms=900, recheck_ms=300), "#####" + "." * 40)
    assert judge.asked == [0.36, 0.66, 0.96]
    assert events == [SpeechStarted(0.0), SpeechEnded(1.05, 0.15, False)]  # 30 frames


def test_no_recheck_waits_for_the_hard_timeout() -> None:
    judge = ScriptedJudge(0.3)
    events = feed(endpointer(judge, max_silence_ms=600, recheck_ms=0), "#####" + "." * 30)
    assert judge.asked == [0.36]
    assert events == [SpeechStarted(0.0), SpeechEnded(0.75, 0.15, False)]


def test_without_a_judge_the_fixed_silence_rule_holds() -> None:
    endpoint = EndpointConfig(start_ms=90, end_ms=210)
    ep = Endpointer(endpoint, build_policy(endpoint, TurnConfig()), None)
    assert feed(ep, "#####" + "." * 10) == [SpeechStarted(0.0), SpeechEnded(0.36, 0.15, False)]


def test_policy_alone_needed_silence_grows_after_not_yet() -> None:
    policy = TurnPolicy(first_s=0.2, max_silence_s=2.0, recheck_s=0.5, threshold=0.5)
    assert policy.on_silence(0.1) == "wait"
    assert policy.needed_s == pytest.approx(0.2)
    assert policy.on_silence(0.2) == "ask"
    assert policy.on_verdict(0.2, 0.4) is False
    assert policy.needed_s == pytest.approx(2.0)
    assert policy.on_silence(0.5) == "wait"
    assert policy.on_silence(0.7) == "ask"
    assert policy.on_silence(2.0) == "end"
    policy.reset()
    assert policy.on_silence(0.2) == "ask"
    assert policy.on_verdict(0.2, 0.5) is True


def test_policy_rejects_a_cap_below_the_first_pause() -> None:
    with pytest.raises(ValueError):
        TurnPolicy(first_s=0.5, max_silence_s=0.2, recheck_s=0.0, threshold=0.5)

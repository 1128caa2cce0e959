"""The endpointing state machine, frame by frame, with exact expected times."""

from __future__ import annotations

import pytest

from voicebot.config import EndpointConfig
from voicebot.events import SpeechEnded, SpeechStarted
from voicebot.vad.segmenter import Endpointer, utterance_audio_start

F = 0.03  # frame seconds


def feed(ep: Endpointer, pattern: str, offset: int = 0) -> list[object]:
    """One 30 ms frame per character: '#' speech (prob 0.9), '.' silence (prob 0.1)."""
    events: list[object] = []
    for i, ch in enumerate(pattern):
        events += ep.push((offset + i) * F, F, 0.9 if ch == "#" else 0.1)
    return events


def approx(events: list[object]) -> list[object]:
    """Round times so float sums compare exactly."""
    out: list[object] = []
    for e in events:
        if isinstance(e, SpeechStarted):
            out.append(SpeechStarted(round(e.at, 6)))
        elif isinstance(e, SpeechEnded):
            out.append(SpeechEnded(round(e.at, 6), round(e.last_speech, 6), e.forced))
    return out


def cfg(**kw: float) -> EndpointConfig:
    base = {"threshold": 0.5, "start_ms": 90, "end_ms": 400, "preroll_ms": 300,
            "max_utterance_s": 30.0}
    base.update(kw)
    return EndpointConfig(**base)  # type: ignore[arg-type]


def test_start_after_start_ms_of_speech_at_the_first_speech_frame() -> None:
    ep = Endpointer(cfg())
    assert feed(ep, "....##") == []  # 60 ms: not yet
    assert not ep.in_speech
    assert approx(feed(ep, "#", offset=6)) == [SpeechStarted(0.12)]
    assert ep.in_speech
    assert ep.onset == pytest.approx(0.12)


def test_blips_shorter_than_start_ms_never_start() -> None:
    ep = Endpointer(cfg())
    assert feed(ep, "##.#.##..#." * 5) == []
    assert not ep.in_speech


def test_over_the_reply_an_utterance_starts_after_start_over_reply_ms() -> None:
    """A short word over a loud reply: AEC3 leaves Silero two frames of speech ("Wait" in a
    live run), which start nothing at 90 ms but start an utterance at 60 ms over the reply,
    and only there."""
    ep = Endpointer(cfg(start_over_reply_ms=60))
    assert feed(ep, "..##..") == []  # not over the reply: 90 ms needed
    ep.over_reply = True
    (started,) = feed(ep, "..##", offset=6)
    assert approx([started]) == [SpeechStarted(0.24)]
    assert isinstance(started, SpeechStarted) and started.over_reply  # its pre-roll differs
    ep.reset()
    ep.over_reply = False
    assert feed(ep, "..##..") == []


def test_end_fires_after_end_ms_of_silence() -> None:
    ep = Endpointer(cfg())
    events = feed(ep, "...#####" + "." * 20)
    # speech frames 3..7 -> onset 0.09, last speech ends at 0.24; 400 ms of silence is
    # 14 frames (0.42 s >= 0.4): the 14th silent frame (index 21) ends at 0.66.
    assert approx(events) == [SpeechStarted(0.09), SpeechEnded(0.66, 0.24, False)]
    assert not ep.in_speech
    assert ep.last_end == pytest.approx(0.66)


def test_exact_multiple_of_end_ms_fires_on_that_frame() -> None:
    ep = Endpointer(cfg(end_ms=300))
    events = feed(ep, "####" + "." * 10 + "#")
    assert approx(events) == [SpeechStarted(0.0), SpeechEnded(0.42, 0.12, False)]


def test_pauses_shorter_than_end_ms_are_bridged() -> None:
    ep = Endpointer(cfg())
    events = feed(ep, "#####" + "." * 13 + "#####" + "." * 13 + "###")
    assert approx(events) == [SpeechStarted(0.0)]
    assert ep.in_speech


def test_second_utterance_needs_start_ms_again() -> None:
    ep = Endpointer(cfg())
    pattern = "####" + "." * 14 + "##." + "###"
    events = feed(ep, pattern)
    assert approx(events) == [
        SpeechStarted(0.0),
        SpeechEnded(0.54, 0.12, False),
        SpeechStarted(0.63),
    ]


def test_forced_cut_at_max_utterance_then_continuation() -> None:
    ep = Endpointer(cfg(max_utterance_s=1.5))
    events = feed(ep, "#" * 60)  # 1.8 s of speech from 0.0
    assert approx(events) == [
        SpeechStarted(0.0),
        SpeechEnded(1.5, 1.5, True),
        SpeechStarted(1.5),
    ]
    assert ep.in_speech
    # the continuation is cut again 1.5 s after its own onset
    more = feed(ep, "#" * 50, offset=60)
    assert approx(more) == [SpeechEnded(3.0, 3.0, True), SpeechStarted(3.0)]
    # and its audio starts at the cut, not a pre-roll before it
    assert utterance_audio_start(ep.onset, ep.cfg, ep.last_end) == pytest.approx(3.0)


def test_forced_cut_during_a_pause_does_not_restart() -> None:
    ep = Endpointer(cfg(max_utterance_s=1.5))
    events = feed(ep, "#" * 45 + "." * 10)  # speech to 1.35 s, then a short pause
    assert approx(events) == [SpeechStarted(0.0), SpeechEnded(1.5, 1.35, True)]
    assert not ep.in_speech
    assert approx(feed(ep, "###", offset=55)) == [SpeechStarted(1.65)]


def test_threshold_is_inclusive() -> None:
    ep = Endpointer(cfg(start_ms=0, threshold=0.5))
    assert ep.push(0.0, F, 0.49) == []
    assert ep.push(F, F, 0.5) == [SpeechStarted(F)]


def test_zero_start_and_end_ms() -> None:
    ep = Endpointer(cfg(start_ms=0, end_ms=0))
    assert approx(feed(ep, ".#.")) == [SpeechStarted(0.03), SpeechEnded(0.09, 0.06, False)]


def test_reset_forgets_state() -> None:
    ep = Endpointer(cfg())
    feed(ep, "#####")
    assert ep.in_speech
    ep.reset()
    assert not ep.in_speech
    assert ep.last_end == 0.0
    assert feed(ep, "##", offset=10) == []  # the earlier run does not count
    assert approx(feed(ep, "#", offset=12)) == [SpeechStarted(0.3)]


def test_utterance_audio_start_applies_preroll_with_floors() -> None:
    c = cfg(preroll_ms=300)
    assert utterance_audio_start(2.0, c) == pytest.approx(1.7)
    assert utterance_audio_start(0.1, c) == 0.0
    assert utterance_audio_start(2.0, c, floor=1.9) == pytest.approx(1.9)


def test_an_utterance_begun_over_the_reply_has_its_own_preroll() -> None:
    c = cfg(preroll_ms=300, preroll_over_reply_ms=700)
    assert utterance_audio_start(2.0, c, over_reply=True) == pytest.approx(1.3)
    assert utterance_audio_start(2.0, c, floor=1.5, over_reply=True) == pytest.approx(1.5)
    assert utterance_audio_start(2.0, c, over_reply=False) == pytest.approx(1.7)

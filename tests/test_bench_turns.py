"""`voicebot bench turns` pieces that need no model: where the pause is inserted, and what
counts as a cut-in."""

from __future__ import annotations

import numpy as np
import pytest

from voicebot.bench.turn_sets import insert_pause
from voicebot.bench.turns import Outcome
from voicebot.events import Word
from voicebot.metrics import TurnRecord

RATE = 16000


def test_pause_goes_after_the_function_word_nearest_the_middle() -> None:
    words = [Word(0.0, 0.3, " She"), Word(0.3, 0.5, " went"), Word(0.5, 0.6, " to"),
             Word(0.62, 0.8, " the"), Word(0.85, 1.2, " shop"), Word(1.2, 1.4, " and"),
             Word(1.45, 1.8, " bought"), Word(1.8, 2.2, " bread")]
    audio = np.ones(int(2.3 * RATE), dtype=np.float32)
    audio[int(0.80 * RATE):int(0.85 * RATE)] = 0.0  # the gap between "the" and "shop"
    paused = insert_pause(audio, words, RATE, "x")
    assert paused is not None
    assert paused.text_before == "She went to the"
    assert 0.80 <= paused.pause_at <= 0.85
    assert paused.resume_at == pytest.approx(paused.pause_at + 1.0)
    assert len(paused.audio) == len(audio) + RATE
    start = round(paused.pause_at * RATE)
    assert not paused.audio[start:start + RATE - 1].any()


def test_a_cut_not_heard_to_end_on_the_word_is_skipped() -> None:
    words = [Word(0.0, 0.3, " She"), Word(0.3, 0.5, " went"), Word(0.5, 0.6, " to"),
             Word(0.62, 0.8, " the"), Word(0.85, 1.2, " shop"), Word(1.2, 1.4, " and"),
             Word(1.45, 1.8, " bought"), Word(1.8, 2.2, " bread")]
    audio = np.ones(int(2.3 * RATE), dtype=np.float32)
    # the ASR hears "...the sh" before the first cut: the next candidate ("to") is taken
    heard = {"the": "She went to the sh.", "to": "She went to.", "and": "x"}
    paused = insert_pause(audio, words, RATE, "x",
                          heard=lambda a: heard["the"] if len(a) > 0.61 * RATE else heard["to"])
    assert paused is not None and paused.text_before == "She went to"


def test_no_function_word_no_pause() -> None:
    words = [Word(0.0, 0.5, "one"), Word(0.5, 1.0, "zero"), Word(1.0, 1.5, "nine")]
    assert insert_pause(np.ones(RATE * 2, dtype=np.float32), words, RATE, "x") is None


def test_cut_in_is_reply_audio_before_the_resume() -> None:
    early = TurnRecord(index=1, marks={"playback_start": 2.0})
    late = TurnRecord(index=1, marks={"playback_start": 3.5})
    assert Outcome("s", "pause", "x", [early], resume_at=3.0, ends=[2.1]).cut_in
    held = Outcome("s", "pause", "x", [late], resume_at=3.0, ends=[3.3])
    assert not held.cut_in and not held.closed_in_pause
    assert Outcome("s", "pause", "x", [late], resume_at=3.0, ends=[2.4]).closed_in_pause


def test_sentence_spans_split_long_recordings_at_their_silences() -> None:
    from voicebot.bench.turn_sets import sentence_spans

    tone = np.sin(np.arange(RATE * 4) * 0.1).astype(np.float32) * 0.3
    gap = np.zeros(int(0.4 * RATE), dtype=np.float32)
    short = tone[: RATE]  # 1 s: too short to keep
    audio = np.concatenate([tone, gap, short, gap, tone, gap])
    spans = sentence_spans(audio, RATE)
    assert [(round(a / RATE, 2), round(b / RATE, 2)) for a, b in spans] == [
        (0.0, 4.0), (5.8, 9.8)]

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


def test_sentence_spans_follow_the_words_punctuation_not_the_silences() -> None:
    from voicebot.bench.turn_sets import sentence_spans

    def w(text: str, start: float) -> Word:
        return Word(start, start + 0.4, text)

    words = [w("One", 0.5), w("two,", 1.0), w("three", 2.0), w("four.", 3.5),  # 0.5-3.9
             w("Short.", 4.4),  # 1 s with margins: too short to keep
             w("Five", 5.5), w("six", 6.0), w("seven", 7.5), w("eight?", 8.8)]  # 5.5-9.2
    spans = sentence_spans(words, RATE, n_samples=round(9.3 * RATE))
    assert [(round(a / RATE, 2), round(b / RATE, 2)) for a, b in spans] == [
        (0.25, 4.15), (5.25, 9.3)]  # margins of 0.25 s, cut at the end of the audio

"""`voicebot bench turns` pieces that need no model: where the pause is inserted, and what
counts as a cut-in."""

from __future__ import annotations

from pathlib import Path

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


def _speech_with_pauses(spans: list[tuple[float, float]], total_s: float,
                        amplitude: float = 0.1) -> np.ndarray:
    """A 200 Hz tone in each (start, end) span, digital silence elsewhere."""
    audio = np.zeros(round(total_s * RATE), dtype=np.float32)
    for start, end in spans:
        t = np.arange(round(start * RATE), round(end * RATE))
        audio[t] = amplitude * np.sin(2 * np.pi * 200 * t / RATE)
    return audio


def test_active_level_leaves_the_pauses_out() -> None:
    from voicebot.bench.turn_causes import active_level_dbfs, snr_db

    audio = _speech_with_pauses([(0.0, 1.0), (2.0, 3.0)], 4.0)  # speech half the time
    sine_rms_db = 20 * np.log10(0.1 / np.sqrt(2))  # -23.0 dBFS
    level = active_level_dbfs(audio, RATE)
    assert level == pytest.approx(sine_rms_db, abs=0.2)
    snr = snr_db(audio, RATE, -30.0)
    assert snr is not None and snr == pytest.approx(sine_rms_db + 30.0, abs=0.2)
    assert active_level_dbfs(np.zeros(RATE, dtype=np.float32), RATE) is None


def _speech_frames(spans: list[tuple[float, float]], total_s: float,
                   frame_s: float = 0.032) -> np.ndarray:
    times = np.arange(round(total_s / frame_s)) * frame_s
    return np.array([any(a <= t < b for a, b in spans) for t in times])


def test_own_pause_is_the_silence_the_turn_closed_in() -> None:
    from voicebot.bench.turn_causes import own_pause

    frame = 0.032
    speech = _speech_frames([(0.2, 1.0), (1.45, 2.0), (2.05, 2.3), (3.0, 3.5)], 4.0)
    found = own_pause(speech, frame, 1.3)  # in the reader's own 0.45 s pause
    assert found is not None
    assert found[0] == pytest.approx(1.0, abs=frame) and found[1] == pytest.approx(1.45, abs=frame)
    late = own_pause(speech, frame, 1.6)  # the endpointer fired after the speaker resumed
    assert late is not None and late[1] == pytest.approx(1.45, abs=frame)
    # the 50 ms gap at 2.0 s is no pause: the one before it counts until the next one begins
    assert own_pause(speech, frame, 2.2) == late
    inserted = own_pause(speech, frame, 2.5)
    assert inserted is not None and inserted[0] == pytest.approx(2.3, abs=frame)
    assert own_pause(speech, frame, 0.5) is None  # no pause yet
    assert own_pause(speech, frame, 3.8) is None  # the silence after the last word


def test_vad_speech_replays_the_audio_through_a_reset_vad() -> None:
    from voicebot.bench.turn_causes import vad_speech

    class LevelVad:
        frame_samples = 512
        resets = 0

        def reset(self) -> None:
            self.resets += 1

        def speech_prob(self, frame: np.ndarray) -> float:
            return float(np.abs(frame).max())

    audio = np.zeros(512 * 4, dtype=np.float32)
    audio[512:1024] = 0.9
    vad = LevelVad()
    assert vad_speech(vad, audio, 0.5).tolist() == [False, True, False, False]
    assert vad.resets == 2


def test_a_turn_closed_before_the_inserted_silence_is_an_early_close() -> None:
    early = Outcome("s", "pause", "x", [], resume_at=3.0, ends=[1.3], pause_at=2.0)
    inside = Outcome("s", "pause", "x", [], resume_at=3.0, ends=[2.3], pause_at=2.0)
    assert early.closed_early and early.closed_in_pause
    assert not inside.closed_early and inside.closed_in_pause


def test_report_says_where_turns_closed_and_the_noise_snr() -> None:
    from voicebot.bench.turns_report import _early_table, _noise_table

    said = TurnRecord(index=1, user_text="For a full hour he paced, waiting.",
                      marks={"playback_start": 1.8})
    early = Outcome("smart", "pause", "reader", [said], resume_at=3.0, ends=[1.5],
                    pause_at=2.0, own_pause_s=0.45)
    inside = Outcome("smart", "pause", "other", [], resume_at=3.0, ends=[2.3], pause_at=2.0)
    lines = "\n".join(_early_table([early, inside], ["smart"]))
    assert "| smart | reader | before the inserted silence | 0.45 | For a full hour" in lines
    assert "| smart | other | in the inserted silence | – |" in lines
    assert "1 of 2 closed in a pause of the speaker's own, 0.45–0.45 s long" in lines
    heard = TurnRecord(index=1, user_text="Why is the sky blue?", marks={"playback_start": 1.0})
    noisy = [Outcome("silence", "noise", "q1", [heard], snr_db=12.3),
             Outcome("smart", "noise", "q1", [heard], snr_db=12.3),
             Outcome("silence", "noise", "q2", [], snr_db=-11.2),
             Outcome("smart", "noise", "q2", [], snr_db=-11.2)]
    table = "\n".join(_noise_table(noisy, ["silence", "smart"], "smart"))
    assert "| q1 | 12.3 | replied | replied | Why is the sky blue? |" in table
    assert "| q2 | -11.2 | no reply | no reply |  |" in table


def test_statements_are_real_recordings_up_to_12_s_that_are_not_questions(tmp_path: Path) -> None:
    import soundfile as sf

    from voicebot.bench.turns import real_statements

    rows = [("a.wav", 1.0, "SHORT ONE"), ("b.wav", 2.0, "Is this a question?"),
            ("c.wav", 3.0, "A finished statement."), ("d.wav", 13.0, "A paragraph.")]
    with (tmp_path / "manifest.tsv").open("w") as f:
        f.write("file\tduration_s\tspeaker_or_source\treference_text\n")
        for name, seconds, text in rows:
            sf.write(tmp_path / name, np.zeros(round(seconds * 16000), np.float32), 16000)
            f.write(f"{name}\t{seconds}\tx\t{text}\n")
    found = real_statements(tmp_path, [], 16000, skip=1, count=5)
    assert [label for label, _, _ in found] == ["statement: c.wav"]  # a.wav is the clean set's
    both = real_statements(tmp_path, [tmp_path], 16000, skip=0, count=1)
    assert [label for label, _, _ in both] == ["statement: a.wav", "statement: a.wav",
                                               "statement: c.wav"]


def test_report_gives_the_statements_e2e_and_their_long_waits() -> None:
    from voicebot.bench.turns_report import _row, _statement_table

    def turn(wait: float) -> TurnRecord:
        return TurnRecord(index=1, marks={"speech_end": 1.0, "endpoint": 1.0 + wait,
                                          "playback_start": 1.6 + wait})

    outcomes = [Outcome("smart", "statement", f"s{i}", [turn(w)])
                for i, w in enumerate((0.3, 0.4, 1.8))]
    outcomes.append(Outcome("smart", "statement", "silent", []))
    table = "\n".join(_statement_table({"smart": _row(outcomes)}))
    assert "| smart | 3 / 4 | 1.00 / 2.12 | 0.40 / 1.52 | 1 |" in table

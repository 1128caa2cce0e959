"""StreamingTranscriber with a scripted fake ASR: buffering, absolute times, trimming, flush."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from voicebot.asr.online import StreamingTranscriber
from voicebot.config import StreamingConfig
from voicebot.events import Word

RATE = 16000


class ScriptedAsr:
    """Returns preset word lists (times relative to the audio given), one per call."""

    sample_rate = RATE
    word_timestamps = True

    def __init__(self, script: Sequence[Sequence[tuple[str, float, float]]]) -> None:
        self.script = list(script)
        self.calls: list[tuple[float, str]] = []  # (audio seconds, prompt)

    def transcribe(self, audio: np.ndarray, *, prompt: str = "") -> list[Word]:
        self.calls.append((len(audio) / RATE, prompt))
        step = self.script[min(len(self.calls), len(self.script)) - 1]
        return [Word(s, e, t) for t, s, e in step]


def seconds(s: float) -> np.ndarray:
    return np.full(round(s * RATE), 0.1, dtype=np.float32)


def test_ready_after_min_chunk_and_times_are_absolute() -> None:
    asr = ScriptedAsr([[("hello", 0.1, 0.4)], [("hello", 0.1, 0.4), ("world", 0.5, 0.9)]])
    st = StreamingTranscriber(asr, StreamingConfig(min_chunk_s=0.5))
    st.reset(10.0)
    st.insert_audio(seconds(0.3))
    assert not st.ready()
    st.insert_audio(seconds(0.3))
    assert st.ready()
    first = st.process()
    assert first.committed == () and [w.text for w in first.partial] == ["hello"]
    assert not st.ready()
    st.insert_audio(seconds(0.5))
    second = st.process()
    assert second.committed == (Word(10.1, 10.4, "hello"),)
    assert second.partial == (Word(10.5, 10.9, "world"),)
    assert asr.calls[1][0] == 1.1  # the whole buffer is re-decoded


def test_finish_decodes_the_rest_and_flushes() -> None:
    asr = ScriptedAsr([[("one", 0.0, 0.4)], [("one", 0.0, 0.4), ("two", 0.5, 0.8)]])
    st = StreamingTranscriber(asr, StreamingConfig(min_chunk_s=0.5))
    st.reset(0.0)
    st.insert_audio(seconds(0.6))
    st.process()
    st.insert_audio(seconds(0.4))
    final = st.finish()
    assert [w.text for w in final.committed] == ["one", "two"]
    assert [w.text for w in st.words] == ["one", "two"]
    assert len(asr.calls) == 2


def test_finish_skips_the_decode_when_the_last_one_heard_everything() -> None:
    asr = ScriptedAsr([[("one", 0.0, 0.4), ("two", 0.5, 0.8)]])
    st = StreamingTranscriber(asr, StreamingConfig(min_chunk_s=0.5))
    st.reset(0.0)
    st.insert_audio(seconds(1.0))
    st.process()
    st.insert_audio(seconds(0.5))  # trailing silence the final need not hear
    final = st.finish(until=1.3, heard=1.0)
    assert [w.text for w in final.committed] == ["one", "two"]
    assert len(asr.calls) == 1


def test_finish_until_cuts_the_decoded_audio() -> None:
    asr = ScriptedAsr([[("yes", 0.1, 0.5)]])
    st = StreamingTranscriber(asr, StreamingConfig())
    st.reset(2.0)
    st.insert_audio(seconds(3.0))
    st.finish(until=3.0)
    assert asr.calls == [(1.0, "")]


def test_buffer_is_trimmed_at_a_committed_sentence_and_prompt_carries_it() -> None:
    said = [("First", 0.2, 0.6), ("sentence.", 0.6, 1.2), ("And", 1.5, 1.8), ("more", 1.8, 2.2)]
    asr = ScriptedAsr([said, said])
    cfg = StreamingConfig(min_chunk_s=0.5, max_buffer_s=2.0)
    st = StreamingTranscriber(asr, cfg)
    st.reset(5.0)
    st.insert_audio(seconds(2.5))
    st.process()
    assert st.buffer_seconds == 2.5  # nothing committed yet: nothing to trim at
    st.insert_audio(seconds(0.5))
    update = st.process()
    assert [w.text for w in update.committed] == ["First", "sentence.", "And", "more"]
    assert st.buffer_start == 6.2  # cut at the end of "sentence." (absolute 5 + 1.2)
    assert abs(st.buffer_seconds - 1.8) < 1e-9
    st.insert_audio(seconds(0.5))
    asr.script.append([])
    st.process()
    assert asr.calls[-1] == (2.3, "First sentence.")


def test_buffer_stays_bounded_on_endless_speech() -> None:
    asr = ScriptedAsr([[]])  # never recognises anything: no commit to trim at
    cfg = StreamingConfig(min_chunk_s=0.5, max_buffer_s=3.0)
    st = StreamingTranscriber(asr, cfg)
    st.reset(0.0)
    longest = 0.0
    for _ in range(60):
        st.insert_audio(seconds(0.5))
        st.process()
        longest = max(longest, st.buffer_seconds)
    assert longest <= 2 * cfg.max_buffer_s + 0.5
    assert st.buffer_end == 30.0

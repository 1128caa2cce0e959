"""The machine-pace yardstick of the benchmark reports."""

from __future__ import annotations

import time

import numpy as np

from voicebot.bench.pace import PaceProbe, measure_pace


class SlowAsr:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.calls = 0

    def transcribe(self, audio: np.ndarray) -> list[object]:
        self.calls += 1
        time.sleep(self.seconds)
        return []


class CountingVad:
    frame_samples = 512

    def __init__(self) -> None:
        self.frames = 0
        self.resets = 0

    def reset(self) -> None:
        self.resets += 1

    def speech_prob(self, frame: np.ndarray) -> float:
        assert len(frame) == self.frame_samples
        self.frames += 1
        return 0.0


def test_pace_times_the_decode_and_the_vad_per_second_of_audio() -> None:
    asr, vad = SlowAsr(0.02), CountingVad()
    audio = np.zeros(16000 * 2, dtype=np.float32)
    pace = measure_pace(asr, vad, audio, 16000, repeats=3)
    assert asr.calls == 3
    assert vad.frames == 3 * (len(audio) // 512)
    assert 20.0 <= pace.decode_ms < 200.0
    assert 0.0 < pace.vad_ms_per_s < 50.0
    assert vad.resets == 6  # left reset for the run that follows


def test_the_report_line_gives_the_pace_before_and_after() -> None:
    asr, vad = SlowAsr(0.01), CountingVad()
    probe = PaceProbe(asr, vad, np.zeros(8000, dtype=np.float32), "tts: Hello?", 16000)
    asr.seconds = 0.05  # the machine slowed down during the run
    line = probe.line()
    assert "(tts: Hello?)" in line
    before, after = line.split("ASR decode ")[1].split(" ms")[0].split(" / ")
    assert 10 <= int(before) < 50 <= int(after)

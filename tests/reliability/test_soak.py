"""The soak bench's patient user and its figures (the bench itself runs for minutes:
`voicebot bench soak --turns N`)."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest

from voicebot.bench.memory import CHeap, MemoryProbe, Site
from voicebot.bench.soak_report import rss_growth, ttft_ratio, write_report
from voicebot.bench.soak_source import PatientUserSource

RATE, BLOCK = 1000, 10


def spoken(seconds: float) -> np.ndarray:
    return np.full(round(seconds * RATE), 0.5, dtype=np.float32)


def loud_spans(frames: list) -> list[tuple[float, float]]:
    spans: list[tuple[float, float]] = []
    for frame in frames:
        if frame.samples.any():
            if spans and abs(spans[-1][1] - frame.start) < 1e-9:
                spans[-1] = (spans[-1][0], frame.start + BLOCK / RATE)
            else:
                spans.append((frame.start, frame.start + BLOCK / RATE))
    return spans


def test_the_next_question_waits_for_the_answer_and_the_gap() -> None:
    answered = [0]
    source = PatientUserSource([spoken(0.5), spoken(0.5)], RATE, BLOCK, lambda: answered[0],
                               gap_s=1.0, lead_s=0.2)
    frames = source.read_available(3.0)  # no answer yet: only the first question
    assert loud_spans(frames) == [(0.2, 0.7)]
    answered[0] = 1  # the reply has played at 3.0 s
    frames = source.read_available(6.0)
    assert loud_spans(frames) == [(4.0, 4.5)]
    assert not source.finished
    answered[0] = 2
    source.read_available(6.5)
    assert source.finished and source.asked == 2 and source.gave_up == 0


def test_a_question_that_never_becomes_a_turn_is_given_up_on() -> None:
    source = PatientUserSource([spoken(0.2), spoken(0.2)], RATE, BLOCK, lambda: 0,
                               gap_s=0.5, lead_s=0.0, give_up_s=2.0)
    frames = source.read_available(5.0)
    assert [round(a, 2) for a, _ in loud_spans(frames)] == [0.0, 2.7]
    assert source.gave_up == 1


def test_one_lost_question_does_not_make_the_later_ones_wait() -> None:
    answered = [0]
    source = PatientUserSource([spoken(0.2)] * 3, RATE, BLOCK, lambda: answered[0],
                               gap_s=0.5, lead_s=0.0, give_up_s=2.0)
    frames = source.read_available(3.0)  # question 1 never becomes a turn: given up at 2.2
    assert [round(a, 2) for a, _ in loud_spans(frames)] == [0.0, 2.7]
    answered[0] = 1  # question 2's turn ends at 3.0
    frames = source.read_available(4.0)
    assert [round(a, 2) for a, _ in loud_spans(frames)] == [3.5]  # the gap, not the give-up
    answered[0] = 2
    source.read_available(4.5)
    assert source.finished and source.gave_up == 1


def test_report_figures(tmp_path: Path) -> None:
    rows = [{"turn": i, "status": "ok", "ttft": 0.1 + 0.001 * i, "e2e": 1.0,
             "rss_mb": 500.0 + (i > 10) * 5, "t": i * 10.0, "muted_speech_s": 0.0}
            for i in range(1, 41)]
    early, late = ttft_ratio(rows)
    assert early == pytest.approx(0.105) and late == pytest.approx(0.1355)  # last 10
    assert rss_growth(rows, 10) == (500.0, 5.0)
    args = argparse.Namespace(out=tmp_path, turns=40, gap=1.5, warmup=10, speed=3.0)
    probes = [MemoryProbe("turn 10", 500.0, {"anonymous": 100.0, "libfoo.so": 20.0},
                          heap=CHeap(30.0, 20.0, 5.0), threads=12, python_mb=10.0,
                          tracer_mb=1.0),
              MemoryProbe("turn 40", 505.0, {"anonymous": 104.0, "libfoo.so": 20.0},
                          heap=CHeap(31.0, 21.0, 7.0), threads=12, python_mb=11.0,
                          tracer_mb=2.0, sites=[Site("voicebot/x.py:3", 1.0, 12)])]
    report = write_report(rows, probes, 40, 0, argparse.Namespace(source="x.yaml"),
                          args).read_text()
    assert "| turns answered (ok) / asked | 40 / 40 | all |" in report
    assert "(1.29x)" in report and "+5 MB" in report
    assert "at 3x real time (soak mode" in report
    assert ("| turn 40 | 505 (+5) | 104 (+4) | 20 (+0) | 31 (+1) | 21 (+1) | 7 (+2) | 12 "
            "| 11 (+1) | 2 |") in report
    assert "| `voicebot/x.py:3` | +1.00 MB | +12 |" in report
    assert (tmp_path / "soak.png").stat().st_size > 1000

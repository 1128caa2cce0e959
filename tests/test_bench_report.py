"""The talk benchmark's report and plots, from synthetic turns (no models)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voicebot.bench.talk_report import write_report
from voicebot.config import load_config
from voicebot.metrics import TurnRecord


@dataclass
class Turn:
    label: str
    audio: np.ndarray


def record(index: int, e2e: float, speculative: bool) -> TurnRecord:
    marks = {"speech_start": 0.0, "speech_end": 2.0, "endpoint": 2.4, "asr_final": 2.4}
    start = 2.2 if speculative else 2.4
    marks |= {"llm_start": start, "llm_first_token": start + 0.05,
              "first_sentence": start + 0.15, "tts_first_audio": start + 0.3,
              "playback_start": 2.0 + e2e}
    return TurnRecord(index=index, user_text=f"q{index}", reply_text="a", marks=marks,
                      measured_e2e=e2e + 0.01 * index)


def two_turn_report(results: dict[str, list[TurnRecord]], out: Path) -> str:
    turns = [Turn("tts: one", np.zeros(1)), Turn("tts: two", np.zeros(1))]
    return write_report(results, turns, load_config(), out).read_text()


def test_report_has_medians_ratio_and_pictures(tmp_path: Path) -> None:
    results = {
        "streaming": [record(1, 0.6, True), record(2, 0.8, True)],
        "naive": [record(1, 2.1, False), record(2, 2.7, False)],
    }
    turns = [Turn("tts: one", np.zeros(1)), Turn("tts: two", np.zeros(1))]
    report = write_report(results, turns, load_config(), tmp_path).read_text()
    assert "Streaming median e2e latency: **0.700 s**, p90 0.780 s (meets the 0.8 s median " \
        "target, meets the 1.1 s p90 target)" in report
    assert "**3.4x** the streaming pipeline (meets the 3x target)" in report
    assert "| e2e latency | 0.700 s |" in report
    assert "| e2e measured from outside (audio in/out) | 0.715 s |" in report
    assert "largest difference 20 ms over 4 turns" in report
    for picture in ("waterfall.png", "e2e_hist.png"):
        data = (tmp_path / picture).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    assert len((tmp_path / "turns.jsonl").read_text().splitlines()) == 4


def test_report_compares_loaded_rounds_with_quiet(tmp_path: Path) -> None:
    results = {
        "streaming": [record(1, 0.6, True), record(2, 0.8, True)],
        "streaming +1 busy": [record(1, 0.8, True), record(2, 0.9, True)],
        "streaming +2 busy": [record(1, 1.2, True), record(2, 3.4, True)],
    }
    report = two_turn_report(results, tmp_path)
    assert "## Beside busy processes" in report
    assert "| streaming +1 busy | 0.850 s | 0.890 s | 0.900 s | 1.21x | ≤ 1.5x: met; " \
        "turns over 3 s: 0 |" in report
    assert "| streaming +2 busy | 2.300 s | 3.180 s | 3.400 s | 3.29x | ≤ 1.8x: missed; " \
        "turns over 3 s: 1 |" in report


def test_a_compared_config_gets_its_own_columns_and_line(tmp_path: Path) -> None:
    results = {
        "streaming": [record(1, 0.7, True), record(2, 0.9, True)],
        "fast.yaml": [record(1, 0.4, True), record(2, 0.5, True)],
    }
    report = two_turn_report(results, tmp_path)
    assert "fast.yaml median | fast.yaml p90 |" in report
    assert "`fast.yaml` in the same run, turn by turn: median **0.450 s**, p90 0.490 s " \
        "(+0.350 s for this config's)." in report


def test_report_says_how_far_a_fixed_threshold_referee_lies_from_the_level_rule(
        tmp_path: Path) -> None:
    turns = [record(1, 0.6, True), record(2, 0.8, True), record(3, 0.7, True)]
    for turn, gap in zip(turns, (0.01, -0.02, 0.3), strict=True):
        assert turn.measured_e2e is not None
        turn.measured_e2e_fixed = turn.measured_e2e + gap
    report = two_turn_report({"streaming": turns}, tmp_path)
    assert "plain fixed -40 dBFS threshold for the end of the user's speech: e2e differs by " \
        "20 ms (median), +300 ms at most (fixed minus rule), over 3 turns." in report
    saved = [line for line in (tmp_path / "turns.jsonl").read_text().splitlines()]
    assert '"measured_e2e_fixed": 0.62' in saved[0]


def test_a_turn_without_a_fixed_threshold_measurement_adds_no_referee_line(
        tmp_path: Path) -> None:
    report = two_turn_report({"streaming": [record(1, 0.6, True)]}, tmp_path)
    assert "fixed -40 dBFS" not in report

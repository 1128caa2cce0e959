"""Pure tests of the turn metrics, the latency table and the JSONL session log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from voicebot.metrics import (
    SessionLog,
    TurnRecord,
    compute_figures,
    figure_values,
    format_turn_table,
    percentile,
    read_log,
    summarize,
)

MARKS = {
    "speech_start": 0.5,
    "speech_end": 2.5,
    "endpoint": 2.9,
    "asr_final": 3.0,
    "llm_start": 3.0,
    "llm_first_token": 3.2,
    "first_sentence": 3.4,
    "tts_first_audio": 3.45,
    "playback_start": 3.45,
}


def test_figures_are_differences_of_marks() -> None:
    figures = compute_figures(MARKS)
    assert figures == pytest.approx({
        "end_of_turn_delay": 0.4,
        "transcription_delay": 0.1,
        "llm_ttft": 0.2,
        "llm_ttfs": 0.4,
        "tts_ttfb": 0.05,
        "e2e_latency": 0.95,
    })


def test_missing_marks_give_no_figure() -> None:
    figures = compute_figures({"speech_end": 1.0, "endpoint": 1.3})
    assert figures == pytest.approx({"end_of_turn_delay": 0.3})


def test_first_mark_wins_and_unknown_marks_are_refused() -> None:
    turn = TurnRecord(index=1)
    turn.mark("playback_start", 3.0)
    turn.mark("playback_start", 4.0)
    assert turn.marks["playback_start"] == 3.0
    with pytest.raises(ValueError):
        turn.mark("playback_begin", 1.0)


def test_table_shows_each_stage_and_the_anchors() -> None:
    turn = TurnRecord(index=3, marks=dict(MARKS), reply_audio_s=2.0)
    table = format_turn_table(turn)
    assert "turn 3 (ok)" in table
    assert "400 ms" in table and "950 ms" in table
    assert "GPT-4o 320 ms" in table and "2.8–5.4 s" in table
    assert "2.9x faster than Voice Mode" in table


def test_failed_turn_table_shows_the_reason_and_dashes() -> None:
    turn = TurnRecord(index=1, status="failed", error="llm failed: boom",
                      marks={"speech_end": 1.0, "endpoint": 1.4})
    table = format_turn_table(turn)
    assert "error: llm failed: boom" in table
    assert "—" in table


def test_session_log_appends_one_line_per_turn(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "s.jsonl"
    log = SessionLog(path, {"config": "x.yaml"})
    log.append(TurnRecord(index=1, user_text="hi", reply_text="hello", marks=dict(MARKS)))
    log.append(TurnRecord(index=2, status="failed", error="boom"))
    lines = path.read_text().splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first["config"] == "x.yaml" and first["user_text"] == "hi"
    assert first["figures"]["e2e_latency"] == pytest.approx(0.95)
    assert read_log(path)[1]["error"] == "boom"


def test_percentile_and_summary() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 50) == 3.0
    assert percentile([1.0, 2.0], 90) == pytest.approx(1.9)
    summary = summarize([0.3, 0.1, 0.2], "x")
    assert summary is not None and summary.median == 0.2 and summary.count == 3
    assert summarize([], "x") is None


def test_figure_values_skip_failed_turns() -> None:
    ok = TurnRecord(index=1, marks=dict(MARKS))
    failed = TurnRecord(index=2, status="failed", marks=dict(MARKS))
    assert figure_values([ok, failed], "e2e_latency") == pytest.approx([0.95])


def test_table_says_when_the_reply_began_before_the_endpoint() -> None:
    marks = dict(MARKS, llm_start=2.6)  # 300 ms before the endpoint at 2.9 s
    assert "reply began before endpoint" in format_turn_table(TurnRecord(index=1, marks=marks))
    assert "before endpoint" not in format_turn_table(TurnRecord(index=1, marks=dict(MARKS)))

"""The one-time slow-machine line (slow_machine.py): judged from the first turns' e2e."""

from __future__ import annotations

import json
from pathlib import Path

from voicebot.metrics import TurnRecord
from voicebot.slow_machine import (
    FAST_CONFIG,
    SlowMachineCheck,
    SlowMachineView,
    checked_view,
    slow_machine_line,
)
from voicebot.testing.fakes import RecordedView


def turn(e2e: float, status: str = "ok") -> TurnRecord:
    record = TurnRecord(index=1, status=status)
    record.mark("speech_end", 10.0)
    record.mark("playback_start", 10.0 + e2e)
    return record


def test_a_slow_median_names_the_fast_config_and_a_quick_one_says_nothing() -> None:
    line = slow_machine_line([1.4, 2.2, 1.9])
    assert line is not None and FAST_CONFIG in line and "1.9 s" in line
    assert slow_machine_line([0.7, 0.9, 2.5]) is None  # one slow turn is not a slow machine


def test_the_line_comes_once_after_three_ok_turns_and_is_remembered(tmp_path: Path) -> None:
    state = tmp_path / "slow-machine.json"
    check = SlowMachineCheck(state)
    assert check.observe(turn(2.0)) is None
    assert check.observe(turn(9.0, status="failed")) is None  # failed turns are not judged
    assert check.observe(turn(1.8)) is None
    assert check.observe(turn(1.7)) is not None
    assert check.observe(turn(2.0)) is None  # said once
    assert json.loads(state.read_text())["slow"] is True
    assert SlowMachineCheck(state).observe(turn(5.0)) is None  # next run: already judged


def test_a_quick_machine_is_recorded_too_and_never_told(tmp_path: Path) -> None:
    state = tmp_path / "slow-machine.json"
    check = SlowMachineCheck(state)
    assert [check.observe(turn(0.8)) for _ in range(3)] == [None, None, None]
    assert json.loads(state.read_text())["slow"] is False


def test_the_view_shows_the_line_as_a_notice_after_the_turn_table(tmp_path: Path) -> None:
    inner = RecordedView()
    view = SlowMachineView(inner, SlowMachineCheck(tmp_path / "s.json", turns_to_judge=1))
    view.turn_done(turn(3.0))
    assert inner.lines[0] == "turn: ok" and len(inner.lines) == 2, inner.lines
    assert inner.lines[1].startswith("notice: ") and FAST_CONFIG in inner.lines[1]


def test_the_fast_model_is_never_watched() -> None:
    inner = RecordedView()
    assert checked_view(inner, "smollm2-135m") is inner
    assert isinstance(checked_view(inner, "qwen2.5-1.5b-q4_0"), SlowMachineView)

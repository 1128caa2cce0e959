"""`voicebot bench serve`'s report: per-N medians and p90s, failures, the N where p90 passes
2 s, the plot; and its client against a server with fake engines."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from serve_helpers import fake_engines, question_audio

from voicebot.bench.serve import Question, TurnResult, run_clients
from voicebot.bench.serve_report import first_over_target, levels_of, write_report
from voicebot.config import load_config
from voicebot.serve.background import BackgroundServer
from voicebot.serve.client import speech_end


def results() -> list[TurnResult]:
    rows = [TurnResult(1, 0, "q", "ok", e2e, e2e - 0.05) for e2e in (0.8, 0.9, 1.0)]
    rows += [TurnResult(2, i, "q", "ok", e2e, e2e - 0.05) for i, e2e in enumerate((1.0, 2.5))]
    rows.append(TurnResult(2, 1, "q", "timeout", error="no turn within 30 s"))
    return rows


def test_levels_and_the_first_n_over_target() -> None:
    one, two = levels_of(results(), [1, 2])
    assert (one.clients, one.turns, one.failed, one.client_median) == (1, 3, 0, 0.9)
    assert two.failed == 1 and two.client_median == 1.75
    assert two.client_p90 is not None and abs(two.client_p90 - 2.35) < 1e-9
    assert first_over_target([one, two]) == 2
    assert first_over_target([one]) is None


def test_report_and_plot(tmp_path: Path) -> None:
    cfg = load_config()
    report = write_report(results(), [1, 2], ["q"] * 3, cfg, "smollm2-135m", tmp_path)
    text = report.read_text()
    assert "| 1 | 3 | 0 | 0.90 s | 0.98 s | 0.85 s | 0.93 s |" in text
    assert "p90 passes 2 s at **N = 2**" in text
    assert "| 2 | 1 | q | timeout | no turn within 30 s |" in text
    assert (tmp_path / "serve.png").stat().st_size > 5000
    assert len((tmp_path / "turns.jsonl").read_text().splitlines()) == 6


def test_clients_against_a_fake_server() -> None:
    audio = question_audio()
    question = Question("scripted", audio, speech_end(audio))
    assert abs(question.speech_end - 2.4) < 0.011
    with BackgroundServer(fake_engines(), load_config()) as server:
        rows = run_clients(server.url, 2, [question], per_client=1)
    assert [r.status for r in rows] == ["ok", "ok"], rows
    assert all(r.client_e2e is not None and r.server_e2e is not None for r in rows)
    assert np.isfinite([r.client_e2e for r in rows]).all()

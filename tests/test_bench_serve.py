"""`voicebot bench serve`'s report: per-N medians and p90s, failures, the N where p90 passes
2 s, the plot; and its client against a server with fake engines."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from serve_helpers import fake_engines, question_audio

from voicebot.bench.serve import Question, TurnResult, run_clients
from voicebot.bench.serve_cycles import Cycle, ServerFigures, read_server, run_cycles, settled
from voicebot.bench.serve_cycles_report import shown_cycles, verdicts, write_cycles_report
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


def figures(rss: float, threads: int, fds: int) -> ServerFigures:
    return ServerFigures(rss, threads, fds)


def test_settled_waits_for_the_counts_to_stop_changing() -> None:
    reads = iter([figures(900, 20, 12), figures(900, 19, 11), figures(901, 18, 10)]
                 + [figures(901, 18, 10)] * 50)
    now = [0.0]

    def sleep(s: float) -> None:
        now[0] += s

    got = settled(lambda: next(reads), clock=lambda: now[0], sleep=sleep)
    assert got == figures(901, 18, 10)
    assert 0.3 <= now[0] < 0.5  # two changes, then 0.3 s steady


def test_settled_reports_a_count_that_never_settles() -> None:
    count = iter(range(1000))
    now = [0.0]

    def sleep(s: float) -> None:
        now[0] += s

    got = settled(lambda: figures(900, next(count), 10), timeout=1.0,
                  clock=lambda: now[0], sleep=sleep)
    assert got is not None and got.threads > 10 and now[0] >= 1.0


def cycles_of(rss: list[float], threads: list[int], failed_at: int = 0) -> list[Cycle]:
    return [Cycle(i + 1, 1 if i + 1 == failed_at else 2, 2,
                  figures(r, t, 10), [0.8], ["timeout: no turn"] if i + 1 == failed_at else [])
            for i, (r, t) in enumerate(zip(rss, threads, strict=True))]


def test_cycles_verdicts() -> None:
    good = cycles_of([900.0 + i * 0.1 for i in range(100)], [20] * 100)
    lines = verdicts(good)
    assert lines[0] == "Turns answered: 200/200 (met: every cycle answered)."
    assert lines[1] == "RSS cycle 10 -> 100: 901 -> 910 MB (+9 MB; target <= 30 MB: met)."
    assert lines[2].startswith("Threads cycle 10 -> 100: 20 -> 20 (met")
    bad = cycles_of([900.0 + i for i in range(100)], [20] * 99 + [22], failed_at=50)
    lines = verdicts(bad)
    assert "199/200 (NOT met" in lines[0]
    assert "(+90 MB; target <= 30 MB: NOT met)" in lines[1]
    assert "20 -> 22 (NOT met" in lines[2]
    assert verdicts(good[:5])[1].startswith("Growth needs more than 10 cycles")


def test_cycles_report_and_plot(tmp_path: Path) -> None:
    assert shown_cycles(100) == [1, 10, 25, 50, 75, 100]
    assert shown_cycles(3) == [1, 2, 3]
    cycles = cycles_of([900.0 + i for i in range(20)], [20] * 20, failed_at=7)
    report = write_cycles_report(cycles, 2, "default.yaml", tmp_path, (0.5, 1.5)).read_text()
    assert "| 10 | 2/2 | 909 | 20 | 10 |" in report
    assert "| 7 | timeout: no turn |" in report
    assert (tmp_path / "cycles.png").stat().st_size > 5000
    assert len((tmp_path / "cycles.jsonl").read_text().splitlines()) == 20


def test_cycles_against_a_fake_server() -> None:
    audio = question_audio()
    question = Question("scripted", audio, speech_end(audio))
    seen: list[Cycle] = []
    with BackgroundServer(fake_engines(), load_config()) as server:
        cycles = run_cycles(server.url, [question], 2, 2, lambda: read_server(os.getpid()),
                            seen.append)
        assert not server.state.sessions  # every session's slot was freed
    assert seen == cycles and [(c.answered, c.asked) for c in cycles] == [(2, 2), (2, 2)]
    first, second = (c.figures for c in cycles)
    assert first is not None and second is not None
    assert second.threads == first.threads and second.fds == first.fds

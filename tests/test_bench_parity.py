"""bench parity's two sides on fake engines: the same question through talk's conversation
and through an in-process server, each answered once, with figures from its turn record."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from serve_helpers import fake_engines, question_audio

from voicebot.bench.parity import Input, Outcome, _serve, _talk, side_figures, write_report
from voicebot.config import load_config
from voicebot.serve.background import BackgroundServer


def test_one_question_through_talk_and_serve(tmp_path: Path) -> None:
    cfg = load_config(None)
    engines = fake_engines()
    item = Input("question", "q", np.concatenate([np.zeros(8000, np.float32),
                                                  question_audio()]))
    with BackgroundServer(engines, cfg) as server:
        served = _serve(item, server.url)
    talked = _talk(item, engines, cfg)
    for outcome in (talked, served):
        assert len(outcome.turns) == 1, outcome
        assert outcome.e2e is not None and 0 < outcome.e2e < 2.0
        assert outcome.reply_start is not None and outcome.reply_start > 2.9  # after speech
    assert served.client_e2e is not None and served.client_e2e > 0
    report = write_report([talked, served], cfg, tmp_path)
    assert "| questions answered | 1/1 | 1/1 |" in report.read_text()


def test_a_reply_before_the_resume_is_a_cut_in() -> None:
    turn = {"marks": {"playback_start": 2.0}, "figures": {"e2e_latency": 0.5}}
    early = Outcome("serve", "pause", "p", [turn], resume_at=2.5)
    late = Outcome("talk", "pause", "p", [turn], resume_at=1.5)
    silent = Outcome("talk", "pause", "p", [], resume_at=2.5)
    assert early.cut_in and not late.cut_in and not silent.cut_in
    assert side_figures([early], "serve")["cut_ins"] == 1
    assert side_figures([late, silent], "talk")["cut_ins"] == 0
    flagged = Outcome("talk", "pause", "p", [{**turn, "overlapped": True}], resume_at=2.5)
    assert flagged.flagged and not early.flagged
    figures = side_figures([flagged], "talk")
    assert figures["cut_ins_flagged"] == 1 and figures["flagged_clean"] == 0

"""`voicebot bench reply` report and figure from given figures (no models loaded)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from voicebot.bench.reply import LlmRun, TtsRun, timed_reply
from voicebot.bench.reply_report import plot, write_report
from voicebot.events import ChatMessage


class ScriptedLlm:
    def __init__(self, deltas: list[str]) -> None:
        self.deltas = deltas

    def stream(self, messages: Sequence[ChatMessage], *, cancel: threading.Event
               ) -> Iterator[str]:
        yield from self.deltas


def test_timed_reply_records_one_turn() -> None:
    run = LlmRun("scripted")
    deltas = ["The", " capital", " of", " France", " is", " Paris.", " It is", " lovely."]
    text = timed_reply(ScriptedLlm(deltas), [], run, lambda t: len(t.split()))
    assert text == "".join(deltas)
    assert len(run.ttft) == len(run.first_chunk) == len(run.first_sentence) == 1
    assert run.first_sentence[0] >= 0.0 and run.total[0] >= run.ttft[0]


def test_empty_reply_records_nothing() -> None:
    run = LlmRun("silent")
    assert timed_reply(ScriptedLlm([]), [], run, len) == ""
    assert run.ttft == [] and run.total == []


def test_report_and_figure_are_written(tmp_path: Path) -> None:
    llm = [LlmRun("llama.cpp smollm2-135m", load_s=1.0, load_avg=0.5, ttft=[0.1, 0.2, 0.3],
                  tok_s=[80, 90], first_chunk=[0.3], first_sentence=[0.5], total=[1.0],
                  replies=["Paris."]),
           LlmRun("broken", error="cannot reach http://x: connection refused")]
    tts = [TtsRun("piper", load_s=0.8, first_audio=[0.17], rtf=[0.05]),
           TtsRun("coqui", error="not installed")]
    report = write_report(llm, tts, tmp_path, 1.5)
    text = report.read_text()
    assert "| llama.cpp smollm2-135m | 1.0 s | 0.20 s | 85.0 |" in text
    assert "failed: cannot reach" in text and "failed: not installed" in text
    plot(llm, tts, tmp_path / "reply.png")
    assert (tmp_path / "reply.png").read_bytes()[:4] == b"\x89PNG"

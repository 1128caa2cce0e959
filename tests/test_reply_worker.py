"""The reply stream on a worker thread: same events in the same order, PENDING while the
worker computes, errors raised to the loop, and a cancel that stops the stream."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from voicebot.reply import FirstToken, ReplyEvent, SentenceReady, StageFailure, TextDelta
from voicebot.reply_worker import PENDING, ReplyWorker


def slow_events(delay: float, log: list[str]) -> Iterator[ReplyEvent]:
    try:
        yield FirstToken()
        for i in range(3):
            time.sleep(delay)
            yield TextDelta(f"w{i}")
        yield SentenceReady("w0 w1 w2", 0)
    finally:
        log.append("closed")


def drain(worker: ReplyWorker, limit_s: float = 5.0) -> tuple[list[object], int]:
    got, pending = [], 0
    deadline = time.monotonic() + limit_s
    for item in worker:
        assert time.monotonic() < deadline
        if item is PENDING:
            pending += 1
        else:
            got.append(item)
    return got, pending


def test_events_arrive_in_order_with_pending_while_the_worker_computes() -> None:
    log: list[str] = []
    worker = ReplyWorker(slow_events(0.03, log), threading.Event())
    got, pending = drain(worker)
    assert got == [FirstToken(), TextDelta("w0"), TextDelta("w1"), TextDelta("w2"),
                   SentenceReady("w0 w1 w2", 0)]
    assert pending >= 3  # the loop got control back while each 30 ms step ran
    worker.join(1.0)
    assert log == ["closed"]


def test_a_stage_failure_is_raised_to_the_loop() -> None:
    def failing() -> Iterator[ReplyEvent]:
        yield FirstToken()
        raise StageFailure("tts", RuntimeError("voice broke"))

    worker = ReplyWorker(failing(), threading.Event())
    with pytest.raises(StageFailure, match="tts failed: RuntimeError: voice broke"):
        drain(worker)


def test_close_stops_the_stream_and_closes_it_on_the_worker() -> None:
    log: list[str] = []
    cancel = threading.Event()
    worker = ReplyWorker(slow_events(0.2, log), cancel)
    while next(worker) is PENDING:
        pass
    worker.close()
    assert cancel.is_set()
    worker.join(2.0)
    assert log == ["closed"]

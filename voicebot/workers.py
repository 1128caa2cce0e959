"""One way to run a session's work off the talk loop: threads in production, inline in tests.

The loop must read the microphone every few milliseconds, so a reply's LLM and TTS stream
(reply_worker.py), the prompt prefill (llm/prefill.py) and the turn detector's verdicts
(turn/background.py) run on worker threads. Under a
FakeClock the same work runs inline, on the loop's own thread, so scenario tests are exact
and repeatable. `Workers` is where that choice is made once per session, and where the
session waits, at its end, for every thread it started, the cancelled ones too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future

from voicebot.events import ChatMessage
from voicebot.llm.prefill import Prefiller
from voicebot.reply import ReplyEvent
from voicebot.reply_worker import Pending, ReplyWorker
from voicebot.turn.background import computed, in_background

JOIN_TIMEOUT_S = 30.0  # a prompt evaluation cannot be stopped; it ends within this


class Workers:
    def __init__(self, threaded: bool, others_idle: Callable[[], bool] = lambda: True) -> None:
        """`threaded`: on worker threads (a real clock only: a worker waits in real time);
        else inline, for scenario tests on a FakeClock. `others_idle`: whether the other
        processes leave the cores free (the engines' LoadMeter, cpuload.py)."""
        self.threaded = threaded
        self.others_idle = others_idle
        self._replies: list[ReplyWorker] = []
        self._prefillers: list[Prefiller] = []

    def reply(self, events: Iterator[ReplyEvent],
              cancel: threading.Event) -> Iterator[ReplyEvent | Pending]:
        """The reply stream as the loop pulls it: from a worker thread, which answers
        `Pending` while it computes, or the stream itself inline."""
        if not self.threaded:
            return events
        self._replies = [w for w in self._replies if w.alive]
        worker = ReplyWorker(events, cancel)
        self._replies.append(worker)
        return worker

    def verdict(self, call: Callable[[], float]) -> Future[float]:
        """A turn detector's verdict: computing on its own thread, or already computed."""
        return in_background(call) if self.threaded else computed(call())

    def prefiller(self, prefill: Callable[[Sequence[ChatMessage]], None],
                  on_error: Callable[[BaseException], None]) -> Prefiller:
        prefiller = Prefiller(prefill, on_error, self.threaded)
        self._prefillers.append(prefiller)
        return prefiller

    def close(self) -> None:
        """Wait for every thread, the cancelled ones too, to leave its backends.

        A cancelled reply stops at the LLM's next token, but not inside a prompt evaluation
        (half a second or more with the 1.5B model). A process that exits while a thread is
        still inside llama.cpp aborts ("terminate called without an active exception",
        status -6 instead of 130 after Ctrl-C), so the loop does not return before them."""
        prefillers, self._prefillers = self._prefillers, []
        for prefiller in prefillers:
            prefiller.close()
        replies, self._replies = self._replies, []
        for worker in replies:
            worker.close()
        for worker in replies:
            worker.join(JOIN_TIMEOUT_S)

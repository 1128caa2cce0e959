"""The reply path on a worker thread, so the talk loop stays responsive while it computes.

A sentence's synthesis (or a slow first token) blocks for a tenth of a second to a second
on a busy CPU. Run on the loop's own thread, that is as long as the microphone goes unread:
a user speaking over the reply (barge-in) would be heard only after it. `ReplyWorker` pulls
the same lazy stream of reply events on its own thread into a queue; the loop takes what is
ready and gets `PENDING` (after a short wait) when nothing is, then goes on reading the
microphone. Events keep their order; an error in the stream is raised to the loop where it
would have been raised anyway. It waits in real time, so it is for a real clock: scenario
tests on a FakeClock pull the stream directly.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

from voicebot.reply import ReplyEvent

POLL_S = 0.005
"""How long a pull waits for an event before answering PENDING (the loop then reads input)."""


class Pending:
    """Nothing is ready yet: the reply is being computed on the worker thread."""


PENDING = Pending()
_END = object()


class ReplyWorker:
    def __init__(self, events: Iterator[ReplyEvent], cancel: threading.Event) -> None:
        self._events = events
        self._cancel = cancel
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="voicebot-reply", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for event in self._events:
                if self._cancel.is_set():
                    break
                self._queue.put(event)
        except BaseException as exc:  # StageFailure and the like: raised to the loop
            self._queue.put(exc)
        finally:
            close = getattr(self._events, "close", None)
            if close is not None:
                close()
            self._queue.put(_END)

    def __iter__(self) -> ReplyWorker:
        return self

    def __next__(self) -> ReplyEvent | Pending:
        try:
            item = self._queue.get(timeout=POLL_S)
        except queue.Empty:
            return PENDING
        if item is _END:
            raise StopIteration
        if isinstance(item, BaseException):
            raise item
        return item  # type: ignore[return-value]

    def close(self) -> None:
        """Stop: the worker finishes the event in hand, then closes the stream itself (a
        generator cannot be closed from another thread while it runs)."""
        self._cancel.set()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

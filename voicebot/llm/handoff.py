"""The hand-off from a backend's worker thread to the consumer's generator.

Bindings that generate on their own thread (a callback per token, a blocking HTTP read) put
text into a queue; the generator drains it, polling so that a cancel is seen within one poll
even while the worker is silent (prompt evaluation, a slow server).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

POLL_S = 0.02


class Done:
    """Put by the worker after its last item."""


Handoff = queue.Queue[str | BaseException | Done]


def drain(items: Handoff, cancel: threading.Event) -> Iterator[str | BaseException]:
    """Items until the worker is done or `cancel` is set; errors are yielded, not raised,
    so each backend can word them."""
    while True:
        try:
            item = items.get(timeout=POLL_S)
        except queue.Empty:
            if cancel.is_set():
                return
            continue
        if isinstance(item, Done) or cancel.is_set():
            return
        yield item

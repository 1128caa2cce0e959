"""A turn detector's verdict computed off the loop's thread.

Smart Turn takes ~50 ms of one core on a quiet machine, and more beside the reply that a
speculative start has just set going. Called on the loop's thread it held up the loop (the
marks, the held reply's release) for 0.13-0.16 s at the end of every turn that did not end
on a question mark (bench talk). On its own thread it runs while the pause decode does, on the
other core.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future


def computed(value: float) -> Future[float]:
    """A verdict that is already known."""
    future: Future[float] = Future()
    future.set_result(value)
    return future


def in_background(call: Callable[[], float]) -> Future[float]:
    """`call()` on a new daemon thread; its result (or exception) in the future."""
    future: Future[float] = Future()

    def run() -> None:
        try:
            future.set_result(call())
        except BaseException as exc:  # handed to whoever reads the verdict
            future.set_exception(exc)

    threading.Thread(target=run, name="voicebot-turn", daemon=True).start()
    return future

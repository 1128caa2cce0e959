"""Progress for slow things (model loads, first-run model assembly), on stderr.

A spinner-free design: one line when the step starts and one with its duration when it ends,
plus a byte counter for long copies. Works the same in a pipe and on a terminal.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextmanager
def step(message: str) -> Iterator[None]:
    """Print `message…`, run the block, then `done in X s` on the same line where possible."""
    tty = sys.stderr.isatty()
    sys.stderr.write(f"{message}…" + ("" if tty else "\n"))
    sys.stderr.flush()
    began = time.monotonic()
    try:
        yield
    except BaseException:
        sys.stderr.write(" failed\n" if tty else f"{message}: failed\n")
        raise
    took = time.monotonic() - began
    sys.stderr.write(f" done in {took:.1f} s\n" if tty else f"{message}: done in {took:.1f} s\n")
    sys.stderr.flush()


class ByteProgress:
    """Counts bytes of a long copy; redraws at most 10 times a second on a terminal."""

    def __init__(self, label: str, total: int) -> None:
        self.label = label
        self.total = max(total, 1)
        self.done = 0
        self._last = 0.0
        self._tty = sys.stderr.isatty()
        if not self._tty:
            say(f"{label}: {total / 1e6:.0f} MB")

    def add(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if self._tty and (now - self._last > 0.1 or self.done >= self.total):
            self._last = now
            pct = 100.0 * self.done / self.total
            sys.stderr.write(f"\r{self.label}: {pct:5.1f}% of {self.total / 1e6:.0f} MB")
            sys.stderr.flush()

    def close(self) -> None:
        if self._tty:
            sys.stderr.write("\n")
            sys.stderr.flush()

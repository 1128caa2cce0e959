"""Busy processes beside a benchmark: a laptop is never idle.

Each is a plain Python loop at normal priority in its own process, the kind of load a
browser tab or a build puts on a core; they end with the `with` block (or the benchmark).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

SPIN = "while True:\n    pass\n"


@contextmanager
def busy_processes(count: int) -> Iterator[list[subprocess.Popen[bytes]]]:
    procs = [subprocess.Popen([sys.executable, "-c", SPIN], stdin=subprocess.DEVNULL)
             for _ in range(max(count, 0))]
    try:
        yield procs
    finally:
        for proc in procs:
            proc.kill()
        for proc in procs:
            proc.wait()


def load_levels(text: str) -> list[int]:
    """"0,1,2" -> [0, 1, 2]: how many busy processes in each round of the benchmark."""
    try:
        levels = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"expected numbers separated by commas, got {text!r}") from None
    if not levels or any(n < 0 or n > 64 for n in levels):
        raise ValueError(f"expected counts between 0 and 64, got {text!r}")
    return levels

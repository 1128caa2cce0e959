"""Thread counts chosen from the machine (`auto` in a config).

A laptop is never idle, and the talk loop itself runs stages side by side: the LLM's worker
generates while the loop synthesizes the previous sentence, and the audio device threads
wake every few milliseconds. llama.cpp's and CTranslate2's worker threads wait for each
other at every layer, so one thread that loses its core to another stage or a background
job stalls them all. `auto` gives each heavy stage half the cores this process may use
(at least one), so two stages never ask for more cores than there are.
"""

from __future__ import annotations

import os
from typing import Literal

Threads = int | Literal["auto"]


def usable_cores() -> int:
    """The cores this process may run on (its affinity mask, where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def resolve_threads(value: Threads) -> int:
    """`value` itself, or for "auto" half the usable cores (at least one)."""
    if value == "auto":
        return max(1, usable_cores() // 2)
    return int(value)

"""How busy the other processes keep this process's cores (Linux /proc; unknown elsewhere).

llama.cpp's worker threads wait for each other at every layer, so a second thread speeds a
reply up only while no other process wants that core: beside two busy processes two
threads gave a 1.6x slower reply than one (docs/figures.md). `OtherLoad`
samples, every `period_s` on a daemon thread, the CPU time spent on our cores (/proc/stat)
minus our own (/proc/self/stat), and keeps the busiest of the last `window` periods, so a
job that just paused is not taken for an idle core.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from voicebot.threads import usable_cores

PERIOD_S = 0.5
WINDOW = 6  # periods: the busiest of the last 3 s


def read_cpu_ticks(stat: str, cpus: set[int]) -> tuple[int, int]:
    """(busy, total) clock ticks of the listed CPUs, from the text of /proc/stat."""
    busy = total = 0
    for line in stat.splitlines():
        name, _, rest = line.partition(" ")
        if not name.startswith("cpu") or name == "cpu" or int(name[3:]) not in cpus:
            continue
        values = [int(v) for v in rest.split()]
        idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
        spent = sum(values[:8])  # guest time is counted in user already
        busy += spent - idle
        total += spent
    return busy, total


def read_own_ticks(stat: str) -> int:
    """utime + stime of this process (all threads), from the text of /proc/self/stat."""
    fields = stat.rpartition(")")[2].split()  # the command name may hold spaces
    return int(fields[11]) + int(fields[12])


def other_cores(before: tuple[int, int, int], after: tuple[int, int, int], cpus: int) -> float:
    """Cores the other processes kept busy between two (busy, total, own) samples."""
    busy = after[0] - before[0]
    total = after[1] - before[1]
    own = after[2] - before[2]
    if total <= 0:
        return 0.0
    return max(0.0, (busy - own) * cpus / total)


class OtherLoad:
    def __init__(self, period_s: float = PERIOD_S, window: int = WINDOW,
                 name: str = "voicebot-cpuload") -> None:
        self._period_s = period_s
        self._recent: deque[float] = deque(maxlen=window)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        try:
            self._cpus = set(os.sched_getaffinity(0))
        except AttributeError:
            self._cpus = set(range(usable_cores()))
        self._thread: threading.Thread | None = None
        if self._sample() is not None:
            self._thread = threading.Thread(target=self._run, name=name,
                                            daemon=True)
            self._thread.start()

    def cores(self) -> float | None:
        """The most cores the other processes kept busy in any recent period; None where
        it cannot be measured (not Linux) or before the first period has passed."""
        with self._lock:
            return max(self._recent) if self._recent else None

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)

    def _sample(self) -> tuple[int, int, int] | None:
        try:
            busy, total = read_cpu_ticks(Path("/proc/stat").read_text(), self._cpus)
            own = read_own_ticks(Path("/proc/self/stat").read_text())
        except (OSError, ValueError, IndexError):
            return None
        return busy, total, own

    def _run(self) -> None:
        before = self._sample()
        while not self._stop.wait(self._period_s):
            after = self._sample()
            if before is None or after is None:
                return
            load = other_cores(before, after, len(self._cpus))
            with self._lock:
                self._recent.append(load)
            before = after


PROCESS_METER_THREAD = "voicebot-cpuload-process"
"""The thread of a `LoadMeter`: it runs as long as the engines that own it (a daemon)."""
IDLE_CORES = 0.5
"""The other processes count as idle while they keep less than this many cores busy (for
`others_idle`, and for llama.cpp's adaptive engine choice)."""


class LoadMeter:
    """Whether the other processes leave our cores free, for whoever is handed it (the
    engines own one, engines.py; a session's workers read it, workers.py). Its sampling
    thread starts on first use and stops with `close`."""

    def __init__(self, start: Callable[[], _Cores] | None = None) -> None:
        self._start = start or (lambda: OtherLoad(name=PROCESS_METER_THREAD))
        self._meter: _Cores | None = None
        self._lock = threading.Lock()

    def others_idle(self) -> bool:
        """True while the busiest recent period is under IDLE_CORES, or while that cannot
        be measured yet (before the first period; not Linux)."""
        with self._lock:
            if self._meter is None:
                self._meter = self._start()
            meter = self._meter
        cores = meter.cores()
        return cores is None or cores < IDLE_CORES

    def close(self) -> None:
        with self._lock:
            meter, self._meter = self._meter, None
        if meter is not None:
            meter.close()


class _Cores(Protocol):
    def cores(self) -> float | None: ...

    def close(self) -> None: ...

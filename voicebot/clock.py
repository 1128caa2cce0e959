"""Clocks. Only the orchestrators read one; policies are driven by audio time.

Tests inject `FakeClock`, whose `sleep` advances time instantly, so scenario tests can
assert exact latencies.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds on a monotonic scale (the origin is arbitrary)."""
        ...

    def sleep(self, seconds: float) -> None: ...


class MonotonicClock:
    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class ScaledClock:
    """Real time run `speed` times faster: for a soak that replays its user's audio faster
    than real time (the compute is not faster, so latencies read `speed` times longer)."""

    def __init__(self, speed: float) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self.speed = speed
        self._origin = time.monotonic()

    def now(self) -> float:
        return self._origin + (time.monotonic() - self._origin) * self.speed

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds / self.speed)


class FakeClock:
    """A clock that only moves when told to: `sleep` and `advance` move it forward."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        if seconds > 0:
            self._now += seconds

    def sleep_until(self, t: float) -> None:
        self._now = max(self._now, t)


def sleep_until(clock: Clock, t: float) -> None:
    """Sleep on `clock` until its time `t` (no-op when already past)."""
    clock.sleep(t - clock.now())

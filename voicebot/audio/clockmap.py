"""Maps a source's audio time (seconds of samples since it started) onto the loop's clock.

A replayed file, a microphone and a network stream all number their samples from 0, but the
first sample arrives at some clock time that only the orchestrator can observe: a microphone
opened before the models load has a backlog, a network client starts whenever it likes, and
blocks arrive late or in bursts. Audio can never arrive before it was captured, so the
tightest mapping is the smallest lag ever observed between an arrival and the audio time it
completes; jitter only makes single arrivals later, never earlier. `latency` is how long
before delivery the audio was captured (the device's input latency), subtracted from that.
"""

from __future__ import annotations

import math


class AudioClockMap:
    def __init__(self, speed: float = 1.0, latency: float = 0.0) -> None:
        """`speed`: audio seconds per clock second (1.0 live; a faster replay for benchmarks)."""
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self.speed = speed
        self.latency = max(latency, 0.0)
        self._offset = math.inf  # clock time minus (audio time / speed), smallest seen

    @property
    def known(self) -> bool:
        return self._offset < math.inf

    def observe(self, audio_end: float, now: float) -> None:
        """Audio up to `audio_end` (audio seconds) had arrived by clock time `now`."""
        self._offset = min(self._offset, now - audio_end / self.speed)

    def to_clock(self, audio_time: float) -> float:
        """The clock time at which the sound at `audio_time` happened."""
        if not self.known:
            raise RuntimeError("no audio has arrived yet: the mapping is unknown")
        return audio_time / self.speed + self._offset - self.latency

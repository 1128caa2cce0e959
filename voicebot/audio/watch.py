"""Noticing that the microphone or the speaker went away mid-session.

When a device disappears (a USB headset unplugged, the sound server gone), PortAudio ends the
stream: it becomes inactive and the callbacks stop. Nothing else tells the loop, which would
wait forever for audio that never comes. `DeviceWatch` wraps the live source; every read
checks that the microphone's and the speaker's streams are still running and that audio
still arrives, and otherwise raises one clear `AudioDeviceError` line. The finished turns
are already in the session log (it is written as each turn ends).

Time here is the loop's `elapsed`, passed in by the orchestrator: the watch reads no clock.
"""

from __future__ import annotations

from typing import Any

from voicebot.errors import AudioDeviceError
from voicebot.events import AudioFrame

STALL_S = 5.0  # a microphone delivers a block every few tens of ms; this long without one is lost


class DeviceWatch:
    """An AudioSource that forwards to `source` and raises AudioDeviceError when the
    microphone (`source`) or the speaker (`sink`, optional) has stopped."""

    def __init__(self, source: Any, sink: Any = None, stall_s: float = STALL_S) -> None:
        self.source = source
        self.sink = sink
        self.sample_rate: int = source.sample_rate
        self.stall_s = stall_s
        self._last_audio: float | None = None

    def read_available(self, elapsed: float) -> list[AudioFrame]:
        frames: list[AudioFrame] = self.source.read_available(elapsed)
        if frames or self._last_audio is None:
            self._last_audio = elapsed
        self._check(elapsed)
        return frames

    def seconds_until_next(self, elapsed: float) -> float:
        return float(self.source.seconds_until_next(elapsed))

    @property
    def finished(self) -> bool:
        return bool(self.source.finished)

    def close(self) -> None:
        self.source.close()

    def _check(self, elapsed: float) -> None:
        if self.source.finished:
            return
        if not _running(self.source):
            self._lost("microphone", "stopped (unplugged, or the sound server went away)",
                       elapsed)
        if self.sink is not None and not _running(self.sink):
            self._lost("speaker", "stopped (unplugged, or the sound server went away)",
                       elapsed)
        assert self._last_audio is not None
        silent_for = elapsed - self._last_audio
        if silent_for > self.stall_s:
            self._lost("microphone", f"delivered no audio for {silent_for:.0f} s", elapsed)

    def _lost(self, noun: str, what: str, elapsed: float) -> None:
        if self.sink is not None:
            self.sink.stop(elapsed)  # nothing left to drain on a dead device
        raise AudioDeviceError(
            f"the {noun} {what}; the finished turns are in the session log "
            "(check `voicebot devices`, then start again)"
        )


def _running(device: Any) -> bool:
    """False once the PortAudio stream behind a MicrophoneSource/SpeakerSink has ended by
    itself. Objects without a PortAudio stream (files, fakes) always count as running."""
    stream = getattr(device, "stream", None) or getattr(device, "_stream", None)
    if stream is None:
        return True
    return bool(getattr(stream, "active", True))

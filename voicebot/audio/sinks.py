"""Audio sinks: the speaker, and a WAV file laid out on the session's timeline.

`play(samples, rate, at)` enqueues audio handed over at `at` (elapsed session seconds) and
returns a `Playback`: when the audio is expected to start, and, once the device has played its
first sample, when it really started. `busy_until()` says when all queued audio will have
played. A WAV sink's times are exact (the reply sits where it would have been heard); a
speaker's first-sample time comes from the device's own timing (PortAudio's DAC time) and is
mapped onto session time with the `at` values it is handed, so the loop keeps one time base.
"""

from __future__ import annotations

import collections
import math
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from voicebot.audio.played import PlayedAudio
from voicebot.audio.resample import resample


@dataclass
class Playback:
    """One block handed to a sink (session seconds). `started` is filled in when the first
    sample reached the device (by the device's thread for a speaker); until then `expected`
    is the best estimate."""

    expected: float
    started: float | None = None

    @property
    def start(self) -> float:
        return self.started if self.started is not None else self.expected


class AudioSink(Protocol):
    def play(self, samples: np.ndarray, sample_rate: int, at: float) -> Playback:
        """Enqueue audio handed over at `at` (session seconds)."""
        ...

    def busy_until(self) -> float:
        """Session time at which all queued audio has played."""
        ...

    def stop(self, at: float) -> None:
        """Barge-in: drop everything not yet played at `at`."""
        ...

    def close(self) -> None: ...


BLOCK_S = 0.010  # PortAudio callback block: stop() takes effect within one block


@dataclass
class _Queued:
    data: np.ndarray
    playback: Playback
    reference: np.ndarray  # the block at the echo reference's rate
    written: int = 0  # samples of it already written to the device

    def rest(self, reference_rate: int, rate: int) -> _Queued:
        """What is left of the block, as a block of its own whose start is not known yet
        (a paused reply goes on with it)."""
        skip = round(self.written * reference_rate / rate)
        return _Queued(self.data, Playback(math.inf), self.reference[skip:])


class SpeakerSink:
    """Plays through a sounddevice OutputStream at the device's default rate (or
    `sample_rate`); a callback pulls 10 ms blocks from an internal queue, so `stop()` cuts
    the sound within a block.

    Timing: PortAudio tells the callback when the first sample of its buffer will be heard
    (its DAC time, on the stream's clock); when the callback writes the first sample of a
    queued block it stamps that block's `Playback.started` with that moment. The stream's
    clock maps onto session time through the `at` values handed to `play` (each is the
    session time at the call, read just before it). Each block is written to `played`, the
    echo canceller's reference, at the moment it starts to be heard.
    """

    live = True

    def __init__(self, device: str | int | None, sample_rate: int | None = None) -> None:
        from voicebot.audio.devices import (
            load_sounddevice,
            require_output_device,
            wav_alternative,
        )
        from voicebot.errors import AudioDeviceError

        info = require_output_device(device)
        sd = load_sounddevice()
        self.name = info.name
        self.sample_rate = int(sample_rate or round(info.default_samplerate))
        self.underflows = 0
        self._lock = threading.Lock()
        self._queue: collections.deque[_Queued] = collections.deque()
        self._drained = threading.Event()
        self._drained.set()
        self._busy_until = 0.0
        self._session_offset = -float("inf")  # session time minus the device's clock
        self._written_until = 0.0  # session time at which the last sample written is heard
        self._frames_done = 0  # samples handed to the device so far, silence included
        self._anchor: float | None = None  # session time at which sample 0 is heard
        self._closed = False
        self._paused = False
        self.played = PlayedAudio()
        try:
            self._stream = sd.OutputStream(
                device=info.index,
                channels=1,
                samplerate=self.sample_rate,
                blocksize=max(1, round(self.sample_rate * BLOCK_S)),
                dtype="float32",
                callback=self._callback,
            )
            self._stream.start()
        except (sd.PortAudioError, ValueError) as exc:
            raise AudioDeviceError(
                f"could not open the speaker {info.name!r} at {self.sample_rate} Hz: {exc}; "
                f"use {wav_alternative('output')}"
            ) from None
        self.latency = float(getattr(self._stream, "latency", 0.0) or 0.0)
        self._lead = self.latency  # written sample -> heard, last seen by the callback

    def _device_time(self) -> float:
        """The device's clock (PortAudio's stream time), which its DAC times are on."""
        stream_time = getattr(self._stream, "time", None)
        return float(stream_time) if stream_time else time.monotonic()

    def _heard_at(self, time_info: Any) -> tuple[float, float]:
        """(device time at which this callback's first sample is heard, lead over now).
        PortAudio's own figures, so a callback that waited for the GIL is not late."""
        dac = float(getattr(time_info, "outputBufferDacTime", 0.0) or 0.0)
        current = float(getattr(time_info, "currentTime", 0.0) or 0.0)
        if dac > 0 and current > 0 and 0.0 <= dac - current < 2.0:
            return dac, dac - current
        return self._device_time() + self.latency, self.latency

    def _callback(self, outdata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        if status and status.output_underflow:
            self.underflows += 1
            self._anchor = None  # the device played silence we did not write: count anew
        heard_at, lead = self._heard_at(time_info)
        out = outdata[:, 0]
        filled = 0
        with self._lock:
            self._lead = lead
            while filled < frames and self._queue and not self._paused:
                head = self._queue[0]
                if head.playback.started is None:
                    started = heard_at + filled / self.sample_rate + self._session_offset
                    head.playback.started = started
                    queued = sum(len(q.data) for q in self._queue) / self.sample_rate
                    self._busy_until = started + queued
                    self.played.add(self._on_the_count(started, filled), head.reference)
                take = min(frames - filled, len(head.data))
                out[filled : filled + take] = head.data[:take]
                filled += take
                self._written_until = self._on_the_count(
                    heard_at + filled / self.sample_rate + self._session_offset, filled)
                if take == len(head.data):
                    self._queue.popleft()
                else:
                    head.data = head.data[take:]
                    head.written += take
            if not self._queue:
                self._drained.set()
            self._frames_done += frames
        out[filled:] = 0.0

    def _on_the_count(self, heard: float, filled: int) -> float:
        """When the sample `filled` into this callback's buffer is heard, for the echo
        reference: counted in samples from a fixed anchor rather than read from this
        callback's DAC time. The DAC times jitter, and the session offset is re-estimated
        at every `play`; on the real sound server that moved the reference of a second
        reply 10-15 ms against the first, AEC3 lost the echo path for 100-200 ms, and the
        bot heard its own words. The device plays its samples back to back, so their count
        is exact; the anchor is set at the first block (and again after an underflow)."""
        if self._anchor is None:
            self._anchor = heard - (self._frames_done + filled) / self.sample_rate
        return self._anchor + (self._frames_done + filled) / self.sample_rate

    def play(self, samples: np.ndarray, sample_rate: int, at: float) -> Playback:
        self._check_alive()
        data = resample(np.asarray(samples, dtype=np.float32).reshape(-1), sample_rate,
                        self.sample_rate)
        clipped = np.clip(data, -1.0, 1.0)
        reference = self.played.prepare(clipped, self.sample_rate)
        with self._lock:
            self._session_offset = max(self._session_offset, at - self._device_time())
            if self._paused:
                playback = Playback(math.inf)
                self._queue.append(_Queued(clipped, playback, reference))
                return playback
            playback = Playback(max(at + self._lead, self._busy_until))
            if len(data):
                self._queue.append(_Queued(clipped, playback, reference))
                self._drained.clear()
            self._busy_until = playback.expected + len(data) / self.sample_rate
        return playback

    def pause(self, at: float) -> None:
        """Stop writing: what the device holds still plays (its buffer, within `latency`),
        the rest waits for `resume`."""
        with self._lock:
            if self._paused:
                return
            self._paused = True
            if self._queue and self._queue[0].playback.started is not None:
                self._queue[0] = self._queue[0].rest(self.played.sample_rate,
                                                     self.sample_rate)
            self._busy_until = min(self._busy_until, max(at + self._lead, 0.0))
            self.played.cut(self._written_until)
            self._drained.set()

    def resume(self, at: float) -> None:
        with self._lock:
            if not self._paused:
                return
            self._paused = False
            start = max(at + self._lead, self._busy_until)
            for queued in self._queue:
                queued.playback.expected = start
                start += len(queued.data) / self.sample_rate
            self._busy_until = start
            if self._queue:
                self._drained.clear()

    def busy_until(self) -> float:
        self._check_alive()
        return self._busy_until

    def _check_alive(self) -> None:
        """A speaker whose stream stopped by itself (unplugged, its sound server gone) is
        an AudioDeviceError, not audio that silently never plays."""
        from voicebot.errors import AudioDeviceError

        if not self._closed and not self._stream.active:
            self._closed = True
            self._stream.close()
            raise AudioDeviceError(
                f"the speaker {self.name!r} stopped playing (disconnected, or its sound "
                "server went away)"
            )

    def stop(self, at: float) -> None:
        with self._lock:
            self._paused = False
            self._queue.clear()
            self._drained.set()
            # what the device already holds still plays
            self._busy_until = min(self._busy_until, max(at + self._lead, 0.0))
            self.played.cut(self._written_until)

    def close(self) -> None:
        """Let queued audio finish (at most a few seconds), then close the device."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._drained.wait(timeout=5.0):
                threading.Event().wait(self._lead)  # the device's own buffer
            self._stream.stop()
        finally:
            self._stream.close()

"""Audio sinks: the speaker, and a WAV file laid out on the session's timeline.

`play(samples, rate, at)` enqueues audio handed over at `at` (elapsed session seconds) and
returns when it starts playing: max(at, end of the audio already queued). Sinks do not read
a clock: `busy_until()` is computed from those `at` values and the durations, so replies
written to a WAV file sit exactly where they would have been heard.
"""

from __future__ import annotations

import collections
import threading
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from voicebot.audio.resample import resample


class AudioSink(Protocol):
    def play(self, samples: np.ndarray, sample_rate: int, at: float) -> float:
        """Enqueue audio handed over at `at`; returns the elapsed time it starts playing."""
        ...

    def busy_until(self) -> float:
        """Elapsed time at which all queued audio has played."""
        ...

    def stop(self, at: float) -> None:
        """Barge-in: drop everything not yet played at `at`."""
        ...

    def close(self) -> None: ...


class WavSink:
    """Collects the reply audio in one buffer aligned to session time (silence in the gaps)
    and writes it as a 16-bit WAV on `close()` (when `path` is given)."""

    def __init__(self, path: str | Path | None, sample_rate: int = 22050) -> None:
        from voicebot.outputs import open_early

        self.path = Path(path) if path is not None else None
        if self.path is not None:  # a bad path fails now, not after the session
            open_early(self.path, "the reply audio", wav_rate=sample_rate)
        self.sample_rate = sample_rate
        self.min_length_s = 0.0  # pad to this (the input's length) when written
        self._chunks: list[tuple[int, np.ndarray]] = []  # (start sample, samples)
        self._length = 0  # samples laid out so far
        self._busy_until = 0.0
        self._closed = False

    def play(self, samples: np.ndarray, sample_rate: int, at: float) -> float:
        data = resample(np.asarray(samples, dtype=np.float32).reshape(-1), sample_rate,
                        self.sample_rate)
        start = max(at, self._busy_until)
        index = max(round(start * self.sample_rate), self._length)
        if len(data):
            self._chunks.append((index, data))
            self._length = index + len(data)
        self._busy_until = start + len(data) / self.sample_rate
        return start

    def busy_until(self) -> float:
        return self._busy_until

    def stop(self, at: float) -> None:
        if at >= self._busy_until:
            return
        cut = max(round(at * self.sample_rate), 0)
        kept = []
        for index, data in self._chunks:
            if index < cut:
                kept.append((index, data[: cut - index]))
        self._chunks = kept
        self._length = min(self._length, cut)
        self._busy_until = max(at, 0.0)

    def samples(self) -> np.ndarray:
        """Everything played so far, from session time 0, as float32."""
        out = np.zeros(self._length, dtype=np.float32)
        for index, data in self._chunks:
            out[index : index + len(data)] = data
        return out

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.path is not None:
            from voicebot.audio.wav import write_wav

            audio = self.samples()
            short = round(self.min_length_s * self.sample_rate) - len(audio)
            if short > 0:
                audio = np.concatenate([audio, np.zeros(short, dtype=np.float32)])
            write_wav(self.path, audio, self.sample_rate)


BLOCK_S = 0.010  # PortAudio callback block: stop() takes effect within one block


class SpeakerSink:
    """Plays through a sounddevice OutputStream at the device's default rate (or
    `sample_rate`); a callback pulls 10 ms blocks from an internal queue, so `stop()` cuts
    the sound within a block. `busy_until()` is tracked from the `at` values like WavSink.
    """

    def __init__(self, device: str | int | None, sample_rate: int | None = None) -> None:
        from voicebot.audio.devices import (
            load_sounddevice,
            require_output_device,
            wav_alternative,
        )
        from voicebot.errors import AudioDeviceError

        info = require_output_device(device)
        sd = load_sounddevice()
        self.sample_rate = int(sample_rate or round(info.default_samplerate))
        self.underflows = 0
        self._lock = threading.Lock()
        self._queue: collections.deque[np.ndarray] = collections.deque()
        self._drained = threading.Event()
        self._drained.set()
        self._busy_until = 0.0
        self._closed = False
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

    def _callback(self, outdata: np.ndarray, frames: int, time: Any, status: Any) -> None:
        if status and status.output_underflow:
            self.underflows += 1
        out = outdata[:, 0]
        filled = 0
        with self._lock:
            while filled < frames and self._queue:
                head = self._queue[0]
                take = min(frames - filled, len(head))
                out[filled : filled + take] = head[:take]
                filled += take
                if take == len(head):
                    self._queue.popleft()
                else:
                    self._queue[0] = head[take:]
            if not self._queue:
                self._drained.set()
        out[filled:] = 0.0

    def play(self, samples: np.ndarray, sample_rate: int, at: float) -> float:
        data = resample(np.asarray(samples, dtype=np.float32).reshape(-1), sample_rate,
                        self.sample_rate)
        start = max(at, self._busy_until)
        if len(data):
            with self._lock:
                self._queue.append(np.clip(data, -1.0, 1.0))
                self._drained.clear()
        self._busy_until = start + len(data) / self.sample_rate
        return start

    def busy_until(self) -> float:
        return self._busy_until

    def stop(self, at: float) -> None:
        with self._lock:
            self._queue.clear()
            self._drained.set()
        self._busy_until = min(self._busy_until, max(at, 0.0))

    def close(self) -> None:
        """Let queued audio finish (at most a few seconds), then close the device."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._drained.wait(timeout=5.0):
                threading.Event().wait(self.latency)  # the device's own buffer
            self._stream.stop()
        finally:
            self._stream.close()

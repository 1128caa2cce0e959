"""Audio sources: a WAV file replayed at real time (or faster), and the microphone.

The orchestrator owns the clock: it passes `elapsed` (seconds since the stream started) and
a source returns the frames whose audio has "arrived" by then. Sources never read a clock,
so replay runs exactly on a FakeClock in tests and at 1x on the real one.
"""

from __future__ import annotations

import math
import queue
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from voicebot.audio.framing import Reframer
from voicebot.events import AudioFrame


class AudioSource(Protocol):
    sample_rate: int

    def read_available(self, elapsed: float) -> list[AudioFrame]:
        """Frames whose audio has arrived by `elapsed` seconds since the stream started."""
        ...

    def seconds_until_next(self, elapsed: float) -> float:
        """0 when a frame is ready, the wait for the next one, or math.inf once finished."""
        ...

    @property
    def finished(self) -> bool: ...

    def close(self) -> None: ...


class WavReplaySource:
    """Replays samples in blocks of `block_samples`, as a microphone would deliver them.

    speed=1.0: a block is available once `elapsed * speed` reaches its end (real time;
    2.0 is twice as fast). speed=None: as fast as possible, one block per `read_available`
    call whatever `elapsed` says. Optional silence before and after the audio
    (`lead_silence_s`, `tail_silence_s`) lets the endpointer fire after the last word.
    The last block is zero-padded to full length, so every frame has `block_samples`.
    """

    def __init__(
        self,
        samples: np.ndarray,
        sample_rate: int,
        block_samples: int,
        speed: float | None = 1.0,
        *,
        lead_silence_s: float = 0.0,
        tail_silence_s: float = 0.0,
    ) -> None:
        if block_samples <= 0:
            raise ValueError(f"block_samples must be positive, got {block_samples}")
        if speed is not None and speed <= 0:
            raise ValueError(f"speed must be positive or None, got {speed}")
        lead = np.zeros(round(lead_silence_s * sample_rate), dtype=np.float32)
        tail = np.zeros(round(tail_silence_s * sample_rate), dtype=np.float32)
        audio = np.concatenate([lead, np.asarray(samples, dtype=np.float32).reshape(-1), tail])
        blocks = math.ceil(len(audio) / block_samples)
        padded = np.zeros(blocks * block_samples, dtype=np.float32)
        padded[: len(audio)] = audio
        self.samples = padded
        self.sample_rate = sample_rate
        self.block_samples = block_samples
        self.speed = speed
        self.lead_silence_s = len(lead) / sample_rate
        self.audio_end = (len(audio) - len(tail)) / sample_rate
        """Where the real audio ends (before the tail silence), in stream seconds."""
        self._blocks = blocks
        self._next = 0

    @classmethod
    def from_file(
        cls,
        path: str | Path,
        sample_rate: int = 16000,
        block_ms: int = 30,
        speed: float | None = 1.0,
        *,
        lead_silence_s: float = 0.0,
        tail_silence_s: float = 0.0,
    ) -> WavReplaySource:
        from voicebot.audio.wav import read_wav

        samples = read_wav(path, sample_rate)
        return cls(
            samples,
            sample_rate,
            sample_rate * block_ms // 1000,
            speed,
            lead_silence_s=lead_silence_s,
            tail_silence_s=tail_silence_s,
        )

    @property
    def duration(self) -> float:
        """Seconds of audio replayed in all, padding included."""
        return len(self.samples) / self.sample_rate

    @property
    def finished(self) -> bool:
        return self._next >= self._blocks

    def _block_end(self, i: int) -> float:
        return (i + 1) * self.block_samples / self.sample_rate

    def _ready(self, elapsed: float) -> int:
        """How many blocks have arrived by `elapsed` (all of them past the end)."""
        if self.speed is None:
            return min(self._next + 1, self._blocks)
        arrived = elapsed * self.speed * self.sample_rate / self.block_samples
        return min(math.floor(arrived + 1e-9), self._blocks)

    def read_available(self, elapsed: float) -> list[AudioFrame]:
        upto = self._ready(elapsed)
        frames = []
        for i in range(self._next, upto):
            a = i * self.block_samples
            frames.append(
                AudioFrame(self.samples[a : a + self.block_samples], self.sample_rate,
                           a / self.sample_rate)
            )
        self._next = max(self._next, upto)
        return frames

    def seconds_until_next(self, elapsed: float) -> float:
        if self.finished:
            return math.inf
        if self.speed is None:
            return 0.0
        return max(self._block_end(self._next) / self.speed - elapsed, 0.0)

    def close(self) -> None:
        self._next = self._blocks


class MicrophoneSource:
    """The microphone through a sounddevice InputStream.

    PortAudio's callback thread puts blocks into a thread-safe queue; `read_available`
    drains it. Frame start times come from the sample count (audio time), not a clock.
    When the device cannot record at `sample_rate`, it records at its default rate and the
    blocks are converted with a streaming resampler.
    """

    def __init__(self, device: str | int | None, sample_rate: int, block_samples: int) -> None:
        from voicebot.audio.devices import (
            load_sounddevice,
            require_input_device,
            wav_alternative,
        )
        from voicebot.errors import AudioDeviceError

        info = require_input_device(device)
        sd = load_sounddevice()
        self.sample_rate = sample_rate
        self.block_samples = block_samples
        self.overflows = 0
        self._queue: queue.SimpleQueue[np.ndarray] = queue.SimpleQueue()
        self._reframer = Reframer(block_samples)
        self._emitted = 0
        self._closed = False
        self._resampler: Any = None
        device_rate = sample_rate
        try:
            sd.check_input_settings(device=info.index, channels=1, samplerate=sample_rate,
                                    dtype="float32")
        except (sd.PortAudioError, ValueError):
            import soxr

            device_rate = round(info.default_samplerate)
            self._resampler = soxr.ResampleStream(device_rate, sample_rate, 1, dtype="float32")
        try:
            self._stream = sd.InputStream(
                device=info.index,
                channels=1,
                samplerate=device_rate,
                blocksize=max(1, block_samples * device_rate // sample_rate),
                dtype="float32",
                callback=self._callback,
            )
            self._stream.start()
        except (sd.PortAudioError, ValueError) as exc:
            raise AudioDeviceError(
                f"could not open the microphone {info.name!r} at {device_rate} Hz: {exc}; "
                f"use {wav_alternative('input')}"
            ) from None

    def _callback(self, indata: np.ndarray, frames: int, time: Any, status: Any) -> None:
        if status and status.input_overflow:
            self.overflows += 1
        self._queue.put(indata[:, 0].copy())

    def read_available(self, elapsed: float) -> list[AudioFrame]:
        frames: list[AudioFrame] = []
        while True:
            try:
                block = self._queue.get_nowait()
            except queue.Empty:
                self._check_alive()
                break
            if self._resampler is not None:
                block = self._resampler.resample_chunk(block)
            for samples in self._reframer.push(block):
                frames.append(AudioFrame(samples, self.sample_rate,
                                         self._emitted / self.sample_rate))
                self._emitted += len(samples)
        return frames

    def _check_alive(self) -> None:
        """A device unplugged mid-session stops the stream: say so instead of listening to
        nothing forever (the finished turns are already in the log)."""
        if not self._closed and not getattr(self._stream, "active", True):
            from voicebot.errors import AudioDeviceError

            raise AudioDeviceError("the microphone stopped delivering audio (unplugged or "
                                   "taken by another program?)")

    def seconds_until_next(self, elapsed: float) -> float:
        if self._closed:
            return math.inf
        if not self._queue.empty():
            return 0.0
        return self.block_samples / self.sample_rate

    @property
    def finished(self) -> bool:
        return self._closed

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._stream.stop()
        finally:
            self._stream.close()

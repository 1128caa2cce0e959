"""Audio sources: a WAV file replayed at real time (or faster), and the microphone.

The orchestrator owns the clock: it passes `elapsed` (seconds since the stream started) and
a source returns the frames whose audio has "arrived" by then. Sources never read a clock,
so replay runs exactly on a FakeClock in tests and at 1x on the real one. Frames carry audio
time (samples since the source started); the orchestrator maps it onto its clock from the
arrivals it observes (voicebot/audio/clockmap.py), so a source may start before the loop.
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
    latency: float
    """Seconds between a sound and the delivery of the block that ends with it, beyond the
    block's own length (a device's input buffering; 0 for a replayed file)."""

    def start(self) -> None:
        """Begin delivering audio (a microphone records from here on: no backlog)."""
        ...

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

    live = False

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
        self.latency = 0.0
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

    def start(self) -> None:
        """Replay is driven by `elapsed`: nothing to start."""

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


STALL_S = 2.0
"""A started microphone that delivers nothing for this long is lost (blocks come every
30 ms; a busy machine delays them by tens of milliseconds, not seconds)."""


class MicrophoneSource:
    """The microphone through a sounddevice InputStream.

    PortAudio's callback thread puts blocks into a thread-safe queue; `read_available`
    drains it. Frame start times come from the sample count (audio time), not a clock.
    When the device cannot record at `sample_rate` (or in mono), it records at its default
    rate (and channel count, down-mixed) and the blocks are converted with a streaming
    resampler. The device is opened at construction (a bad device is reported at once) but
    records only from `start()`: audio from before the conversation began is never heard.
    """

    live = True

    def __init__(self, device: str | int | None, sample_rate: int, block_samples: int) -> None:
        from voicebot.audio.devices import (
            load_sounddevice,
            require_input_device,
            wav_alternative,
        )
        from voicebot.errors import AudioDeviceError

        info = require_input_device(device)
        sd = load_sounddevice()
        self.name = info.name
        self.sample_rate = sample_rate
        self.block_samples = block_samples
        self.latency = 0.0
        self.overflows = 0
        self._queue: queue.SimpleQueue[np.ndarray] = queue.SimpleQueue()
        self._reframer = Reframer(block_samples)
        self._emitted = 0
        self._closed = False
        self._started = False
        self._last_arrival: float | None = None  # elapsed time of the last block read
        self._resampler: Any = None
        device_rate, channels = _input_format(sd, info, sample_rate)
        if device_rate != sample_rate:
            import soxr

            self._resampler = soxr.ResampleStream(device_rate, sample_rate, 1, dtype="float32")
        try:
            self._stream = sd.InputStream(
                device=info.index,
                channels=channels,
                samplerate=device_rate,
                blocksize=max(1, block_samples * device_rate // sample_rate),
                dtype="float32",
                callback=self._callback,
            )
        except (sd.PortAudioError, ValueError) as exc:
            raise AudioDeviceError(
                f"could not open the microphone {info.name!r} at {device_rate} Hz: {exc}; "
                f"use {wav_alternative('input')}"
            ) from None

    def start(self) -> None:
        from voicebot.audio.devices import wav_alternative
        from voicebot.errors import AudioDeviceError

        if self._started or self._closed:
            return
        try:
            self._stream.start()
        except Exception as exc:  # PortAudioError, or the device vanished since opening
            raise AudioDeviceError(
                f"could not start the microphone {self.name!r}: {exc}; "
                f"use {wav_alternative('input')}"
            ) from None
        self._started = True

    def _callback(self, indata: np.ndarray, frames: int, time: Any, status: Any) -> None:
        if status and status.input_overflow:
            self.overflows += 1
        self._queue.put(indata.mean(axis=1) if indata.shape[1] > 1 else indata[:, 0].copy())

    def read_available(self, elapsed: float) -> list[AudioFrame]:
        frames: list[AudioFrame] = []
        while True:
            try:
                block = self._queue.get_nowait()
            except queue.Empty:
                break
            if self._resampler is not None:
                block = self._resampler.resample_chunk(block)
            for samples in self._reframer.push(block):
                frames.append(AudioFrame(samples, self.sample_rate,
                                         self._emitted / self.sample_rate))
                self._emitted += len(samples)
        self._check_alive(elapsed, arrived=bool(frames))
        return frames

    def _check_alive(self, elapsed: float, *, arrived: bool) -> None:
        """A microphone that stops delivering (unplugged, its sound server gone) is an
        AudioDeviceError, not a conversation that silently waits forever."""
        from voicebot.errors import AudioDeviceError

        if not self._started or self._closed:
            return
        if arrived or self._last_arrival is None:
            self._last_arrival = elapsed
        stalled = elapsed - self._last_arrival > STALL_S
        if stalled or not self._stream.active:
            raise AudioDeviceError(
                f"the microphone {self.name!r} stopped delivering audio "
                f"(disconnected, or its sound server went away); check `voicebot devices`"
            )

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
        except Exception:  # a lost device cannot be stopped; closing it still frees it
            pass
        finally:
            self._stream.close()


def _input_format(sd: Any, info: Any, sample_rate: int) -> tuple[int, int]:
    """(rate, channels) to record at: `sample_rate` mono if the device takes it, else its
    default rate, in mono or (a device that only records stereo) in its own channel count."""
    default_rate = round(info.default_samplerate)
    channels = max(1, min(int(info.max_input_channels), 2))
    for rate, chans in ((sample_rate, 1), (default_rate, 1), (default_rate, channels)):
        try:
            sd.check_input_settings(device=info.index, channels=chans, samplerate=rate,
                                    dtype="float32")
        except (sd.PortAudioError, ValueError):
            continue
        return rate, chans
    return default_rate, channels

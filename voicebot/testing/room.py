"""A simulated room: the bot's loudspeaker heard again by the microphone.

For tests and `bench duplex` without sound devices: a replayed recording (the user) plus
the sink's own output (`PlayedAudio`, on session time) through an echo path: a delay, a
gain and a short decaying reverberation tail, as a laptop's speaker reaches its microphone.
The replay runs at 1x from session time 0, so a frame's audio time is its session time (a
few milliseconds off on a real clock: the same as a slightly longer path).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from voicebot.audio.played import PlayedAudio
from voicebot.audio.sources import AudioSource
from voicebot.events import AudioFrame

if TYPE_CHECKING:
    from voicebot.audio.echo import EchoCancellation


def echo_path(sample_rate: int, *, delay_ms: float, gain_db: float, tail_ms: float = 60.0,
              seed: int = 0) -> np.ndarray:
    """An impulse response: the direct sound after `delay_ms` at `gain_db`, and reflections
    decaying over `tail_ms` whose energy is 10 dB below it."""
    delay = round(delay_ms * sample_rate / 1000)
    tail = max(1, round(tail_ms * sample_rate / 1000))
    rng = np.random.default_rng(seed)
    response = np.zeros(delay + tail, dtype=np.float32)
    reflections = rng.standard_normal(tail) * np.exp(-np.arange(tail) / (tail / 5))
    reflections *= np.sqrt(0.1 / np.sum(reflections[1:] ** 2))
    response[delay:] = reflections.astype(np.float32)
    response[delay] = 1.0
    return response * np.float32(10 ** (gain_db / 20))


class EchoRoomSource:
    """`inner`'s frames with the echo of what was played mixed in. `echo_energy` and
    `echo_frames` add up the echo alone, for measuring what the canceller leaves."""

    live = False

    def __init__(self, inner: AudioSource, played: PlayedAudio, *, delay_ms: float = 100.0,
                 gain_db: float = 0.0, tail_ms: float = 60.0) -> None:
        if played.sample_rate != inner.sample_rate:
            raise ValueError("the room needs the reference at the input's rate")
        self.inner = inner
        self.played = played
        self.sample_rate = inner.sample_rate
        self.latency = inner.latency
        self.response = echo_path(inner.sample_rate, delay_ms=delay_ms, gain_db=gain_db,
                                  tail_ms=tail_ms)
        self.echo: list[tuple[float, np.ndarray]] = []  # (audio time, the echo in a frame)

    def start(self) -> None:
        self.inner.start()

    def read_available(self, elapsed: float) -> list[AudioFrame]:
        frames = []
        for frame in self.inner.read_available(elapsed):
            echo = self._echo(frame.start, len(frame.samples))
            if echo.any():
                self.echo.append((frame.start, echo))
            frames.append(AudioFrame(frame.samples + echo, frame.sample_rate, frame.start))
        return frames

    def _echo(self, start: float, count: int) -> np.ndarray:
        history = len(self.response) - 1
        far = self.played.read(start - history / self.sample_rate, count + history)
        if not far.any():
            return np.zeros(count, dtype=np.float32)
        return np.convolve(far, self.response, mode="valid").astype(np.float32)

    def seconds_until_next(self, elapsed: float) -> float:
        return self.inner.seconds_until_next(elapsed)

    @property
    def finished(self) -> bool:
        return self.inner.finished

    def close(self) -> None:
        self.inner.close()


class KnownRoomCanceller:
    """A canceller that knows the room's response exactly and subtracts the echo it
    predicts from the reference: it leaves the user's voice whole, so a test of the loop
    does not depend on how AEC3 treats synthetic voices in double talk, and its result is
    exact only if the reference is aligned with the microphone sample for sample."""

    def __init__(self, response: np.ndarray, sample_rate: int = 16000) -> None:
        self.sample_rate = sample_rate
        self.response = response
        self._history = np.zeros(len(response) - 1, dtype=np.float32)

    def process(self, near: np.ndarray, far: np.ndarray) -> np.ndarray:
        signal = np.concatenate([self._history, far])
        self._history = signal[len(signal) - len(self._history):]
        echo = np.convolve(signal, self.response, mode="valid")
        return (near - echo).astype(np.float32)


def through_the_echo_stage(far: np.ndarray, near: np.ndarray, rate: int = 16000, frame: int = 480,
                           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, EchoCancellation]:
    """`near` (the microphone) through the echo stage with AEC3 and the words' linear filter,
    the speaker playing `far` from time 0, in `frame`-sample frames: AEC3's output (what the
    VAD hears), the words' filter's (what the recognizer hears), per sample the share of its
    frame where that filter held still (double talk), and the stage."""
    from voicebot.audio.echo import EchoCancellation, WebRtcEchoCanceller
    from voicebot.audio.linear_echo import LinearEchoFilter

    played = PlayedAudio(rate)
    played.add(0.0, far)
    stage = EchoCancellation(WebRtcEchoCanceller(rate), played, lambda t: t,
                             words_filter=LinearEchoFilter(rate))
    frames = [stage.process(AudioFrame(near[i:i + frame], rate, i / rate))
              for i in range(0, len(near) // frame * frame, frame)]
    cleaned = np.concatenate([f.samples for f in frames])
    words = np.concatenate([f.samples if f.words is None else f.words for f in frames])
    held = np.concatenate([np.zeros(len(f.samples)) if f.double_talk is None
                           else f.double_talk for f in frames])
    return cleaned, words, held, stage

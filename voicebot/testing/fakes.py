"""Fake backends for scenario tests, scripted by data and timed on an injected FakeClock.

Each fake implements the same one-hook interface as the real backends. "Compute time" is
spent by sleeping on the clock, so with a FakeClock every latency in a scenario is exact.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from voicebot.clock import Clock
from voicebot.config import Config, StageConfig
from voicebot.events import ChatMessage, Word

SPEECH_AMPLITUDE = 0.1


def scripted_audio(
    speech: Sequence[tuple[float, float]], total_s: float, sample_rate: int = 16000
) -> np.ndarray:
    """Digital silence with a constant-loudness "voice" (deterministic noise) in each
    (start, end) interval: the script that FakeVad reads back."""
    audio = np.zeros(round(total_s * sample_rate), dtype=np.float32)
    rng = np.random.default_rng(0)
    for start, end in speech:
        a, b = round(start * sample_rate), round(end * sample_rate)
        audio[a:b] = rng.choice([-SPEECH_AMPLITUDE, SPEECH_AMPLITUDE], size=b - a)
    return audio


def low_voice(rng: np.random.Generator, n: int, amplitude: float) -> np.ndarray:
    """Noise below about 1 kHz at `amplitude` (its RMS): a voice unlike the scripted user's
    (white), so an echo canceller can keep the user's voice while the bot's plays."""
    noise = np.convolve(rng.standard_normal(n + 15), np.ones(16) / 16, mode="valid")
    return (noise / (noise.std() or 1.0) * amplitude).astype(np.float32)


class FakeVad:
    """Speech when a frame is loud: reads the script that `scripted_audio` wrote."""

    def __init__(self, sample_rate: int = 16000, frame_samples: int = 480) -> None:
        self.sample_rate = sample_rate
        self.frame_samples = frame_samples

    def speech_prob(self, frame: np.ndarray) -> float:
        return 1.0 if float(np.abs(frame).mean()) > SPEECH_AMPLITUDE / 2 else 0.0

    def reset(self) -> None:
        pass


class FakeAsr:
    """Hears `text` spoken evenly over the scripted speech: a hypothesis holds the words whose
    time has passed in the audio given. Each call costs `compute_s` on the clock."""

    sample_rate = 16000
    word_timestamps = True

    def __init__(
        self, clock: Clock, text: str, compute_s: float, words_per_second: float = 3.0
    ) -> None:
        self.clock = clock
        self.words = text.split()
        self.compute_s = compute_s
        self.words_per_second = words_per_second
        self.calls = 0

    def transcribe(self, audio: np.ndarray, *, prompt: str = "") -> list[Word]:
        self.calls += 1
        self.clock.sleep(self.compute_s)
        loud = np.flatnonzero(np.abs(audio) > SPEECH_AMPLITUDE / 2)
        if not len(loud):
            return []
        first, last = loud[0] / self.sample_rate, (loud[-1] + 1) / self.sample_rate
        step = 1.0 / self.words_per_second
        spoken = [
            Word(first + i * step, first + (i + 1) * step, text)
            for i, text in enumerate(self.words)
        ]
        return [w for w in spoken if w.end <= last + 1e-9]


class FakeLlm:
    """Streams `tokens`: the first after `ttft_s`, then one every `per_token_s` on the clock.
    On the requests numbered in `fail_on` (1-based) it raises `failure` after `fail_after`
    tokens: a backend failing mid-turn (or, with KeyboardInterrupt, Ctrl-C mid-reply)."""

    def __init__(
        self,
        clock: Clock,
        tokens: Sequence[str],
        ttft_s: float,
        per_token_s: float,
        fail_on: Sequence[int] = (),
        fail_after: int = 0,
        failure: BaseException | None = None,
    ) -> None:
        self.clock = clock
        self.tokens = list(tokens)
        self.ttft_s = ttft_s
        self.per_token_s = per_token_s
        self.fail_on = set(fail_on)
        self.fail_after = fail_after
        self.failure = failure or RuntimeError("fake LLM exploded")
        self.requests: list[list[ChatMessage]] = []
        self.tokens_sent = 0

    def stream(
        self, messages: Sequence[ChatMessage], *, cancel: threading.Event
    ) -> Iterator[str]:
        self.requests.append(list(messages))
        failing = len(self.requests) in self.fail_on
        for i, token in enumerate(self.tokens):
            if cancel.is_set():
                return
            if failing and i >= self.fail_after:
                raise self.failure
            self.clock.sleep(self.ttft_s if i == 0 else self.per_token_s)
            self.tokens_sent += 1
            yield token

    def count_tokens(self, text: str) -> int:
        return len(text.split())


class FakeTts:
    """Speaks `seconds_per_char` of audio per character, the first chunk after
    `first_audio_s` of compute; audio is a constant level (non-zero), or with
    `voice_amplitude` a voice-like noise at that amplitude (what a microphone picks up again
    in a simulated room, voicebot/testing/room.py, and FakeVad takes for speech)."""

    def __init__(
        self,
        clock: Clock,
        first_audio_s: float,
        sample_rate: int = 16000,
        seconds_per_char: float = 0.05,
        voice_amplitude: float | None = None,
    ) -> None:
        self.clock = clock
        self.first_audio_s = first_audio_s
        self.sample_rate = sample_rate
        self.seconds_per_char = seconds_per_char
        self.voice_amplitude = voice_amplitude
        self.spoken: list[str] = []
        self._rng = np.random.default_rng(1)

    def synthesize(self, text: str) -> Iterator[np.ndarray]:
        if not text.strip():
            return
        self.spoken.append(text)
        self.clock.sleep(self.first_audio_s)
        n = round(len(text) * self.seconds_per_char * self.sample_rate)
        if self.voice_amplitude is None:
            yield np.full(n, 0.25, dtype=np.float32)
        else:
            yield low_voice(self._rng, n, self.voice_amplitude)


@dataclass
class ScriptedDetector:
    """A turn detector that always answers `p`; records the seconds of audio and the text
    it was given."""

    name = "scripted"
    needs_audio = True

    def __init__(self, p: float, sample_rate: int = 16000) -> None:
        self.p = p
        self.sample_rate = sample_rate
        self.calls: list[tuple[float, str]] = []

    def p_finished(self, audio: np.ndarray, text: str) -> float:
        self.calls.append((len(audio) / self.sample_rate, text))
        return self.p


class RecordedView:
    """A ConversationView that records what a user would have seen."""

    lines: list[str]

    def __init__(self) -> None:
        self.lines = []

    def partial(self, committed: str, partial: str) -> None:
        self.lines.append(f"partial: {committed} | {partial}")

    def user_said(self, text: str) -> None:
        self.lines.append(f"user: {text}")

    def reply_text(self, delta: str) -> None:
        self.lines.append(f"reply: {delta}")

    def turn_done(self, turn: object) -> None:
        self.lines.append(f"turn: {getattr(turn, 'status', '?')}")

    def notice(self, message: str) -> None:
        self.lines.append(f"notice: {message}")


def leftover_threads() -> list[str]:
    """voicebot's threads still running, less the process's load meter (cpuload.py), which
    runs until exit by design: what a closed or cancelled backend must not leave behind."""
    from voicebot.cpuload import PROCESS_METER_THREAD

    return [t.name for t in threading.enumerate()
            if t.name.startswith("voicebot-") and t.name != PROCESS_METER_THREAD]


def fake_config(**sections: Any) -> Config:
    """A Config for conversations on fake engines: the named sections (endpoint=…,
    streaming=…, turn=…, text=…, conversation=…) replace the defaults; the stages name the
    fakes (nothing is loaded from them)."""
    fake = StageConfig("fake", None)
    return Config(source=Path("fake-engines"), vad=fake, asr=fake, llm=fake, tts=fake,
                  **sections)

"""The small vocabulary of frozen dataclasses that stages pass to each other.

Times named `start`, `end` or `at` are audio seconds from the start of the input stream;
times named `emitted` are seconds on the orchestrator's clock since the stream started.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np


@dataclass(frozen=True)
class Word:
    """One recognised word with its audio time span (seconds from the start of the stream)."""

    start: float
    end: float
    text: str


@dataclass(frozen=True)
class EmittedWord:
    """A word as the user saw it appear: `emitted` is when (stream clock seconds)."""

    word: Word
    emitted: float


@dataclass(frozen=True)
class TranscriptUpdate:
    """What one streaming step produced: newly committed words and the current partial tail."""

    committed: tuple[Word, ...] = ()
    partial: tuple[Word, ...] = ()


@dataclass(frozen=True)
class AudioFrame:
    """A block of mono float32 samples in [-1, 1] starting at audio time `start`.
    `words`: the same stretch as the recognizer should hear it, where that differs from
    what the VAD hears (echo cancellation: audio/linear_echo.py); None when it does not.
    `double_talk`: with `words`, 1.0 for each sample where the words' filter heard more
    than the bot's echo (it held still), else 0.0."""

    samples: np.ndarray = field(repr=False)
    sample_rate: int
    start: float
    words: np.ndarray | None = field(default=None, repr=False)
    double_talk: np.ndarray | None = field(default=None, repr=False)

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate

    @property
    def end(self) -> float:
        return self.start + self.duration


@dataclass(frozen=True)
class SpeechStarted:
    """The endpointer decided speech began; `at` includes no pre-roll. `over_reply`: it
    began while the bot's reply played (full duplex), where the onset is heard late."""

    at: float
    over_reply: bool = False


@dataclass(frozen=True)
class SpeechEnded:
    """The endpointer decided the utterance is over.

    `last_speech` is the end of the user's speech: the end of the last frame classified as
    speech, which the Listener moves back to where the sound of speech ends in the audio
    (a VAD frame runs on past it); `at` is when the endpoint fired (audio time),
    i.e. `last_speech` plus the configured trailing silence. `forced` is set when the
    maximum utterance length cut the speech.
    """

    at: float
    last_speech: float
    forced: bool = False


Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str


@dataclass(frozen=True)
class UtteranceFinal:
    """The final transcript of one utterance (the Listener's answer after SpeechEnded).

    `words` are all committed words of the utterance; `text` is empty when nothing was
    recognised (callers ignore it). `speech_start` is the onset, `last_speech` the end of
    the last speech frame, `endpoint` when the endpoint fired (audio seconds); `forced`
    when the maximum utterance length cut it (the speech continues in a new utterance).
    """

    words: tuple[Word, ...]
    text: str
    speech_start: float
    last_speech: float
    endpoint: float
    forced: bool = False

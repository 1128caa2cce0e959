"""A patient user for the soak bench: asks the next question only once the previous one
was answered (or given up on), after a realistic gap, as a microphone stream at 1x.

Between questions it delivers silence, so audio time runs on like a live microphone.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from voicebot.events import AudioFrame


class PatientUserSource:
    """`answered()` counts finished turns; question k+1 starts `gap_s` after turn k ends,
    or `give_up_s` after question k ended when no turn came of it."""

    latency = 0.0  # generated audio: delivered the moment it is due

    def __init__(
        self,
        questions: Sequence[np.ndarray],
        sample_rate: int,
        block_samples: int,
        answered: Callable[[], int],
        *,
        gap_s: float = 1.5,
        lead_s: float = 0.5,
        give_up_s: float = 90.0,
    ) -> None:
        self.questions = list(questions)
        self.sample_rate = sample_rate
        self.block = block_samples
        self.answered = answered
        self.gap_s = gap_s
        self.give_up_s = give_up_s
        self.asked_at: list[float] = []  # stream time each question began
        self.gave_up = 0
        self._emitted = 0  # samples delivered so far
        self._pending = np.zeros(0, dtype=np.float32)
        self._next_at = lead_s  # earliest start of the next question
        self._question_end = 0.0
        self._turns_when_asked = 0  # turns ended when the last question began
        self._answer_seen_at: float | None = None
        self._now = 0.0

    @property
    def asked(self) -> int:
        return len(self.asked_at)

    def _stream_time(self) -> float:
        return self._emitted / self.sample_rate

    def _update(self, t: float) -> None:
        """Schedule the next question once a turn has ended since the last one was asked,
        or it was given up on. Counting turns from the moment each question is asked keeps
        one lost question (spoken while the microphone was muted, merged into another
        turn) from making every later question wait out the give-up time."""
        if len(self._pending) or self.asked >= len(self.questions):
            return
        if self.asked and self._answer_seen_at is None:
            if self.answered() > self._turns_when_asked:
                self._answer_seen_at = t
                self._next_at = t + self.gap_s
            elif t - self._question_end < self.give_up_s:
                return
            else:  # no turn came of the last question: go on (counted as unanswered)
                self.gave_up += 1
                self._answer_seen_at = t
                self._next_at = t + self.gap_s
        if t >= self._next_at:
            self.asked_at.append(t)
            self._turns_when_asked = self.answered()
            self._answer_seen_at = None
            self._pending = self.questions[self.asked - 1]
            self._question_end = t + len(self._pending) / self.sample_rate

    def start(self) -> None:
        pass

    def read_available(self, elapsed: float) -> list[AudioFrame]:
        self._now = elapsed
        frames = []
        while (self._emitted + self.block) / self.sample_rate <= elapsed and not self.finished:
            t = self._stream_time()
            self._update(t)
            block = np.zeros(self.block, dtype=np.float32)
            take = self._pending[: self.block]
            block[: len(take)] = take
            self._pending = self._pending[len(take):]
            frames.append(AudioFrame(block, self.sample_rate, t))
            self._emitted += self.block
        return frames

    def seconds_until_next(self, elapsed: float) -> float:
        if self.finished:
            return math.inf
        return max((self._emitted + self.block) / self.sample_rate - elapsed, 0.0)

    @property
    def finished(self) -> bool:
        if self.asked < len(self.questions) or len(self._pending):
            return False
        t = self._stream_time()
        return (self.answered() > self._turns_when_asked
                or t - self._question_end >= self.give_up_s)

    def close(self) -> None:
        self.questions = self.questions[: self.asked]
        self._pending = np.zeros(0, dtype=np.float32)

"""A simulated user who takes turns with the bot: says a line, waits for the reply to end,
says the next, or speaks into the reply on purpose (a barge-in), as `bench duplex` needs.

It is a source driven by the orchestrator's `elapsed` like a replayed file (1x: a block is
ready once its end has passed), but what it says next depends on what the bot has played,
read from the sink's `PlayedAudio` on the same session time. Frames carry audio time equal
to session time, as a replay from time 0 does. `onsets` records when each line's speech
began (the level rule of audio/levels.py: a peak of room tone before it is not speech, and
counting from it put 0.23 s of room tone into a barge-in reaction) and `ends` when the line
ended: the references for reaction times measured from outside and for telling the user's
words from the bot's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from voicebot.audio.levels import first_audible, speech_onset
from voicebot.audio.played import PlayedAudio
from voicebot.events import AudioFrame


@dataclass(frozen=True)
class Line:
    audio: np.ndarray
    into_reply_s: float | None = None
    """None: said once the bot's reply has ended; a number: said this long after the reply
    to the previous line began to play (a barge-in)."""


class SimulatedUser:
    live = False
    latency = 0.0

    def __init__(self, lines: list[Line], played: PlayedAudio, block_samples: int, *,
                 lead_s: float = 0.5, pause_s: float = 1.0, wait_s: float = 20.0) -> None:
        """`pause_s`: silence after a reply before the next line; `wait_s`: the longest
        wait for a reply (then the next line comes anyway, and the session ends)."""
        self.lines = list(lines)
        self.played = played
        self.sample_rate = played.sample_rate
        self.block = block_samples
        self.pause_s = pause_s
        self.wait_s = wait_s
        self.onsets: list[float] = []
        self.ends: list[float] = []  # when each line ended
        self._said: list[np.ndarray] = []
        self._samples = 0  # samples delivered
        self._line: np.ndarray | None = None  # the rest of the line being said
        self._next = 0
        self._said_until = lead_s  # when the last line ended (the lead silence before all)
        self._reply_from: float | None = None  # first reply audio since then
        self._done = False

    def start(self) -> None:
        """Driven by `elapsed`: nothing to start."""

    def read_available(self, elapsed: float) -> list[AudioFrame]:
        frames = []
        while not self._done and (self._samples + self.block) <= elapsed * self.sample_rate:
            frames.append(self._frame())
        return frames

    def _frame(self) -> AudioFrame:
        start = self._samples / self.sample_rate
        end = (self._samples + self.block) / self.sample_rate
        self._watch_reply(start, end)
        out = np.zeros(self.block, dtype=np.float32)
        if self._line is None and self._next < len(self.lines) and self._due(start):
            line = self.lines[self._next]
            self.onsets.append(start + speech_start(line.audio, self.sample_rate))
            self._line = line.audio
            self._next += 1
        if self._line is not None:
            take = self._line[: self.block]
            out[: len(take)] = take
            self._line = self._line[self.block:]
            if not len(self._line):
                self._line = None
                self._said_until = end
                self.ends.append(end)
                self._reply_from = None
        elif self._next >= len(self.lines) and self._session_over(start):
            self._done = True
        self._samples += self.block
        self._said.append(out)
        return AudioFrame(out, self.sample_rate, start)

    def track(self) -> np.ndarray:
        """Everything the user said, from time 0 (what a microphone with no room heard)."""
        return np.concatenate(self._said) if self._said else np.zeros(0, dtype=np.float32)

    def _watch_reply(self, start: float, end: float) -> None:
        if self._reply_from is None and start >= self._said_until and \
                self.played.playing_between(start, end):
            self._reply_from = start

    def _reply_over(self, t: float) -> bool:
        """A reply began after the last line, and nothing has played for `pause_s`."""
        return self._reply_from is not None and t - self.pause_s >= self._reply_from and \
            not self.played.playing_between(t - self.pause_s, t)

    def _due(self, t: float) -> bool:
        if (self._next == 0 and t >= self._said_until) or t - self._said_until >= self.wait_s:
            return True
        into = self.lines[self._next].into_reply_s
        if into is not None:
            return self._reply_from is not None and t >= self._reply_from + into
        return self._reply_over(t)

    def _session_over(self, t: float) -> bool:
        return self._reply_over(t) or t - self._said_until >= self.wait_s

    def seconds_until_next(self, elapsed: float) -> float:
        if self._done:
            return math.inf
        return max(0.0, (self._samples + self.block) / self.sample_rate - elapsed)

    @property
    def finished(self) -> bool:
        return self._done

    def close(self) -> None:
        pass


def speech_start(audio: np.ndarray, sample_rate: int) -> float:
    """Seconds into a line where its speech begins; its first sample at -40 dBFS where the
    level rule finds no speech (a line too short to hold 30 ms of it)."""
    onset = speech_onset(audio, sample_rate)
    if onset is None:
        onset = (first_audible(audio, -40.0) or 0) / sample_rate
    return onset

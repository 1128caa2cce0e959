"""Endpointing: a pure state machine over per-frame speech probabilities, in audio time.

Fed `(frame_start, frame_seconds, prob)`, it decides when an utterance starts and ends.
No clock and no audio, so its tests are exact:

- an utterance starts after `start_ms` of consecutive speech (`start_over_reply_ms` while
  the caller says the bot's reply plays: `over_reply`, which the event carries on);
  `SpeechStarted.at` is the start of the first speech frame of that run (shorter blips
  never start one);
- it ends after `end_ms` of consecutive non-speech; `SpeechEnded.at` is the end of the frame
  that completed the silence and `last_speech` the end of the last speech frame (shorter
  pauses are bridged);
- with a turn policy and a judge (turn/policy.py), reaching `end_ms` of silence asks the
  judge instead: the utterance ends only when it says the turn is finished, or once the
  policy's hard timeout of silence is reached (a longer pause is then bridged like a short
  one);
- at `max_utterance_s` it is cut (`forced=True`); if speech goes on, a new utterance starts
  at the cut, so no audio is lost.

Pre-roll is the caller's: it takes audio from `utterance_audio_start(onset, cfg, floor)`.
"""

from __future__ import annotations

from collections.abc import Callable

from voicebot.config import EndpointConfig
from voicebot.events import SpeechEnded, SpeechStarted
from voicebot.turn.policy import TurnPolicy

EPS = 1e-6  # frame durations are summed as floats: 3 x 0.03 must count as 0.09

VadEvent = SpeechStarted | SpeechEnded
Judge = Callable[[float], float | None]
"""Called with the audio time of the end of the pause so far; returns P(turn finished), or
None when it cannot tell yet (asked again at the next frame)."""


def utterance_audio_start(onset: float, cfg: EndpointConfig, floor: float = 0.0,
                          over_reply: bool = False) -> float:
    """Where an utterance's audio begins: `preroll_ms` before the onset (`preroll_over_reply_ms`
    for one that began over the reply), but never before `floor` (pass
    `Endpointer.last_end`, so no audio goes to two utterances) nor 0."""
    preroll_ms = cfg.preroll_over_reply_ms if over_reply else cfg.preroll_ms
    return max(0.0, floor, onset - preroll_ms / 1000.0)


class Endpointer:
    def __init__(self, cfg: EndpointConfig, turn: TurnPolicy | None = None,
                 judge: Judge | None = None) -> None:
        """Without `turn` and `judge`, `end_ms` of silence always ends the utterance."""
        self.cfg = cfg
        self._start_s = cfg.start_ms / 1000.0
        self._start_over_reply_s = cfg.start_over_reply_ms / 1000.0
        self._end_s = cfg.end_ms / 1000.0
        self.over_reply = False
        """The bot's reply plays: an utterance starts after `start_over_reply_ms`."""
        self.turn = turn if judge is not None else None
        self._judge = judge
        self.reset()

    def reset(self) -> None:
        """Back to silence at the start of a stream."""
        self._in_speech = False
        self._run_start: float | None = None  # first frame of the current speech run
        self._run_s = 0.0
        self._silence_s = 0.0
        self._onset = 0.0
        self._last_speech = 0.0
        self._last_end = 0.0
        if self.turn is not None:
            self.turn.reset()

    @property
    def in_speech(self) -> bool:
        return self._in_speech

    @property
    def onset(self) -> float:
        """Start of the current (or last) utterance."""
        return self._onset

    @property
    def last_end(self) -> float:
        """`at` of the last SpeechEnded (0.0 before any)."""
        return self._last_end

    def push(self, frame_start: float, frame_seconds: float, prob: float) -> list[VadEvent]:
        speech = prob >= self.cfg.threshold
        if self._in_speech:
            return self._push_in_speech(frame_start + frame_seconds, frame_seconds, speech)
        return self._push_idle(frame_start, frame_seconds, speech)

    def _push_idle(self, frame_start: float, frame_seconds: float, speech: bool) -> list[VadEvent]:
        if not speech:
            self._run_start, self._run_s = None, 0.0
            return []
        if self._run_start is None:
            self._run_start = frame_start
        self._run_s += frame_seconds
        if self._run_s + EPS < (self._start_over_reply_s if self.over_reply else self._start_s):
            return []
        onset = self._run_start
        self._begin(onset, frame_start + frame_seconds)
        return [SpeechStarted(at=onset, over_reply=self.over_reply)]

    def _push_in_speech(self, end: float, frame_seconds: float, speech: bool) -> list[VadEvent]:
        if speech:
            self._last_speech = end
            if self._silence_s > 0 and self.turn is not None:
                self.turn.reset()
            self._silence_s = 0.0
        else:
            self._silence_s += frame_seconds
            if self._pause_ends_turn(end):
                return [self._finish(end, forced=False)]
        if end - self._onset + EPS < self.cfg.max_utterance_s:
            return []
        events: list[VadEvent] = [self._finish(end, forced=True)]
        if speech:
            self._begin(end, end)
            events.append(SpeechStarted(at=end))
        return events

    def _pause_ends_turn(self, now: float) -> bool:
        if self.turn is None or self._judge is None:
            return self._silence_s + EPS >= self._end_s
        action = self.turn.on_silence(self._silence_s)
        if action == "ask":
            return self.turn.on_verdict(self._silence_s, self._judge(now))
        return action == "end"

    def _begin(self, onset: float, last_speech: float) -> None:
        self._in_speech = True
        self._onset = onset
        self._last_speech = last_speech
        self._silence_s = 0.0
        self._run_start, self._run_s = None, 0.0
        if self.turn is not None:
            self.turn.reset()

    def _finish(self, at: float, forced: bool) -> SpeechEnded:
        self._in_speech = False
        self._last_end = at
        self._run_start, self._run_s = None, 0.0
        return SpeechEnded(at=at, last_speech=self._last_speech, forced=forced)

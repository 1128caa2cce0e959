"""When does a pause end the turn? A pure policy in audio time: no clock, no audio, no model.

The endpointer counts the silence since the last speech frame and feeds it here frame by
frame. After `first_s` of silence (the short VAD pause, `endpoint.end_ms`) the detector is
asked for P(finished):

- P >= `threshold`: the turn ends now;
- otherwise the silence needed grows: the detector is asked again after `recheck_s` more
  (0: never), and after `max_silence_s` of silence the turn ends whatever it said (the hard
  timeout, so a wrong "not yet" costs at most that long).

The detector may also answer None, "cannot tell yet" (the transcript of the pause is still
being decoded): it is then asked again at the next frame. Speech resets the count
(`reset()`): a new pause starts the questions again. With the
`silence` detector (always P = 1) this is exactly the old fixed rule at `first_s`.
"""

from __future__ import annotations

from typing import Literal

EPS = 1e-6  # silence is a float sum of frame durations: 0.03 x 10 must reach 0.3

Action = Literal["wait", "ask", "end"]


class TurnPolicy:
    def __init__(self, first_s: float, max_silence_s: float, recheck_s: float,
                 threshold: float) -> None:
        if max_silence_s < first_s:
            raise ValueError("max_silence_s must be >= first_s")
        self.first_s = first_s
        self.max_silence_s = max_silence_s
        self.recheck_s = recheck_s
        self.threshold = threshold
        self.verdicts: list[tuple[float, float]] = []  # (silence, P) of the current pause
        self.reset()

    def reset(self) -> None:
        """Speech (re)started: the next pause is judged from the beginning."""
        self._next_ask = self.first_s
        self.verdicts = []

    @property
    def needed_s(self) -> float:
        """The silence that ends the turn as things stand (grows after a 'not yet')."""
        if self.verdicts and self.verdicts[-1][1] < self.threshold:
            return self.max_silence_s
        return self._next_ask

    def on_silence(self, silence_s: float) -> Action:
        """What to do now that the pause has lasted `silence_s`."""
        if silence_s + EPS >= self.max_silence_s:
            return "end"
        if silence_s + EPS >= self._next_ask:
            return "ask"
        return "wait"

    def on_verdict(self, silence_s: float, p_finished: float | None) -> bool:
        """Record the detector's answer to an 'ask'; True when the turn ends now."""
        if p_finished is None:
            return False  # undecided: asked again at the next frame
        self.verdicts.append((silence_s, p_finished))
        if p_finished >= self.threshold:
            return True
        self._next_ask = silence_s + self.recheck_s if self.recheck_s > 0 else float("inf")
        return False

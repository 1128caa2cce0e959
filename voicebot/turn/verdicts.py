"""The detector's answers to the endpointer's asks: one verdict per ask, computed inline or on
a thread of its own (the session's workers, workers.py; background.py), possibly started
before the ask comes.

A verdict belongs to one pause (the audio time of the last voiced frame before it) and answers
one ask: the policy asks again only after `recheck_ms`, and that ask gets a fresh verdict, on
the audio up to then. Speech that resumes starts a new pause, so a verdict still computing for
the old one is never used.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

import numpy as np

from voicebot.turn.base import TurnDetector

Submit = Callable[[Callable[[], float]], "Future[float]"]
"""Runs a verdict's computation: on a thread (its future done later) or inline (done)."""


@dataclass
class Verdict:
    pause: float  # the last voiced time of the pause it answers
    asked: float  # the audio time its audio ends at
    future: Future[float]
    used: bool = False


class Verdicts:
    def __init__(self, detector: TurnDetector, submit: Submit) -> None:
        self.detector = detector
        self.submit = submit
        self.latest: Verdict | None = None

    def start(self, pause: float, now: float, audio: Callable[[float], np.ndarray],
              text: str) -> Verdict:
        """The verdict for an ask in the pause after `pause`: the one already started for it,
        else a new one on `audio(now)` and `text`, started now."""
        verdict = self.latest
        if verdict is None or verdict.pause != pause or verdict.used:
            detector, heard = self.detector, audio(now)
            future = self.submit(lambda: detector.p_finished(heard, text))
            verdict = self.latest = Verdict(pause, now, future)
        return verdict

    def answer(self, pause: float, now: float, audio: Callable[[float], np.ndarray],
               text: str) -> float | None:
        """The detector's P for this ask; None while its thread is still computing it."""
        verdict = self.start(pause, now, audio, text)
        if not verdict.future.done():
            return None
        verdict.used = True
        return verdict.future.result()

    def pass_over(self) -> None:
        """Something else (the text rule) answered this ask: the verdict started for it, if
        any, is not used for the next one."""
        if self.latest is not None:
            self.latest.used = True

    def wait(self, timeout: float) -> None:
        """Block until the latest verdict is computed (tests)."""
        if self.latest is not None:
            self.latest.future.result(timeout=timeout)

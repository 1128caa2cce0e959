"""Whether a pause ends the user's turn: the listener's answer to the endpointer's ask.

The endpointer (vad/segmenter.py) asks after `endpoint.end_ms` of VAD silence, and again
every `recheck_ms` (the pure policy, policy.py, that `TurnJudge.policy` holds); `decide`
answers P(turn finished). The detector hears the utterance's last TURN_AUDIO_S of audio (its
verdicts, verdicts.py, computed inline or on a thread of its own); the text rule (text_rule.py)
overrules it on the transcript of the decode that heard the pause. Everything is in audio
time: the listener says when (`now`) and what was heard; no clock is read here.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Protocol

import numpy as np

from voicebot.asr.online import join_words
from voicebot.asr.streaming import SQUEEZED_WORD_S
from voicebot.audio.timeline import AudioTimeline
from voicebot.config import EndpointConfig, TurnConfig
from voicebot.events import Word
from voicebot.turn import build_policy
from voicebot.turn.base import TurnDetector
from voicebot.turn.smart_turn import WINDOW_S as TURN_AUDIO_S
from voicebot.turn.text_rule import ends_question, ends_unfinished
from voicebot.turn.verdicts import Verdicts


class VerdictWork(Protocol):
    """Where verdicts run (the session's workers, workers.py)."""

    threaded: bool
    """On a thread of their own, beside the pause decode; else inline (for tests)."""

    def verdict(self, call: Callable[[], float]) -> Future[float]: ...

    def others_idle(self) -> bool:
        """Whether other processes leave the cores free (see `pause_decode_starts`)."""
        ...


class TurnJudge:
    def __init__(self, detector: TurnDetector, endpoint: EndpointConfig, cfg: TurnConfig,
                 timeline: AudioTimeline, text_rule: bool, work: VerdictWork) -> None:
        """`timeline`: the listener's input audio, for the detector. `text_rule`: the text
        rule is on and a decode runs in each pause (the listener's `decode_in_pauses`)."""
        self.detector = detector
        self.policy = build_policy(endpoint, cfg)
        self.verdicts = Verdicts(detector, work.verdict)
        self.text_rule = text_rule
        self.threaded = work.threaded
        self._timeline = timeline
        self._endpoint = endpoint
        self._others_idle = work.others_idle

    def decide(self, now: float, pause: float, onset: float | None,
               heard: list[Word] | None) -> float | None:
        """P(turn finished) at audio time `now`, in the pause after the voiced frame that
        ended at `pause`, of the utterance whose speech began at `onset`: the detector on
        the utterance's last TURN_AUDIO_S of audio, overruled by the text rule when the
        decode that heard the pause (its words: `heard`, None until it ran) ends on a word
        like 'the' or 'and', or heard no word at all (or on a question mark: finished). With
        the text rule on, the answer waits (None) for that decode: the final transcript needs
        it anyway, so the wait costs no latency; meanwhile the detector already runs on the
        audio."""
        if self.text_rule:
            if heard is None:
                self._start(now, pause, onset)  # the audio model need not wait for the words
                return None
            text = join_words(_without_squeezed_end(heard))
            if not text or ends_unfinished(text):
                # (no word yet, "But" decoded as nothing, is no finished request either)
                return self._answered(0.0)
            if ends_question(text):
                return self._answered(1.0)
        text = "" if heard is None else join_words(heard)
        return self.verdicts.answer(pause, now, self._audio(onset), text)

    def pause_decode_starts(self, now: float, pause: float, onset: float) -> None:
        """The decode that hears the pause starts at `now`, after the sound of speech ended:
        set the detector going on the audio up to then, on its thread, while the decode runs.
        The policy's ask at `endpoint.end_ms` of VAD silence takes its answer: the loop is
        held by the decode until then, so a verdict started at the ask came after the decode,
        beside the reply's LLM and TTS (0.06-0.15 s a call there, ~0.04 s alone). Smart Turn
        heard the dev set's finished questions as finished as surely 0.10 s into the silence
        as at 0.30 s (P 0.90-0.99), and held more of the mid-sentence pauses (P >= 0.5 for 3
        of 15 against 6). In noise, where the level rule finds no end of the sound (the
        listener does not call this), it starts at the ask, after 200 ms of VAD silence
        (started with the decode there, one noisy question of 9 in `bench turns` waited
        1.75 s for the end of its turn). Nor while other processes keep a core busy: the
        decode then shares the other core with the detector, and `bench talk` beside one and
        two busy processes went from 1.15x and 1.66x the quiet median to 1.37x and 1.92x."""
        if self.threaded and self._others_idle():
            self._start(now, pause, onset)

    def _start(self, now: float, pause: float, onset: float | None) -> None:
        if self.threaded:
            self.verdicts.start(pause, now, self._audio(onset), "")

    def _answered(self, p_finished: float) -> float:
        """The text answered this ask: the detector's verdict for it, if one was started,
        is not used for the next."""
        self.verdicts.pass_over()
        return p_finished

    def _audio(self, onset: float | None) -> Callable[[float], np.ndarray]:
        """The detector's audio up to a time: the utterance's last TURN_AUDIO_S, from its
        pre-roll at most."""
        def audio(now: float) -> np.ndarray:
            if not self.detector.needs_audio or onset is None:
                return np.zeros(0, dtype=np.float32)
            begin = max(self._timeline.start, now - TURN_AUDIO_S,
                        onset - self._endpoint.preroll_ms / 1000.0)
            return self._timeline.slice(begin, now)
        return audio


def _without_squeezed_end(words: list[Word]) -> list[Word]:
    """The words for the text rule: without a last word Whisper squeezed into under
    SQUEEZED_WORD_S. At a pause inside a sentence Whisper often ends the transcript with a
    word that was not said, or a syllable of the next one, in a few hundredths of a second
    ("She had you?", "as the invention.", "in the year.", "would be st"), and that word hides
    the function word the sentence stops on. A real last word of a sentence is lengthened,
    not squeezed."""
    if words and words[-1].end - words[-1].start < SQUEEZED_WORD_S:
        return words[:-1]
    return words

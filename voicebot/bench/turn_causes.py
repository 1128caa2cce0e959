"""Why a `bench turns` input missed its target, from the input audio alone.

- A cut-in on the pause set either came in the inserted 1.0 s silence or earlier, in a pause
  of the speaker's own (a reader stops for 0.3-1 s at a comma or a full stop): those pauses
  sound and read finished, and holding them costs that silence on every finished question.
  `own_pause` finds the speaker's pause that a turn closed in, as the VAD heard it (the
  level rule below finds no pause at all where a crowd murmurs under jfk.wav).
- A noisy question that got no reply may simply be quieter than the noise: the bench mixes
  the noise at a fixed level (dBFS), whatever the recording's own level. `snr_db` is the
  question's active speech level over the noise.

The speech level uses the waveform-level rule of the outside measurement (audio/levels.py):
a 10 ms frame is speech when it is within 35 dB of the recording's loud frames.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np

from voicebot.audio.levels import frame_db, runs, speech_threshold

MIN_PAUSE_S = 0.1
"""Shorter gaps are a stop consonant or a breath within speech, not a pause: the endpointer
asks after 200 ms of VAD silence."""


def active_level_dbfs(audio: np.ndarray, rate: int) -> float | None:
    """The RMS level (dBFS) of the speech frames only, pauses left out: the level a listener
    hears while the person talks. None when no frame is speech."""
    levels = frame_db(audio, rate)
    if levels.size == 0:
        return None
    speech = levels[levels > speech_threshold(levels)]
    if speech.size == 0:
        return None
    power = np.mean(10.0 ** (speech / 10.0))
    return float(10.0 * np.log10(power))


def snr_db(audio: np.ndarray, rate: int, noise_dbfs: float) -> float | None:
    """The speech's active level over noise mixed at `noise_dbfs` (RMS, dBFS)."""
    level = active_level_dbfs(audio, rate)
    return None if level is None else level - noise_dbfs


def vad_speech(vad: Any, audio: np.ndarray, threshold: float) -> np.ndarray:
    """Per VAD frame of `audio`, whether the VAD calls it speech (from a reset state; the VAD
    is left reset)."""
    size = vad.frame_samples
    vad.reset()
    probs = [vad.speech_prob(audio[i:i + size]) for i in range(0, len(audio) - size + 1, size)]
    vad.reset()
    return np.asarray(probs, dtype=np.float64) >= threshold


def own_pause(speech: np.ndarray, frame_s: float, at: float,
              min_s: float = MIN_PAUSE_S) -> tuple[float, float] | None:
    """(start, end) in seconds of the pause (a run of at least `min_s` of frames that are not
    `speech`, between speech frames) that time `at` falls in, or that ended last before it:
    the pause a turn that closed at `at` was judged in (the endpointer fires a few hundred ms
    into the silence, possibly after the speaker resumed). None when no pause began before
    `at`, or when `at` is past the end of the speech (the silence after the last word is no
    pause)."""
    spoken = runs(np.flatnonzero(speech))
    if not spoken or at >= (spoken[-1][2] + 1) * frame_s:
        return None
    # each pause runs from the frame after one run of speech to the first of the next
    pauses = [(before[2] + 1, after[1]) for before, after in pairwise(spoken)]
    judged = [(a, b) for a, b in pauses if a * frame_s <= at and (b - a) * frame_s >= min_s]
    if not judged:
        return None
    start, end = judged[-1]
    return start * frame_s, end * frame_s

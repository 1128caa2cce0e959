"""Latency measured from outside: where the user's speech ends in a recording of the input, where
each spoken reply becomes audible in a time-aligned recording of the output, and the gap.

This is the referee for the logged `e2e_latency`: it knows nothing of the pipeline's marks,
only the two signals. Pure numpy, so a test can feed it synthetic tones and silences.

- `speech_ends`: frame energy (RMS, dB) relative to the loud frames, so a quiet and a loud
  talker are judged alike, and above the room's noise floor; frames above the threshold are
  speech, and gaps shorter than `min_gap_s` (pauses inside a sentence) do not split a
  segment. A segment ends at the end of its last run of 30 ms above its own threshold (a
  lone frame of room noise is no speech).
- `audible_onsets`: the first sample above an absolute level (default -45 dBFS) after at least
  `min_silence_s` of nothing above it. The bot's output is clean digital audio, so a sample
  level is exact to one sample and needs no relative scale.
- `pair_turns`: a reply onset belongs to the last speech end before it; later onsets after the
  same speech end (the next sentence of the same reply) are not new turns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from voicebot.audio.levels import (
    AUDIBLE_DBFS,
    FRAME_S,
    SPEECH_FLOOR_DBFS,
    SPEECH_RELATIVE_DB,
    frame_db,
    frame_size,
    room_noise,
    runs,
    speech_threshold,
    sustained,
)


@dataclass(frozen=True)
class Turn:
    """One measured turn: seconds from the recordings' common time 0."""

    speech_end: float
    onset: float

    @property
    def e2e(self) -> float:
        return self.onset - self.speech_end


def speech_ends(
    audio: np.ndarray,
    rate: int,
    *,
    min_gap_s: float = 0.6,
    relative_db: float = SPEECH_RELATIVE_DB,
    floor_dbfs: float = SPEECH_FLOOR_DBFS,
    min_speech_s: float = 0.08,
    frame_s: float = FRAME_S,
) -> list[float]:
    """Ends (seconds) of the speech segments in a recording of the user's input.

    Two passes, both with the shared rule of `voicebot.audio.levels.speech_threshold` (the
    listener marks the end of speech with it too). Segments: a frame is speech when it is
    above `floor_dbfs` and within `relative_db` of the loud level of the frames above the
    floor (so long silences in the file do not lower the bar), and clear of the room tone
    (the recording's noise floor, `levels.room_noise`); speech frames closer than
    `min_gap_s` join one segment; segments with less than `min_speech_s` of speech frames
    (clicks) are dropped. End: the rule applied to each segment on its own, as the listener
    applies it to each utterance, so a loud and a quiet talker in one file are judged alike.
    """
    levels = frame_db(_mono(audio), rate, frame_s)
    heard = levels[levels > floor_dbfs]
    if heard.size == 0:
        return []
    noise = room_noise(levels, float(np.percentile(heard, 95)))
    threshold = speech_threshold(heard, relative_db, floor_dbfs, noise)
    active = np.flatnonzero(levels > threshold)
    if active.size == 0:
        return []
    hop = frame_size(rate, frame_s) / rate
    segments = runs(active, max_gap=max(1, round(min_gap_s / hop)))
    min_frames = max(1, round(min_speech_s / hop))
    ends = []
    for count, first, last in segments:
        if count < min_frames:
            continue
        own = levels[first : last + 1]
        own_last = sustained(own > speech_threshold(own, relative_db, floor_dbfs, noise))[-1]
        ends.append(float((first + own_last + 1) * hop))
    return ends


FIXED_SPEECH_DBFS = -40.0
"""The plain referee's threshold: where speech peaks above -30 dBFS, frames above -40 dBFS
are a fair proxy for speech (no loud level, no noise floor). Reported beside the level rule
so a disagreement between the two is seen."""


def fixed_speech_ends(
    audio: np.ndarray,
    rate: int,
    *,
    level_dbfs: float = FIXED_SPEECH_DBFS,
    min_gap_s: float = 0.6,
    frame_s: float = FRAME_S,
) -> list[float]:
    """Ends (seconds) of the speech segments by a fixed level alone: runs of 30 ms or more
    of frames above `level_dbfs`, joined across gaps shorter than `min_gap_s`."""
    levels = frame_db(_mono(audio), rate, frame_s)
    active = sustained(levels > level_dbfs)
    if active.size == 0:
        return []
    hop = frame_size(rate, frame_s) / rate
    return [float((last + 1) * hop)
            for _, _, last in runs(active, max_gap=max(1, round(min_gap_s / hop)))]


def audible_onsets(
    audio: np.ndarray,
    rate: int,
    *,
    level_dbfs: float = AUDIBLE_DBFS,
    min_silence_s: float = 0.5,
) -> list[float]:
    """Starts (seconds) of the audible segments in a recording of the bot's output: the first
    sample whose magnitude exceeds `level_dbfs`, at the start of the file or after at least
    `min_silence_s` without such a sample."""
    samples = _mono(audio)
    loud = np.flatnonzero(np.abs(samples) > 10.0 ** (level_dbfs / 20.0))
    if loud.size == 0:
        return []
    min_gap = max(1, round(min_silence_s * rate))
    starts = [int(loud[0])] + [int(i) for i in loud[1:][np.diff(loud) > min_gap]]
    return [s / rate for s in starts]


def audible_ends(
    audio: np.ndarray,
    rate: int,
    *,
    level_dbfs: float = AUDIBLE_DBFS,
    min_silence_s: float = 0.5,
) -> list[float]:
    """Ends (seconds) of the audible segments, the counterpart of `audible_onsets`: just
    after the last sample above `level_dbfs` that is followed by at least `min_silence_s`
    without one (or by the end of the recording)."""
    samples = _mono(audio)
    loud = np.flatnonzero(np.abs(samples) > 10.0 ** (level_dbfs / 20.0))
    if loud.size == 0:
        return []
    min_gap = max(1, round(min_silence_s * rate))
    lasts = [int(i) for i in loud[:-1][np.diff(loud) > min_gap]] + [int(loud[-1])]
    return [(last + 1) / rate for last in lasts]


def pair_turns(ends: list[float], onsets: list[float]) -> list[tuple[float, float, float]]:
    """(speech end, reply onset, e2e) per turn: each onset is paired with the last speech end
    before it; an onset with no speech end before it, or after a speech end that already has
    a reply, is not a turn."""
    ordered_ends = sorted(ends)
    turns: list[tuple[float, float, float]] = []
    used: set[float] = set()
    for onset in sorted(onsets):
        before = [end for end in ordered_ends if end <= onset]
        if not before or before[-1] in used:
            continue
        end = before[-1]
        used.add(end)
        turns.append((end, onset, onset - end))
    return turns


def measure_turns(
    user_audio: np.ndarray,
    reply_audio: np.ndarray,
    rate: int,
    *,
    min_gap_s: float = 0.6,
    fixed_dbfs: float | None = None,
) -> list[Turn]:
    """Both recordings at `rate`, sharing time 0 -> the measured turns. The user's speech
    ends by the level rule, or by a plain fixed threshold when `fixed_dbfs` is given."""
    ends = (speech_ends(user_audio, rate, min_gap_s=min_gap_s) if fixed_dbfs is None else
            fixed_speech_ends(user_audio, rate, level_dbfs=fixed_dbfs, min_gap_s=min_gap_s))
    onsets = audible_onsets(reply_audio, rate)
    return [Turn(end, onset) for end, onset, _ in pair_turns(ends, onsets)]


def _mono(audio: np.ndarray) -> np.ndarray:
    data = np.asarray(audio, dtype=np.float32)
    return data.mean(axis=1) if data.ndim == 2 else data

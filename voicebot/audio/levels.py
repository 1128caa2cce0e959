"""Where sound is audible in a block of samples: the first sample a listener would hear.

The latency a person feels ends at the first audible reply sample, not at the first sample
handed to the device: a TTS voice starts with tens of milliseconds of near-silence. These
pure helpers find that sample, and trim the silence before it so it is not waited for.
"""

from __future__ import annotations

import numpy as np

AUDIBLE_DBFS = -45.0
"""A sample at or above this level (dBFS) counts as audible: well above dither and a TTS
voice's noise floor, below the onset of any spoken sound."""
KEEP_BEFORE_S = 0.005
"""Silence kept before the first audible sample when trimming, so the onset is not a click."""


def first_audible(samples: np.ndarray, level_dbfs: float = AUDIBLE_DBFS) -> int | None:
    """Index of the first sample whose magnitude reaches `level_dbfs`, or None if none does."""
    data = np.asarray(samples, dtype=np.float32).reshape(-1)
    if data.size == 0:
        return None
    loud = np.abs(np.nan_to_num(data)) >= 10.0 ** (level_dbfs / 20.0)
    index = int(np.argmax(loud))
    return index if loud[index] else None


def trim_leading_silence(
    samples: np.ndarray,
    sample_rate: int,
    level_dbfs: float = AUDIBLE_DBFS,
    keep_s: float = KEEP_BEFORE_S,
) -> np.ndarray:
    """`samples` without the silence before the first audible sample (less `keep_s`).
    A block with no audible sample is returned unchanged."""
    index = first_audible(samples, level_dbfs)
    if index is None:
        return samples
    return samples[max(index - round(keep_s * sample_rate), 0):]


def trim_trailing_silence(
    samples: np.ndarray,
    sample_rate: int,
    level_dbfs: float = AUDIBLE_DBFS,
    keep_s: float = KEEP_BEFORE_S,
) -> np.ndarray:
    """`samples` without the silence after the last audible sample (plus `keep_s`).
    A block with no audible sample is returned unchanged."""
    backwards = trim_leading_silence(samples[::-1], sample_rate, level_dbfs, keep_s)
    return samples[: len(backwards)]


FRAME_S = 0.010
SILENCE_DBFS = -100.0
SPEECH_RELATIVE_DB = -35.0
"""A 10 ms frame is speech when its level is within this of the loud frames' level (their
95th percentile): trailing breath and room tone sit further down."""
SPEECH_FLOOR_DBFS = -60.0
"""... and above this absolute level, so a silent stretch is never scaled up into speech."""
MIN_SPEECH_RUN = 3
"""... and only within a run of at least this many such frames (30 ms, shorter than any
phone): where a recording's noise floor lies near the threshold, single frames of it cross
it now and then, and the end of ls_1089-134691-0000.wav's speech was marked 0.29 s late."""


def frame_size(rate: int, frame_s: float = FRAME_S) -> int:
    """Samples in one analysis frame of `frame_s` seconds (at least one)."""
    return max(1, round(rate * frame_s))


def rms_dbfs(samples: np.ndarray) -> float:
    """The RMS level of a whole block in dBFS (SILENCE_DBFS for silence or no samples)."""
    data = np.nan_to_num(np.asarray(samples, dtype=np.float64).reshape(-1))
    rms = float(np.sqrt(np.mean(data * data))) if data.size else 0.0
    return 20.0 * float(np.log10(max(rms, 10.0 ** (SILENCE_DBFS / 20.0))))


def frame_db(audio: np.ndarray, rate: int, frame_s: float = FRAME_S) -> np.ndarray:
    """RMS level in dBFS of consecutive frames of `frame_s` (a last partial frame dropped)."""
    samples = np.nan_to_num(np.asarray(audio, dtype=np.float64).reshape(-1))
    size = frame_size(rate, frame_s)
    count = len(samples) // size
    if count == 0:
        return np.zeros(0, dtype=np.float64)
    frames = samples[: count * size].reshape(count, size)
    rms = np.sqrt(np.mean(frames * frames, axis=1))
    return np.asarray(20.0 * np.log10(np.maximum(rms, 10.0 ** (SILENCE_DBFS / 20.0))))


def speech_threshold(
    levels: np.ndarray,
    relative_db: float = SPEECH_RELATIVE_DB,
    floor_dbfs: float = SPEECH_FLOOR_DBFS,
) -> float:
    """The frame level (dBFS) above which a frame counts as speech, from the frames' own
    loud level (95th percentile): a quiet and a loud talker are judged alike."""
    return max(float(np.percentile(levels, 95)) + relative_db, floor_dbfs)


def runs(frames: np.ndarray, max_gap: int = 1) -> list[tuple[int, int, int]]:
    """Runs of sorted frame indices whose neighbours are at most `max_gap` apart, as (number
    of frames, first frame index, last frame index)."""
    if frames.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(frames) > max_gap)
    firsts = np.concatenate(([0], breaks + 1))
    lasts = np.concatenate((breaks, [frames.size - 1]))
    return [(int(b - a + 1), int(frames[a]), int(frames[b]))
            for a, b in zip(firsts, lasts, strict=True)]


def sustained(loud: np.ndarray, min_run: int = MIN_SPEECH_RUN) -> np.ndarray:
    """Indices of the true frames of `loud` (one bool per frame) that lie in a run of at
    least `min_run` true frames; all true frames when no run is that long."""
    frames = np.flatnonzero(loud)
    kept = [np.arange(first, last + 1) for count, first, last in runs(frames)
            if count >= min_run]
    return np.concatenate(kept) if kept else frames


def speech_offset(samples: np.ndarray, sample_rate: int, frame_s: float = FRAME_S) -> float | None:
    """Seconds from the start of `samples` to the end of the last speech frame: where the
    sound of speech ends, as an observer of the waveform marks it (the same rule as the
    outside measurement in voicebot/bench/audible.py). None when no frame is speech."""
    levels = frame_db(samples, sample_rate, frame_s)
    if levels.size == 0:
        return None
    speech = sustained(levels > speech_threshold(levels))
    if speech.size == 0:
        return None
    return float((speech[-1] + 1) * frame_size(sample_rate, frame_s) / sample_rate)

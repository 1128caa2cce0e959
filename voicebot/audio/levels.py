"""Where sound is audible in a block of samples: the first sample a listener would hear.

The latency a person feels ends at the first audible reply sample, not at the first sample
handed to the device: a TTS voice starts with tens of milliseconds of near-silence. These
pure helpers find that sample, and trim the silence before it so it is not waited for.
"""

from __future__ import annotations

import numpy as np

AUDIBLE_DBFS = -50.0
"""A sample at or above this level (peak, dBFS) counts as audible: well above dither and
a TTS voice's breath noise floor, below the onset of any spoken sound."""
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


SPEECH_FLOOR_DB = 35.0
"""Speech has ended where the level stays this far below the utterance's loudest 10 ms:
the trailing breath and room tone of a recording sit further down than that."""


def speech_offset(
    samples: np.ndarray, sample_rate: int, below_peak_db: float = SPEECH_FLOOR_DB,
    frame_s: float = 0.01,
) -> float | None:
    """Seconds from the start of `samples` to the end of the last `frame_s` frame whose peak
    is within `below_peak_db` of the loudest frame's: where the sound of speech ends, as an
    observer of the waveform would mark it (a VAD frame decision is coarser and runs on)."""
    data = np.abs(np.nan_to_num(np.asarray(samples, dtype=np.float32).reshape(-1)))
    size = max(1, round(frame_s * sample_rate))
    count = len(data) // size
    if count == 0:
        return None
    peaks = data[: count * size].reshape(count, size).max(axis=1)
    top = float(peaks.max())
    if top <= 0.0:
        return None
    loud = np.nonzero(peaks >= top * 10.0 ** (-below_peak_db / 20.0))[0]
    return float((loud[-1] + 1) * size / sample_rate)

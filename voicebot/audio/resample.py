"""Sample-rate conversion (soxr, high quality) for whole signals."""

from __future__ import annotations

import numpy as np


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Return `samples` (mono, or frames x channels) converted from `from_rate` to `to_rate`
    as float32. The output has about len * to_rate / from_rate samples; equal rates and
    empty input are returned without filtering."""
    if from_rate <= 0 or to_rate <= 0:
        raise ValueError(f"sample rates must be positive, got {from_rate} -> {to_rate}")
    data = np.asarray(samples, dtype=np.float32)
    if from_rate == to_rate or data.shape[0] == 0:
        return data
    import soxr

    out = soxr.resample(data, from_rate, to_rate, quality="HQ")
    return np.asarray(out, dtype=np.float32)

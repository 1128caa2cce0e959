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


DIGITAL_SILENCE_DBFS = -90.0
"""Frames below this are digital silence (zeros, dither), not a room: they say nothing about
the noise floor (recordings joined with zeros, a TTS voice's padding)."""
NOISE_WINDOW_FRAMES = 10
"""The noise floor is the quietest steady 100 ms stretch (its mean power)."""
NOISE_STEADY_DB = 3.0
"""... where steady means the frame levels' standard deviation in it is at most this: room
tone holds its level, while the quiet ends of words rise or fall through it. (Without this,
a short clip with no pause in it gave its quietest syllable as the floor.)"""
NOISE_PERCENTILE = 20.0
"""... and no more than NOISE_PERCENTILE_DB over this percentile of those frames: room tone
fills the pauses, so it is among the quietest fifth of what was heard. A steady vowel louder
than that is speech (a synthesized voice between digital silences has steady vowels and no
room at all)."""
NOISE_PERCENTILE_DB = 3.0
"""(The floor is a mean power, which lies above the typical frame level of fluctuating
noise: a room tone that filled most of a recording came out 0.3 dB over its 20th
percentile.)"""
ABOVE_NOISE_DB = 6.0
"""A frame counts as speech only this far above the noise floor: room tone fluctuates a few
dB around its mean, so frames of it at the floor itself would be taken for speech."""
MIN_SNR_DB = 20.0
"""A "floor" less than this under the loud level is taken as quiet speech, not room tone
(audio with no pause in it): it then sets no bar."""


def noise_floor(
    levels: np.ndarray,
    window: int = NOISE_WINDOW_FRAMES,
    steady_db: float = NOISE_STEADY_DB,
) -> float:
    """The room tone's level (dBFS) in a run of frame levels: the lowest mean power over
    `window` consecutive frames that are not digital silence and hold a steady level, if
    that lies among the quietest (NOISE_PERCENTILE) of those frames. SILENCE_DBFS when no
    such stretch exists (nothing to tell room tone from)."""
    real = np.asarray(levels, dtype=np.float64)
    real = real[real > DIGITAL_SILENCE_DBFS]
    if real.size < window:
        return SILENCE_DBFS
    stretches = np.lib.stride_tricks.sliding_window_view(real, window)
    steady = stretches[stretches.std(axis=1) <= steady_db]
    if steady.size == 0:
        return SILENCE_DBFS
    power = float((10.0 ** (steady / 10.0)).mean(axis=1).min())
    floor = float(10.0 * np.log10(power))
    quiet = float(np.percentile(real, NOISE_PERCENTILE)) + NOISE_PERCENTILE_DB
    return floor if floor <= quiet else SILENCE_DBFS


def room_noise(levels: np.ndarray, loud_dbfs: float | None = None) -> float:
    """The noise floor of `levels` if it can be room tone: at least MIN_SNR_DB under the loud
    level (`loud_dbfs`, else the 95th percentile of `levels`). SILENCE_DBFS otherwise, so
    audio with no pause in it (its quietest steady stretch is speech) sets no bar."""
    loud = float(np.percentile(levels, 95)) if loud_dbfs is None else loud_dbfs
    noise = noise_floor(levels)
    return noise if noise <= loud - MIN_SNR_DB else SILENCE_DBFS


def speech_threshold(
    levels: np.ndarray,
    relative_db: float = SPEECH_RELATIVE_DB,
    floor_dbfs: float = SPEECH_FLOOR_DBFS,
    noise_dbfs: float | None = None,
) -> float:
    """The frame level (dBFS) above which a frame counts as speech: within `relative_db` of
    the frames' own loud level (95th percentile), so a quiet and a loud talker are judged
    alike; above `floor_dbfs`; and ABOVE_NOISE_DB above the room's noise floor, so speech
    ends where its level falls into the room tone even when that tone is less than
    `relative_db` under the speech (a far microphone, a noisy room). `noise_dbfs` is the
    floor from `room_noise` over more audio than `levels` (the whole recording, the recent
    input); None takes it from `levels` alone."""
    noise = room_noise(levels) if noise_dbfs is None else noise_dbfs
    bar = max(float(np.percentile(levels, 95)) + relative_db, floor_dbfs)
    return max(bar, noise + ABOVE_NOISE_DB)


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


def speech_frames(samples: np.ndarray, sample_rate: int, frame_s: float = FRAME_S,
                  noise_dbfs: float | None = None) -> np.ndarray:
    """Indices of the `frame_s` frames of `samples` that are speech by the level rule
    (`speech_threshold`, held for a sustained run): where an observer of the waveform
    hears speech. `noise_dbfs`: the room's noise floor measured over more audio than
    `samples` (`room_noise`)."""
    levels = frame_db(samples, sample_rate, frame_s)
    if levels.size == 0:
        return np.zeros(0, dtype=np.int64)
    return sustained(levels > speech_threshold(levels, noise_dbfs=noise_dbfs))


def speech_onset(samples: np.ndarray, sample_rate: int, frame_s: float = FRAME_S) -> float | None:
    """Seconds from the start of `samples` to the start of the first speech frame: where an
    observer of the waveform hears the speech begin. Unlike the first audible sample, a
    click or a peak of room tone before the speech does not count. None when no frame is
    speech."""
    speech = speech_frames(samples, sample_rate, frame_s)
    if speech.size == 0:
        return None
    return float(speech[0] * frame_size(sample_rate, frame_s) / sample_rate)


def speech_offset(
    samples: np.ndarray,
    sample_rate: int,
    frame_s: float = FRAME_S,
    noise_dbfs: float | None = None,
) -> float | None:
    """Seconds from the start of `samples` to the end of the last speech frame: where the
    sound of speech ends, as an observer of the waveform marks it (the same rule as the
    outside measurement in voicebot/bench/audible.py). `noise_dbfs`: the room's noise floor
    measured over more audio than `samples` (`room_noise`). None when no frame is speech."""
    speech = speech_frames(samples, sample_rate, frame_s, noise_dbfs)
    if speech.size == 0:
        return None
    return float((speech[-1] + 1) * frame_size(sample_rate, frame_s) / sample_rate)

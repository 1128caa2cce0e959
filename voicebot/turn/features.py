"""Whisper-style log-mel features in numpy (no torch, no transformers).

Smart Turn v3 was trained on the features of Hugging Face's `WhisperFeatureExtractor` with an
8 s window: 16 kHz audio, 25 ms Hann windows every 10 ms (n_fft 400, hop 160, centred with
reflect padding), |STFT|^2 projected onto 80 Slaney-normalised mel filters (0-8 kHz), log10,
floored at (max - 8), then (x + 4) / 4. With `normalize=True` the waveform is first scaled to
zero mean and unit variance (the extractor's `do_normalize`). The last STFT frame is dropped,
so 8 s give exactly 800 frames.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

SAMPLE_RATE = 16000
N_FFT = 400
HOP = 160
N_MELS = 80
NORMALIZE_EPS = 1e-7
MEL_FLOOR = 1e-10


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney mel scale: linear below 1 kHz (3 mels per 200 Hz), logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    linear = 3.0 * hz / 200.0
    log_step = np.log(6.4) / 27.0
    above = 15.0 + np.log(np.maximum(hz, 1e-12) / 1000.0) / log_step
    return np.where(hz >= 1000.0, above, linear)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    log_step = np.log(6.4) / 27.0
    linear = 200.0 * mel / 3.0
    above = 1000.0 * np.exp(log_step * (mel - 15.0))
    return np.where(mel >= 15.0, above, linear)


@lru_cache(maxsize=4)
def mel_filters(n_mels: int = N_MELS, n_fft: int = N_FFT, rate: int = SAMPLE_RATE) -> np.ndarray:
    """Triangular filters, shape (n_mels, n_fft // 2 + 1), each with area normalised
    (Slaney): 2 / (upper edge - lower edge)."""
    bins = np.linspace(0.0, rate / 2.0, n_fft // 2 + 1)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(np.array(0.0)), _hz_to_mel(np.array(rate / 2.0)),
                                   n_mels + 2))
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins[None, :] - lower) / (centre - lower)
    falling = (upper - bins[None, :]) / (upper - centre)
    filters = np.maximum(0.0, np.minimum(rising, falling))
    return filters * (2.0 / (edges[2:] - edges[:-2]))[:, None]


@lru_cache(maxsize=2)
def _hann(n: int) -> np.ndarray:
    """Periodic Hann window (as torch.hann_window and the extractor use)."""
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)


def power_spectrogram(audio: np.ndarray) -> np.ndarray:
    """|STFT|^2 of centred, reflect-padded frames: shape (n_fft // 2 + 1, frames)."""
    pad = N_FFT // 2
    padded = np.pad(audio.astype(np.float64), (pad, pad), mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP]
    spectrum = np.fft.rfft(frames * _hann(N_FFT), axis=1)
    return (np.abs(spectrum) ** 2).T


def log_mel(audio: np.ndarray, *, normalize: bool = False) -> np.ndarray:
    """Whisper log-mel of `audio` (16 kHz mono): shape (80, len(audio) // 160), float32."""
    x = np.asarray(audio, dtype=np.float32).reshape(-1)
    if normalize:
        x = (x - x.mean()) / np.sqrt(x.var() + NORMALIZE_EPS)
    mel = mel_filters() @ power_spectrogram(x)
    log_spec = np.log10(np.maximum(mel, MEL_FLOOR))[:, :-1]
    log_spec = np.maximum(log_spec, log_spec.max() - 8.0)
    return ((log_spec + 4.0) / 4.0).astype(np.float32)


def last_seconds(audio: np.ndarray, seconds: float, rate: int = SAMPLE_RATE) -> np.ndarray:
    """The last `seconds` of `audio`, zero-padded at the front when shorter (the end of the
    turn stays at the end of the window, where the model looks for it)."""
    n = round(seconds * rate)
    x = np.asarray(audio, dtype=np.float32).reshape(-1)[-n:]
    if len(x) < n:
        x = np.concatenate([np.zeros(n - len(x), dtype=np.float32), x])
    return x

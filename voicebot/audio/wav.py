"""Reading and writing audio files: any rate/width/channel count in, float32 mono out.

Every failure to read becomes one `AudioInputError` line that names the file and the problem,
so `voicebot talk --input bad.wav` says what is wrong instead of printing a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voicebot.audio.resample import resample
from voicebot.errors import AudioInputError


@dataclass(frozen=True)
class AudioInfo:
    """What the header of an audio file says."""

    sample_rate: int
    channels: int
    frames: int
    format: str
    subtype: str

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate if self.sample_rate else 0.0


def _check_path(path: Path) -> None:
    if not path.exists():
        raise AudioInputError(f"{path}: no such file")
    if path.is_dir():
        raise AudioInputError(f"{path}: is a directory, not an audio file")
    if path.stat().st_size == 0:
        raise AudioInputError(f"{path}: empty file (0 bytes)")


def _not_audio(path: Path, exc: Exception) -> AudioInputError:
    detail = getattr(exc, "error_string", "") or str(exc) or type(exc).__name__
    detail = " ".join(detail.split()).rstrip(".")
    return AudioInputError(f"{path}: not a WAV/audio file or corrupt ({detail})")


def audio_info(path: str | Path) -> AudioInfo:
    """Header facts of an audio file; raises AudioInputError like `read_wav`."""
    import soundfile as sf

    p = Path(path)
    _check_path(p)
    try:
        info = sf.info(str(p))
    except (sf.SoundFileError, RuntimeError, ValueError) as exc:
        raise _not_audio(p, exc) from None
    return AudioInfo(
        sample_rate=int(info.samplerate),
        channels=int(info.channels),
        frames=int(info.frames),
        format=str(info.format),
        subtype=str(info.subtype),
    )


def read_wav(path: str | Path, target_rate: int = 16000) -> np.ndarray:
    """Read an audio file as float32 mono in [-1, 1] at `target_rate`.

    Accepts what libsndfile reads (WAV 8-bit unsigned, 16/24/32-bit int, 32/64-bit float;
    FLAC, OGG, ...); channels are averaged; the rate is converted with soxr.
    """
    import soundfile as sf

    p = Path(path)
    _check_path(p)
    try:
        data, rate = sf.read(str(p), dtype="float32", always_2d=True)
    except (sf.SoundFileError, RuntimeError, ValueError) as exc:
        raise _not_audio(p, exc) from None
    if data.shape[0] == 0 or data.shape[1] == 0:
        raise AudioInputError(f"{p}: contains no audio samples (header only)")
    mono = data.mean(axis=1, dtype=np.float32) if data.shape[1] > 1 else data[:, 0]
    mono = np.nan_to_num(mono, nan=0.0, posinf=1.0, neginf=-1.0)
    out = resample(mono, int(rate), target_rate)
    return np.clip(out, -1.0, 1.0).astype(np.float32, copy=False)


def write_wav(path: str | Path, samples: np.ndarray, sample_rate: int) -> None:
    """Write float samples (mono, or frames x channels) as 16-bit PCM, clipped to [-1, 1]."""
    import soundfile as sf

    data = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0)
    p = Path(path)
    if p.parent != Path():
        p.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(p), data, int(sample_rate), subtype="PCM_16")

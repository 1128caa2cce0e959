"""Reading and writing audio files: any rate/width/channel count in, float32 mono out.

Every failure to read becomes one `AudioInputError` line that names the file and the problem,
so `voicebot talk --input bad.wav` says what is wrong instead of printing a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from voicebot.audio.resample import resample
from voicebot.errors import AudioInputError
from voicebot.outputs import WAV_HEADER_BYTES, open_early, writing


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


MIN_TRUNCATED_S = 0.1  # a cut file with less than this left is an error, not a warning


def riff_shortfall(path: Path) -> tuple[float, float] | None:
    """(seconds the header declares, seconds present) for a PCM/float RIFF WAV whose `data`
    chunk claims more bytes than the file holds; None for a whole file or another format.
    libsndfile silently reads what is there, so a cut download would pass unnoticed."""
    import struct

    with path.open("rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        byte_rate = 0
        while True:
            chunk = f.read(8)
            if len(chunk) < 8:
                return None
            name, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if name == b"fmt " and size >= 16:
                fmt = f.read(size + (size & 1))
                byte_rate = struct.unpack("<I", fmt[8:12])[0]
                continue
            if name == b"data":
                present = path.stat().st_size - f.tell()
                if size in (0, 0xFFFFFFFF) or present >= size or byte_rate <= 0:
                    return None  # whole, or written by a streaming tool that left 0/-1
                return size / byte_rate, max(present, 0) / byte_rate
            f.seek(size + (size & 1), 1)


def _check_truncation(path: Path) -> None:
    """One warning line for a cut WAV that still holds audio; an error when almost none."""
    try:
        shortfall = riff_shortfall(path)
    except (OSError, ValueError):
        return
    if shortfall is None:
        return
    declared, present = shortfall
    message = (f"{path}: truncated WAV: the header says {declared:.2f} s of audio, "
               f"only {present:.2f} s are present")
    if present < MIN_TRUNCATED_S:
        raise AudioInputError(message)
    from voicebot.progress import say

    say(f"voicebot: warning: {message}; using what is there")


def read_wav(path: str | Path, target_rate: int = 16000) -> np.ndarray:
    """Read an audio file as float32 mono in [-1, 1] at `target_rate`.

    Accepts what libsndfile reads (WAV 8-bit unsigned, 16/24/32-bit int, 32/64-bit float;
    FLAC, OGG, ...); channels are averaged; the rate is converted with soxr.
    """
    import soundfile as sf

    p = Path(path)
    _check_path(p)
    _check_truncation(p)
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
    """Write float samples (mono, or frames x channels) as 16-bit PCM, clipped to [-1, 1].
    A failure (bad path, disk full) is one OutputError line."""
    import soundfile as sf

    data = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0)
    p = Path(path)
    with writing(p, "the WAV"):
        if p.parent != Path():
            p.parent.mkdir(parents=True, exist_ok=True)
        with sf.SoundFile(str(p), "w", int(sample_rate), _channels(data), "PCM_16",
                          format="WAV") as f:
            f.write(data)


class WavWriter:
    """A 16-bit mono WAV written a piece at a time (clipped to [-1, 1]), so a long session's
    audio need not be held in memory; the file is complete once `close()` has run. A
    failure is one OutputError line."""

    def __init__(self, path: Path, sample_rate: int) -> None:
        self.path = path
        self.sample_rate = sample_rate
        self._file: Any = None

    def write(self, samples: np.ndarray) -> None:
        if not len(samples):
            return
        import soundfile as sf

        with writing(self.path, "the WAV"):
            if self._file is None:
                self._file = sf.SoundFile(str(self.path), "w", int(self.sample_rate), 1,
                                          "PCM_16", format="WAV")
            self._file.write(np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0))

    def close(self) -> None:
        if self._file is not None:
            with writing(self.path, "the WAV"):
                self._file.close()
            self._file = None


def open_wav_early(path: Path, what: str, sample_rate: int) -> Path:
    """`outputs.open_early` for a WAV: the file is left as a valid empty WAV."""
    open_early(path, what, placeholder=bytes(WAV_HEADER_BYTES))
    write_wav(path, np.zeros(0, dtype=np.float32), sample_rate)
    return path


def _channels(data: np.ndarray) -> int:
    return 1 if data.ndim == 1 else int(data.shape[1])

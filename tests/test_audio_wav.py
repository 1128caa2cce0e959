"""read_wav / write_wav / audio_info on files made here, and resampling."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from voicebot.audio.resample import resample
from voicebot.audio.wav import audio_info, read_wav, write_wav
from voicebot.errors import AudioInputError


def tone(rate: int, seconds: float, freq: float = 440.0, amp: float = 0.5) -> np.ndarray:
    t = np.arange(round(rate * seconds)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_stereo_44k_becomes_mono_16k(tmp_path: Path) -> None:
    left = tone(44100, 1.0, amp=0.6)
    right = np.zeros_like(left)
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([left, right], axis=1), 44100, subtype="PCM_16")
    out = read_wav(path)
    assert out.dtype == np.float32 and out.ndim == 1
    assert len(out) == 16000
    # mean of the channels: half the amplitude of the left one
    assert np.abs(out[1000:-1000]).max() == pytest.approx(0.3, abs=0.01)


@pytest.mark.parametrize("subtype", ["PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"])
def test_sample_formats_read_to_the_same_signal(tmp_path: Path, subtype: str) -> None:
    signal = tone(16000, 0.5, amp=0.5)
    path = tmp_path / f"{subtype}.wav"
    sf.write(path, signal, 16000, subtype=subtype)
    out = read_wav(path)
    tolerance = 0.01 if subtype == "PCM_U8" else 1e-4
    assert len(out) == len(signal)
    assert np.abs(out - signal).max() < tolerance
    assert audio_info(path).subtype == subtype


def test_8bit_unsigned_silence_is_zero_not_half_scale(tmp_path: Path) -> None:
    path = tmp_path / "u8.wav"
    sf.write(path, np.zeros(800, dtype=np.float32), 8000, subtype="PCM_U8")
    assert np.abs(read_wav(path)).max() == 0.0


def test_float_wav_out_of_range_is_clipped(tmp_path: Path) -> None:
    path = tmp_path / "loud.wav"
    sf.write(path, np.full(1600, 2.5, dtype=np.float32), 16000, subtype="FLOAT")
    assert read_wav(path).max() == 1.0


def expect_error(path: Path, *words: str) -> str:
    with pytest.raises(AudioInputError) as info:
        read_wav(path)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    for word in words:
        assert word in message
    return message


def test_missing_file(tmp_path: Path) -> None:
    expect_error(tmp_path / "nope.wav", "no such file")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    expect_error(path, "empty file (0 bytes)")


def test_header_only_wav(tmp_path: Path) -> None:
    path = tmp_path / "header.wav"
    sf.write(path, np.zeros(0, dtype=np.float32), 16000, subtype="PCM_16")
    assert path.stat().st_size == 44
    expect_error(path, "contains no audio samples")


def test_hand_written_header_claiming_data_that_is_absent(tmp_path: Path) -> None:
    fmt = struct.pack("<HHIIHH", 1, 1, 16000, 32000, 2, 16)
    header = b"RIFF" + struct.pack("<I", 36) + b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt
    path = tmp_path / "truncated.wav"
    path.write_bytes(header + b"data" + struct.pack("<I", 0))
    expect_error(path, "contains no audio samples")


def test_random_bytes(tmp_path: Path) -> None:
    path = tmp_path / "noise.wav"
    path.write_bytes(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    expect_error(path, "not a WAV/audio file")


def test_text_renamed_wav(tmp_path: Path) -> None:
    path = tmp_path / "notes.wav"
    path.write_text("hello, this is not audio\n" * 20)
    expect_error(path, "not a WAV/audio file")


def test_directory(tmp_path: Path) -> None:
    expect_error(tmp_path, "is a directory")


def test_audio_info_errors_like_read_wav(tmp_path: Path) -> None:
    path = tmp_path / "x.wav"
    path.write_text("nope")
    with pytest.raises(AudioInputError, match="not a WAV/audio file"):
        audio_info(path)


def test_write_wav_round_trip_16bit_clipped(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "out.wav"
    samples = np.array([0.0, 0.5, -0.5, 1.5, -1.5], dtype=np.float32)
    write_wav(path, samples, 22050)
    info = audio_info(path)
    assert (info.sample_rate, info.channels, info.frames, info.subtype) == (22050, 1, 5, "PCM_16")
    back = read_wav(path, 22050)
    np.testing.assert_allclose(back, [0.0, 0.5, -0.5, 1.0, -1.0], atol=1e-4)


@pytest.mark.parametrize(("src", "dst"), [(44100, 16000), (16000, 22050), (22050, 16000),
                                          (8000, 16000), (48000, 16000)])
def test_resample_length_and_tone(src: int, dst: int) -> None:
    out = resample(tone(src, 1.0, freq=300.0), src, dst)
    assert out.dtype == np.float32
    assert abs(len(out) - dst) <= 1
    expected = tone(dst, 1.0, freq=300.0)[: len(out)]
    assert np.abs(out[200:-200] - expected[200:-200]).max() < 0.01


def test_resample_same_rate_and_empty() -> None:
    x = tone(16000, 0.1)
    assert resample(x, 16000, 16000) is x
    assert len(resample(np.zeros(0, dtype=np.float32), 16000, 22050)) == 0
    with pytest.raises(ValueError):
        resample(x, 0, 16000)

"""Bad input: configs, audio in odd formats, NaN, silence, noise, cut WAV files."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.reliability.conftest import (
    DEFAULT_CONFIG,
    QUESTIONS,
    RATE,
    assert_one_line_error,
    run_voicebot,
    speak,
)
from voicebot.audio.wav import read_wav
from voicebot.errors import AudioInputError


@pytest.fixture(scope="module")
def question() -> np.ndarray:
    return speak(QUESTIONS[0])


@pytest.mark.parametrize(("text", "fragments"), [
    ("", ("the file is empty",)),
    ("# only a comment\n", ("the file is empty",)),
    ("asr: [unclosed\n", ("not valid YAML",)),
    ("EXTENDS\nasr:\n  modle: tiny.en\n", ("asr.modle", "did you mean 'model'")),
    ("EXTENDS\nvad:\n  backend: nope\n", ("vad.backend", "'nope'")),
    ("EXTENDS\nendpoint:\n  end_ms: -5\n", ("endpoint.end_ms",)),
    ("EXTENDS\nllm:\n  backend: openai\n  base_url: ftp://x\n", ("base_url",)),
    ("- a list\n", ()),
])
def test_bad_config_is_one_line_exit_2(tmp_path: Path, text: str, fragments: tuple) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(text.replace("EXTENDS", f"extends: {DEFAULT_CONFIG}"))
    result = run_voicebot(["say", "hi", "--config", str(config), "-o", "x.wav"], tmp_path)
    assert_one_line_error(result, 2, str(config), *fragments)


@pytest.mark.parametrize(("subtype", "rate", "channels", "fmt"), [
    ("PCM_U8", 8000, 1, "WAV"),
    ("PCM_24", 44100, 2, "WAV"),
    ("PCM_32", 48000, 1, "WAV"),
    ("FLOAT", 22050, 1, "WAV"),
    ("DOUBLE", 16000, 2, "WAV"),
    ("PCM_16", 32000, 1, "FLAC"),
])
def test_odd_formats_read_as_the_same_speech(
    tmp_path: Path, question: np.ndarray, subtype: str, rate: int, channels: int, fmt: str
) -> None:
    from voicebot.audio.resample import resample

    audio = resample(question, RATE, rate)
    data = np.stack([audio] * channels, axis=1) if channels > 1 else audio
    path = tmp_path / f"q.{fmt.lower()}"
    sf.write(path, data, rate, subtype=subtype, format=fmt)
    got = read_wav(path, RATE)
    assert abs(len(got) - len(question)) <= RATE // 100
    n = min(len(got), len(question))
    tolerance = 0.3 if rate == 8000 else 0.1  # 8 kHz loses the top half of the band
    assert np.corrcoef(got[:n], question[:n])[0, 1] > 1 - tolerance


def test_stereo_8bit_8khz_question_is_transcribed(tmp_path: Path, question: np.ndarray) -> None:
    from voicebot.audio.resample import resample

    path = tmp_path / "q.wav"
    low = resample(question, RATE, 8000)
    sf.write(path, np.stack([low, low], axis=1), 8000, subtype="PCM_U8")
    result = run_voicebot(["transcribe", str(path)], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "capital" in result.stdout.lower()


def test_nan_silence_white_and_brown_noise_give_no_words(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    white = rng.normal(0, 0.1, 3 * RATE)
    brown = np.cumsum(rng.normal(0, 1, 3 * RATE))
    brown = 0.3 * (brown - brown.mean()) / np.abs(brown - brown.mean()).max()
    nan = np.full(RATE, np.nan)
    silence = np.zeros(3 * RATE)
    path = tmp_path / "noise.wav"
    sf.write(path, np.concatenate([silence, white, brown, nan, silence]).astype(np.float32),
             RATE, subtype="FLOAT")
    result = run_voicebot(["transcribe", str(path)], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stdout.split()) <= 3, result.stdout  # no hallucinated speech


def cut_wav(source: Path, dest: Path, keep_bytes: int) -> Path:
    dest.write_bytes(source.read_bytes()[:keep_bytes])
    return dest


@pytest.fixture
def whole_wav(tmp_path: Path, question: np.ndarray) -> Path:
    path = tmp_path / "whole.wav"
    sf.write(path, question, RATE, subtype="PCM_16")
    return path


def test_a_wav_cut_to_half_warns_in_one_line(
    tmp_path: Path, whole_wav: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    size = whole_wav.stat().st_size
    cut = cut_wav(whole_wav, tmp_path / "half.wav", 44 + (size - 44) // 2)
    audio = read_wav(cut, RATE)
    declared = sf.info(whole_wav).duration
    assert abs(len(audio) / RATE - declared / 2) < 0.01
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"voicebot: warning: {cut}: truncated WAV: the header says "
                               f"{declared:.2f} s of audio, only")


def test_the_first_100_bytes_of_a_wav_are_a_clear_error(tmp_path: Path, whole_wav: Path) -> None:
    cut = cut_wav(whole_wav, tmp_path / "head.wav", 100)
    with pytest.raises(AudioInputError, match="truncated WAV: the header says"):
        read_wav(cut, RATE)
    result = run_voicebot(["transcribe", str(cut)], tmp_path)
    assert_one_line_error(result, 1, "truncated WAV", "only 0.00 s are present")


def test_a_streamed_wav_with_an_unknown_length_is_not_called_truncated(
    tmp_path: Path, whole_wav: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = bytearray(whole_wav.read_bytes())
    data[40:44] = struct.pack("<I", 0xFFFFFFFF)  # how some recorders leave a live file
    path = tmp_path / "streamed.wav"
    path.write_bytes(bytes(data))
    read_wav(path, RATE)
    assert "truncated" not in capsys.readouterr().err


def test_default_config_is_still_valid() -> None:
    from voicebot.config import load_config

    assert load_config(DEFAULT_CONFIG).llm.backend == "llama.cpp"

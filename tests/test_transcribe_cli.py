"""`voicebot transcribe` through voicebot.cli.main: JSON output, any WAV, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from voicebot.cli import main

RATE = 16000


def transcribe_json(path: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    code = main(["transcribe", str(path), "--json"])
    out = capsys.readouterr().out
    assert code == 0
    return json.loads(out)


def failing(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code != 0
    assert err.startswith("voicebot: error:") and "\n" not in err and "Traceback" not in err
    return err


def test_needs_a_file_or_mic(capsys: pytest.CaptureFixture[str]) -> None:
    failing(["transcribe"], capsys)


def test_empty_and_corrupt_files_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    assert "empty" in failing(["transcribe", str(empty)], capsys)
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(40)))
    assert "corrupt.wav" in failing(["transcribe", str(corrupt)], capsys)
    assert "no such file" in failing(["transcribe", str(tmp_path / "missing.wav")], capsys)


def test_help_documents_the_simulated_clock(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["transcribe", "--help"])
    assert "computation-aware" in capsys.readouterr().out


@pytest.mark.slow
def test_jfk_json(speech_dir: Path, speech_manifest: dict[str, str],
                  capsys: pytest.CaptureFixture[str]) -> None:
    from voicebot.bench.asr import normalized_wer

    out = transcribe_json(speech_dir / "jfk.wav", capsys)
    assert {"text", "words", "duration", "utterances", "rtf", "model"} <= set(out)
    assert normalized_wer(speech_manifest["jfk.wav"], out["text"]) <= 0.2
    words = out["words"]
    assert words and all(set(w) == {"text", "start", "end", "emitted"} for w in words)
    assert all(w["emitted"] >= w["end"] - 0.05 for w in words)  # no word before its audio
    assert " ".join(w["text"] for w in words) == out["text"]
    assert 10.9 <= out["duration"] <= 11.2


@pytest.mark.slow
def test_stereo_44k_and_8bit_wavs_work(
    speech_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import soundfile as sf

    from voicebot.audio.resample import resample
    from voicebot.audio.wav import read_wav

    audio = read_wav(speech_dir / "jfk.wav")[: 5 * RATE]
    stereo = tmp_path / "stereo.wav"
    hi = resample(audio, RATE, 44100)
    sf.write(stereo, np.stack([hi, hi], axis=1), 44100, subtype="PCM_16")
    eight = tmp_path / "u8.wav"
    sf.write(eight, audio, RATE, subtype="PCM_U8")
    for path in (stereo, eight):
        text = transcribe_json(path, capsys)["text"].lower()
        assert "fellow" in text and "americ" in text, f"{path.name}: {text!r}"


@pytest.mark.slow
def test_silence_and_noise_give_no_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import soundfile as sf

    silence = tmp_path / "silence.wav"
    sf.write(silence, np.zeros(120 * RATE, dtype=np.float32), RATE, subtype="PCM_16")
    out = transcribe_json(silence, capsys)
    assert out["text"] == "" and out["words"] == [] and out["utterances"] == []
    noise = tmp_path / "noise.wav"
    rng = np.random.default_rng(3)
    sf.write(noise, rng.standard_normal(20 * RATE) * 0.1, RATE, subtype="PCM_16")
    out = transcribe_json(noise, capsys)
    assert out["text"] == "", f"hallucinated on white noise: {out['text']!r}"

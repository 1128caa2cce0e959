"""The outside referee for e2e latency, on synthetic signals with known answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from voicebot.bench.audible import (
    audible_ends,
    audible_onsets,
    frame_db,
    measure_turns,
    pair_turns,
    speech_ends,
)

RATE = 16000


def tone(seconds: float, amplitude: float, rate: int = RATE, hz: float = 220.0) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def silence(seconds: float, rate: int = RATE, noise: float = 0.0) -> np.ndarray:
    rng = np.random.default_rng(0)
    n = round(seconds * rate)
    return (noise * rng.standard_normal(n)).astype(np.float32)


def test_frame_db_of_a_full_scale_sine_is_minus_3_dbfs() -> None:
    levels = frame_db(tone(0.5, 1.0, hz=500.0), RATE)
    assert levels.shape == (50,)
    assert np.allclose(levels, -3.01, atol=0.05)


def test_speech_ends_at_the_last_loud_frame_and_ignores_short_pauses() -> None:
    # "sentence" with a 0.3 s pause inside, 1.5 s silence, a second quieter sentence.
    audio = np.concatenate([
        silence(0.5), tone(0.8, 0.3), silence(0.3), tone(0.6, 0.3),  # ends at 2.2 s
        silence(1.5), tone(0.7, 0.1), silence(1.0),                   # ends at 4.4 s
    ])
    ends = speech_ends(audio, RATE)
    assert ends == pytest.approx([2.2, 4.4], abs=0.011)


def test_a_pause_longer_than_min_gap_splits_the_segment() -> None:
    audio = np.concatenate([tone(0.5, 0.3), silence(0.8), tone(0.5, 0.3), silence(0.5)])
    assert speech_ends(audio, RATE, min_gap_s=0.6) == pytest.approx([0.5, 1.8], abs=0.011)
    assert speech_ends(audio, RATE, min_gap_s=1.0) == pytest.approx([1.8], abs=0.011)


def test_speech_ends_is_relative_to_the_recording_and_ignores_background_noise() -> None:
    quiet_talker = np.concatenate([
        silence(0.4, noise=0.0005), tone(1.0, 0.02) + silence(1.0, noise=0.0005),
        silence(1.0, noise=0.0005),
    ])
    assert speech_ends(quiet_talker, RATE) == pytest.approx([1.4], abs=0.011)


def test_clicks_are_not_speech_and_silence_has_no_ends() -> None:
    click = np.concatenate([silence(1.0), tone(0.02, 0.5), silence(1.0), tone(1.0, 0.5)])
    assert speech_ends(click, RATE) == pytest.approx([3.02], abs=0.011)
    assert speech_ends(silence(2.0), RATE) == []
    assert speech_ends(np.zeros(0, dtype=np.float32), RATE) == []


def test_audible_onsets_are_exact_to_the_sample() -> None:
    reply = np.concatenate([
        silence(1.234), tone(0.5, 0.2, hz=0.0) + 0.2,   # DC step: loud from its first sample
        silence(0.2), tone(0.4, 0.2),                     # next sentence, same reply
        silence(2.0), tone(0.3, 0.2, hz=0.0) + 0.2,
    ])
    onsets = audible_onsets(reply, RATE, min_silence_s=0.5)
    assert onsets == pytest.approx([1.234, 1.234 + 0.5 + 0.2 + 0.4 + 2.0], abs=1.5 / RATE)


def test_audible_onsets_ignore_sound_below_the_level() -> None:
    hum = tone(3.0, 10 ** (-50 / 20))  # -50 dBFS hum: not audible at the -45 dBFS default
    reply = hum.copy()
    reply[RATE:] += tone(2.0, 0.1, hz=0.0) + 0.1
    assert audible_onsets(reply, RATE) == pytest.approx([1.0], abs=1.5 / RATE)
    assert audible_onsets(hum, RATE) == []
    assert audible_onsets(hum, RATE, level_dbfs=-60.0) == pytest.approx([0.0], abs=0.01)


def test_audible_onsets_accept_stereo() -> None:
    mono = np.concatenate([silence(0.5), tone(0.5, 0.2, hz=0.0) + 0.2])
    stereo = np.stack([mono, mono], axis=1)
    assert audible_onsets(stereo, RATE) == pytest.approx([0.5], abs=1.5 / RATE)


def test_pair_turns_takes_the_last_end_before_each_first_onset() -> None:
    ends = [1.0, 2.0, 6.0, 9.0]
    onsets = [0.5, 2.8, 3.5, 7.1]  # 0.5: before any speech; 3.5: second sentence of a reply
    assert pair_turns(ends, onsets) == [
        (2.0, 2.8, pytest.approx(0.8)),
        (6.0, 7.1, pytest.approx(1.1)),
    ]
    assert pair_turns([], [1.0]) == []
    assert pair_turns([1.0], []) == []


def test_measure_turns_end_to_end_on_a_synthetic_conversation() -> None:
    user = np.concatenate([
        silence(0.5), tone(1.0, 0.3), silence(4.0), tone(0.8, 0.3), silence(4.0),
    ])  # ends at 1.5 s and 6.3 s
    reply = np.zeros_like(user)
    for onset in (2.25, 7.0):
        start = round(onset * RATE)
        reply[start:start + RATE] = tone(1.0, 0.3, hz=330.0) + 0.01
    turns = measure_turns(user, reply, RATE)
    assert [t.speech_end for t in turns] == pytest.approx([1.5, 6.3], abs=0.011)
    assert [t.onset for t in turns] == pytest.approx([2.25, 7.0], abs=1.5 / RATE)
    assert [t.e2e for t in turns] == pytest.approx([0.75, 0.7], abs=0.012)


@pytest.fixture
def cli() -> Any:
    """scripts/measure_e2e.py, loaded as a module (scripts/ is not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "measure_e2e", Path(__file__).resolve().parent.parent / "scripts" / "measure_e2e.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_measure_e2e_cli_compares_with_the_log(
    cli: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from voicebot.audio.wav import write_wav

    user = np.concatenate([silence(0.5), tone(1.0, 0.3), silence(3.0)])  # speech ends at 1.5 s
    reply = np.zeros(round(4.5 * 48000), dtype=np.float32)  # other rate, stereo, same time 0
    reply[round(2.3 * 48000):round(3.3 * 48000)] = 0.2
    write_wav(tmp_path / "in.wav", user, RATE)
    write_wav(tmp_path / "out.wav", np.stack([reply, reply], axis=1), 48000)
    log = tmp_path / "s.jsonl"
    log.write_text(json.dumps({"index": 1, "status": "ok", "figures": {"e2e_latency": 0.81}})
                   + "\n")
    assert cli.main([str(tmp_path / "in.wav"), str(tmp_path / "out.wav"), "--log", str(log)]) == 0
    row = capsys.readouterr().out.splitlines()[1].split()
    assert row[:4] == ["1", "1.500s", "2.300s", "800"]
    assert row[-2:] == ["+10", "ms"]


def test_audible_ends_are_where_each_segment_falls_silent() -> None:
    reply = np.concatenate([
        silence(1.0), np.full(RATE // 2, 0.2, dtype=np.float32),  # 1.0 .. 1.5 s
        silence(0.2), np.full(RATE // 4, 0.2, dtype=np.float32),  # same segment, to 1.95 s
        silence(2.0), np.full(RATE // 2, 0.2, dtype=np.float32),  # 3.95 .. 4.45 s, file end
    ])
    assert audible_ends(reply, RATE) == pytest.approx([1.95, 4.45], abs=1.5 / RATE)
    assert audible_ends(silence(1.0), RATE) == []


def test_each_segment_ends_relative_to_its_own_loudness_and_long_silence_does_not_matter() -> None:
    # A loud sentence with a faint -50 dBFS tail (breath: not speech), then a quiet one; the
    # file is mostly silence, which must not lower the bar until the breath counts.
    breath = tone(0.1, 10 ** (-50 / 20) * np.sqrt(2), hz=3000.0)
    audio = np.concatenate([
        silence(25.0), tone(1.0, 0.4), breath, silence(2.0),   # loud: ends at 26.0 s
        tone(1.0, 0.01), silence(25.0),                          # quiet: ends at 29.1 s
    ])  # speech is under 5% of the file
    assert speech_ends(audio, RATE) == pytest.approx([26.0, 29.1], abs=0.011)


def test_measure_e2e_cli_reads_one_stereo_recording(
    cli: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from voicebot.audio.wav import write_wav

    user = np.concatenate([silence(0.5), tone(1.0, 0.3), silence(3.0)])  # speech ends at 1.5 s
    bot = np.zeros_like(user)
    bot[round(2.25 * RATE):round(3.25 * RATE)] = 0.2
    write_wav(tmp_path / "room.wav", np.stack([user, bot], axis=1), RATE)
    assert cli.main([str(tmp_path / "room.wav")]) == 0
    assert capsys.readouterr().out.splitlines()[1].split()[:4] == ["1", "1.500s", "2.250s", "750"]
    write_wav(tmp_path / "mono.wav", user, RATE)
    assert cli.main([str(tmp_path / "mono.wav")]) == 2
    assert "one stereo WAV" in capsys.readouterr().err


def test_single_frames_of_a_noise_floor_near_the_threshold_do_not_extend_the_speech() -> None:
    # A noise floor 33 dB under the voice, with lone 10 ms frames 37-38 dB under it (just over
    # the 35 dB threshold): one real recording (ls_1089-134691-0000.wav) was marked as
    # speaking 0.29 s past its last word that way.
    from voicebot.audio.levels import speech_offset

    floor = silence(1.0, noise=0.3 / np.sqrt(2) * 10 ** (-36.5 / 20))
    for at in (0.2, 0.5, 0.51 + 0.02):  # three lone frames, never three in a row
        k = round(at * RATE)
        floor[k:k + RATE // 100] *= 10 ** (3 / 20)
    audio = np.concatenate([silence(0.3), tone(1.0, 0.3), floor])
    assert speech_offset(audio, RATE) == pytest.approx(1.3, abs=0.011)
    assert speech_ends(audio, RATE) == pytest.approx([1.3], abs=0.011)
    # a real soft ending, 30 ms or more over the threshold, still counts
    audio[round(1.6 * RATE):round(1.64 * RATE)] = tone(0.04, 0.3 * 10 ** (-30 / 20))
    assert speech_offset(audio, RATE) == pytest.approx(1.64, abs=0.011)

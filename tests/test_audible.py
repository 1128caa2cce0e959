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


def room_tone(seconds: float, level_dbfs: float, seed: int = 3) -> np.ndarray:
    """Steady white noise whose RMS is `level_dbfs`."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(round(seconds * RATE)) * 10 ** (level_dbfs / 20)).astype(
        np.float32)


def test_the_noise_floor_is_the_quietest_steady_stretch_and_ignores_digital_silence() -> None:
    from voicebot.audio.levels import SILENCE_DBFS, noise_floor, speech_threshold

    audio = np.concatenate([silence(0.5), room_tone(0.5, -50.0), tone(1.0, 0.3),
                            room_tone(0.5, -50.0, seed=4), silence(0.5)])
    assert noise_floor(frame_db(audio, RATE)) == pytest.approx(-50.0, abs=0.5)
    # Between digital silences, the only steady stretch is a steady vowel: louder than the
    # quietest fifth of the frames (its fading end), so it is no room tone.
    fading = tone(0.5, 0.3) * np.geomspace(1.0, 1e-3, RATE // 2)
    clean = np.concatenate([silence(0.5), tone(1.0, 0.3), fading.astype(np.float32),
                            silence(0.5)])
    levels = frame_db(clean, RATE)
    assert noise_floor(levels) == SILENCE_DBFS
    assert speech_threshold(levels) == speech_threshold(levels, noise_dbfs=SILENCE_DBFS)
    # A level that falls all the way (a fade) is not steady: no stretch of it is a floor.
    fade = tone(0.5, 0.3) * np.geomspace(1.0, 1e-4, RATE // 2)  # 160 dB a second
    assert noise_floor(frame_db(fade.astype(np.float32), RATE)) == SILENCE_DBFS
    assert noise_floor(frame_db(silence(1.0), RATE)) == SILENCE_DBFS


def test_speech_ends_where_its_level_falls_into_the_room_tone() -> None:
    # Room tone 25 dB under a loud voice lies above the bar 35 dB under the voice: by that bar
    # alone the speech runs on to the end of the file (2.0 s). It ends at the voice's end.
    from voicebot.audio.levels import speech_offset

    audio = np.concatenate([room_tone(0.4, -35.5), tone(1.0, 0.3), room_tone(0.6, -35.5, 5)])
    assert speech_offset(audio, RATE) == pytest.approx(1.4, abs=0.011)
    assert speech_ends(audio, RATE) == pytest.approx([1.4], abs=0.011)
    # A soft ending 8 dB over the room tone still counts as speech.
    audio[round(1.4 * RATE):round(1.5 * RATE)] += tone(0.1, 0.3 * 10 ** (-17 / 20), hz=330.0)
    assert speech_offset(audio, RATE) == pytest.approx(1.5, abs=0.011)
    # The utterance alone (no pause in it) takes the floor measured over more audio.
    voice = audio[round(0.4 * RATE):round(1.5 * RATE)]
    assert speech_offset(voice, RATE, noise_dbfs=-35.5) == pytest.approx(1.1, abs=0.011)


def test_noise_too_close_to_the_voice_sets_no_floor() -> None:
    # 10 dB under the voice is too loud for room tone (MIN_SNR_DB): it is taken for speech,
    # as before, and the speech runs to the end.
    from voicebot.audio.levels import speech_offset

    audio = np.concatenate([room_tone(0.4, -20.5), tone(1.0, 0.3), room_tone(0.6, -20.5, 5)])
    assert speech_offset(audio, RATE) == pytest.approx(2.0, abs=0.011)


def test_a_fixed_threshold_referee_ends_speech_at_the_last_frame_above_minus_40_dbfs() -> None:
    from voicebot.bench.audible import fixed_speech_ends

    # A voice at -13.5 dBFS, a soft tail at -42 dBFS (under -40) and room tone at -50.
    audio = np.concatenate([room_tone(0.3, -50.0), tone(1.0, 0.3),
                            tone(0.2, 0.3 * 10 ** (-28.5 / 20)), room_tone(0.5, -50.0, 5)])
    assert fixed_speech_ends(audio, RATE) == pytest.approx([1.3], abs=0.011)
    assert speech_ends(audio, RATE) == pytest.approx([1.5], abs=0.011)
    reply = np.zeros_like(audio)
    reply[round(1.8 * RATE):] = 0.2
    fixed = measure_turns(audio, reply, RATE, fixed_dbfs=-40.0)
    assert [round(t.e2e, 2) for t in fixed] == [0.5]
    assert [round(t.e2e, 2) for t in measure_turns(audio, reply, RATE)] == [0.3]


def test_speech_begins_at_the_first_loud_frame_not_at_a_peak_of_room_tone() -> None:
    # A line's room tone has peaks over -40 dBFS before the speech: counting from its first
    # sample at that level put 0.3 s of room tone into a barge-in reaction (bench duplex).
    from voicebot.audio.levels import first_audible, speech_onset
    from voicebot.testing.user import speech_start

    audio = np.concatenate([room_tone(0.6, -45.0), tone(1.0, 0.3), room_tone(0.4, -45.0, 5)])
    assert (first_audible(audio, -40.0) or 0) / RATE < 0.05  # the tone's peaks reach -40
    assert speech_onset(audio, RATE) == pytest.approx(0.6, abs=0.011)
    assert speech_start(audio, RATE) == pytest.approx(0.6, abs=0.011)
    assert speech_onset(silence(1.0), RATE) is None
    blip = np.concatenate([silence(0.2), tone(0.01, 0.3)])  # no 30 ms of speech in it
    assert speech_start(blip, RATE) == pytest.approx(0.2, abs=0.001)

"""The words' linear echo filter (audio/linear_echo.py) on its own, with synthetic signals:
it learns a room from echo alone, then subtracts the echo and leaves a voice over it."""

from __future__ import annotations

import numpy as np
import pytest

from voicebot.audio.linear_echo import BLOCK, LinearEchoFilter
from voicebot.testing.room import echo_path

RATE = 16000


def _voice_like(seconds: float, seed: int) -> np.ndarray:
    """Noise shaped like speech: a low-passed spectrum, loud syllables and short gaps."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    noise = np.convolve(rng.standard_normal(n), np.ones(8) / 8, mode="same")
    syllables = (np.sin(np.arange(n) * 2 * np.pi * 4 / RATE) > -0.3).astype(float)
    return (0.1 * noise * syllables).astype(np.float32)


def _run(lf: LinearEchoFilter, near: np.ndarray, far: np.ndarray) -> np.ndarray:
    n = len(near) // BLOCK * BLOCK
    return np.concatenate([lf.process(near[i:i + BLOCK], far[i:i + BLOCK])
                           for i in range(0, n, BLOCK)])


def _db(signal: np.ndarray, noise: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(signal ** 2) / max(np.sum(noise ** 2), 1e-20)))


@pytest.mark.parametrize("delay_ms", [50.0, 200.0])
def test_it_learns_the_room_from_echo_alone(delay_ms: float) -> None:
    far = _voice_like(8.0, seed=1)
    echo = np.convolve(far, echo_path(RATE, delay_ms=delay_ms, gain_db=0.0))[: len(far)]
    lf = LinearEchoFilter(RATE)
    assert not lf.trusted
    out = _run(lf, echo.astype(np.float32), far)
    late = slice(6 * RATE, len(out))
    assert _db(echo[late], out[late]) >= 20.0  # the echo, 20 dB down
    assert lf.trusted and lf.erle_db >= 15.0


def test_a_voice_over_the_echo_passes_whole_once_the_room_is_learned() -> None:
    response = echo_path(RATE, delay_ms=100.0, gain_db=0.0)
    far = _voice_like(12.0, seed=2)
    echo = np.convolve(far, response)[: len(far)].astype(np.float32)
    lf = LinearEchoFilter(RATE)
    _run(lf, echo[: 8 * RATE], far[: 8 * RATE])
    user = 0.5 * _voice_like(4.0, seed=3)  # 6 dB under the echo
    out = _run(lf, echo[8 * RATE:] + user, far[8 * RATE:])
    assert _db(user, echo[8 * RATE:]) < -4.0  # the echo is the louder of the two ...
    assert _db(user, out - user) >= 12.0  # ... and what is left is the user's voice


def test_it_holds_still_while_a_voice_is_over_the_echo_and_keeps_the_room() -> None:
    # learning from the user's voice would pull it off the room: after 4 s of double talk
    # it still removes the echo as before
    response = echo_path(RATE, delay_ms=100.0, gain_db=0.0)
    far = _voice_like(14.0, seed=4)
    echo = np.convolve(far, response)[: len(far)].astype(np.float32)
    lf = LinearEchoFilter(RATE)
    out = _run(lf, echo[: 8 * RATE], far[: 8 * RATE])
    before = _db(echo[7 * RATE: 8 * RATE], out[7 * RATE:])
    user = _voice_like(2.5, seed=5)  # as loud as the echo
    _run(lf, echo[8 * RATE: 21 * RATE // 2] + user, far[8 * RATE: 21 * RATE // 2])
    after = _run(lf, echo[21 * RATE // 2:], far[21 * RATE // 2:])
    assert before >= 20.0
    assert _db(echo[21 * RATE // 2: 23 * RATE // 2], after[:RATE]) >= before - 3.0


def test_a_room_that_changed_is_learned_again() -> None:
    far = _voice_like(20.0, seed=8)
    first = np.convolve(far, echo_path(RATE, delay_ms=60.0, gain_db=0.0))[: len(far)]
    moved = np.convolve(far, echo_path(RATE, delay_ms=180.0, gain_db=-3.0, seed=1))[: len(far)]
    lf = LinearEchoFilter(RATE)
    _run(lf, first[: 8 * RATE].astype(np.float32), far[: 8 * RATE])
    assert lf.trusted
    out = _run(lf, moved[8 * RATE:].astype(np.float32), far[8 * RATE:])
    assert _db(moved[8 * RATE: 9 * RATE], out[:RATE]) < 10.0  # at first it misses the echo
    assert _db(moved[18 * RATE:], out[10 * RATE:]) >= 12.0  # then it has learned the room
    assert lf.trusted


def test_at_rest_it_passes_the_microphone_and_forgets_the_far_end() -> None:
    lf = LinearEchoFilter(RATE)
    far = _voice_like(2.0, seed=6)
    _run(lf, np.convolve(far, echo_path(RATE, delay_ms=50.0, gain_db=0.0))[: len(far)]
         .astype(np.float32), far)
    lf.rest()
    near = _voice_like(0.5, seed=7)
    out = _run(lf, near, np.zeros_like(near))
    assert np.allclose(out, near, atol=1e-6)


def test_it_takes_whole_blocks_at_16_khz() -> None:
    with pytest.raises(ValueError, match="16000"):
        LinearEchoFilter(8000)
    with pytest.raises(ValueError, match="160"):
        LinearEchoFilter(RATE).process(np.zeros(80), np.zeros(80))

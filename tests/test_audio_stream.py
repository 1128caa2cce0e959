"""Reframer, AudioTimeline, WavReplaySource pacing and WavSink time alignment."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from voicebot.audio.framing import Reframer
from voicebot.audio.sources import WavReplaySource
from voicebot.audio.timeline import AudioTimeline
from voicebot.audio.wav import read_wav, write_wav
from voicebot.audio.wav_sink import WavSink

# ---- Reframer ------------------------------------------------------------------------


def test_reframer_keeps_remainder_across_pushes() -> None:
    r = Reframer(4)
    x = np.arange(10, dtype=np.float32)
    frames = r.push(x[:3])
    assert frames == [] and r.pending == 3
    frames = r.push(x[3:10])
    assert [f.tolist() for f in frames] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert r.pending == 2
    assert [f.tolist() for f in r.push(x[:2])] == [[8, 9, 0, 1]]
    r.push(x[:3])
    r.reset()
    assert r.pending == 0 and r.push(np.zeros(3, dtype=np.float32)) == []
    with pytest.raises(ValueError):
        Reframer(0)


# ---- AudioTimeline -------------------------------------------------------------------


def ramp(start: int, n: int) -> np.ndarray:
    return np.arange(start, start + n, dtype=np.float32)


def test_timeline_slices_in_absolute_time() -> None:
    tl = AudioTimeline(sample_rate=10, keep_s=100.0)
    for i in range(5):
        tl.append(ramp(i * 7, 7))
    assert tl.end == pytest.approx(3.5)
    assert tl.slice(1.0, 2.0).tolist() == list(range(10, 20))
    assert tl.slice(3.0, 99.0).tolist() == list(range(30, 35))  # clamped at the end
    assert len(tl.slice(2.0, 1.0)) == 0


def test_timeline_drops_audio_older_than_keep_s() -> None:
    tl = AudioTimeline(sample_rate=10, keep_s=2.0)  # keeps 20 samples
    for i in range(13):
        tl.append(ramp(i * 3, 3))  # 39 samples, appended in small blocks
    assert tl.end == pytest.approx(3.9)
    assert tl.start == pytest.approx(1.9)
    assert tl.slice(0.0, 10.0).tolist() == list(range(19, 39))
    assert tl.slice(3.0, 3.5).tolist() == list(range(30, 35))


def test_timeline_block_longer_than_keep() -> None:
    tl = AudioTimeline(sample_rate=10, keep_s=1.0)
    tl.append(ramp(0, 4))
    tl.append(ramp(4, 25))
    assert tl.end == pytest.approx(2.9)
    assert tl.slice(0.0, 5.0).tolist() == list(range(19, 29))
    tl.append(ramp(29, 2))
    assert tl.slice(0.0, 5.0).tolist() == list(range(21, 31))
    tl.reset()
    assert tl.end == 0.0 and len(tl.slice(0, 1)) == 0


def test_timeline_long_run_matches_a_plain_array() -> None:
    rng = np.random.default_rng(3)
    tl = AudioTimeline(sample_rate=100, keep_s=1.5)
    whole = np.zeros(0, dtype=np.float32)
    for _ in range(200):
        block = rng.standard_normal(int(rng.integers(1, 40))).astype(np.float32)
        tl.append(block)
        whole = np.concatenate([whole, block])
        end = len(whole) / 100
        np.testing.assert_array_equal(tl.slice(end - 1.2, end - 0.1), whole[-120:-10])


# ---- WavReplaySource -----------------------------------------------------------------


def test_replay_at_real_time_follows_elapsed() -> None:
    src = WavReplaySource(np.arange(100, dtype=np.float32), 100, block_samples=10, speed=1.0)
    assert src.read_available(0.05) == []
    assert src.seconds_until_next(0.05) == pytest.approx(0.05)
    frames = src.read_available(0.1)  # the first block ends at 0.1 s: it has arrived
    assert [f.start for f in frames] == [0.0]
    assert frames[0].samples.tolist() == list(range(10))
    frames = src.read_available(0.35)
    assert [round(f.start, 6) for f in frames] == [0.1, 0.2]
    assert src.seconds_until_next(0.35) == pytest.approx(0.05)
    frames = src.read_available(5.0)
    assert len(frames) == 7 and src.finished
    assert src.seconds_until_next(5.0) == math.inf
    assert src.read_available(6.0) == []


def test_replay_speed_two_and_padding() -> None:
    src = WavReplaySource(np.ones(25, dtype=np.float32), 100, block_samples=10, speed=2.0,
                          lead_silence_s=0.1, tail_silence_s=0.1)
    assert src.audio_end == pytest.approx(0.35)
    assert src.duration == pytest.approx(0.5)  # 45 samples -> 5 blocks, last zero-padded
    frames = src.read_available(0.1)  # 0.2 s of audio at 2x
    assert len(frames) == 2
    assert frames[0].samples.max() == 0.0 and frames[1].samples.min() == 1.0
    assert src.seconds_until_next(0.1) == pytest.approx(0.05)
    rest = src.read_available(1.0)
    assert [len(f.samples) for f in rest] == [10, 10, 10]
    assert rest[-1].samples.tolist() == [0.0] * 10  # 5 ones end at 0.35; tail zeros


def test_replay_fast_mode_returns_one_block_per_call() -> None:
    src = WavReplaySource(np.zeros(30, dtype=np.float32), 100, block_samples=10, speed=None)
    assert src.seconds_until_next(0.0) == 0.0
    starts = [f.start for _ in range(3) for f in src.read_available(0.0)]
    assert starts == [0.0, 0.1, 0.2]
    assert src.finished and src.read_available(0.0) == []


def test_replay_from_file_and_close(tmp_path: Path) -> None:
    path = tmp_path / "in.wav"
    write_wav(path, np.full(8000, 0.25, dtype=np.float32), 8000)  # 1 s at 8 kHz
    src = WavReplaySource.from_file(path, sample_rate=16000, block_ms=30, speed=1.0)
    assert src.block_samples == 480
    frames = src.read_available(0.5)
    assert len(frames) == 16 and all(f.sample_rate == 16000 for f in frames)
    assert frames[5].samples.mean() == pytest.approx(0.25, abs=1e-3)
    src.close()
    assert src.finished and src.read_available(10.0) == []


# ---- WavSink -------------------------------------------------------------------------


def test_wav_sink_places_chunks_on_the_session_timeline(tmp_path: Path) -> None:
    path = tmp_path / "reply.wav"
    sink = WavSink(path, sample_rate=100)
    one = np.ones(50, dtype=np.float32)
    assert sink.play(one, 100, at=1.0).start == 1.0  # idle: starts when handed over
    assert sink.busy_until() == pytest.approx(1.5)
    assert sink.play(one * 0.5, 100, at=1.2).start == pytest.approx(1.5)  # queued behind
    assert sink.busy_until() == pytest.approx(2.0)
    assert sink.play(one * 0.25, 100, at=3.0).start == 3.0  # a gap of silence
    out = sink.samples()
    assert len(out) == 350
    assert out[:100].max() == 0.0
    assert (out[100:150] == 1.0).all() and (out[150:200] == 0.5).all()
    assert out[200:300].max() == 0.0 and (out[300:350] == 0.25).all()
    sink.close()
    np.testing.assert_allclose(read_wav(path, 100), out, atol=1e-4)


def test_wav_sink_resamples_to_its_rate() -> None:
    sink = WavSink(None, sample_rate=22050)
    playback = sink.play(np.zeros(16000, dtype=np.float32), 16000, at=0.0)
    assert playback.start == playback.started == 0.0
    assert sink.busy_until() == pytest.approx(1.0, abs=1e-4)
    assert abs(len(sink.samples()) - 22050) <= 1


def test_wav_sink_stop_drops_what_has_not_played() -> None:
    sink = WavSink(None, sample_rate=100)
    sink.play(np.ones(100, dtype=np.float32), 100, at=0.5)
    sink.play(np.ones(100, dtype=np.float32), 100, at=0.6)  # 1.5 .. 2.5
    sink.stop(1.2)
    assert sink.busy_until() == pytest.approx(1.2)
    assert len(sink.samples()) == 120
    # the next reply starts when handed over, right after the cut
    assert sink.play(np.ones(10, dtype=np.float32) * 0.5, 100, at=1.3).start == \
        pytest.approx(1.3)
    out = sink.samples()
    assert out[110:120].tolist() == [1.0] * 10 and out[120:130].max() == 0.0
    assert out[130:140].tolist() == [0.5] * 10
    sink.stop(5.0)  # nothing queued after 5 s: no change
    assert sink.busy_until() == pytest.approx(1.4)


def test_a_long_session_to_a_wav_is_written_as_it_goes_not_held(tmp_path: Path) -> None:
    """Hours of replies do not pile up in memory: audio that can no longer be cut is
    written out and forgotten, and the file equals what a sink keeping it all would hold."""
    path = tmp_path / "reply.wav"
    streamed, kept = WavSink(path, sample_rate=100), WavSink(None, sample_rate=100)
    rng = np.random.default_rng(1)
    for turn in range(40):
        reply = rng.uniform(-0.5, 0.5, 300).astype(np.float32)  # a 3 s reply every 10 s
        for sink in (streamed, kept):
            sink.play(reply, 100, at=turn * 10.0)
            if turn == 7:
                sink.stop(turn * 10.0 + 1.0)  # a barge-in cuts one reply
    assert streamed.held_from() >= 380.0 - 10.0  # only the last reply or so is held
    assert len(streamed._held_samples()) <= 1000
    whole = kept.samples()
    streamed.min_length_s = 400.0
    streamed.close()
    written = read_wav(path, 100)
    assert len(written) == 40000
    np.testing.assert_allclose(written[: len(whole)], whole, atol=1e-4)
    assert written[len(whole):].max() == 0.0
    assert written[71 * 100 : 80 * 100].max() == 0.0  # what the barge-in cut stays cut


def test_a_sink_that_keeps_nothing_refuses_to_pretend_it_has_the_session() -> None:
    sink = WavSink(None, sample_rate=100, keep=False)
    for turn in range(5):
        sink.play(np.ones(100, dtype=np.float32), 100, at=turn * 10.0)
    assert sink.held_from() > 0
    with pytest.raises(RuntimeError, match="keep"):
        sink.samples()

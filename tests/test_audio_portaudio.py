"""MicrophoneSource and SpeakerSink through sounddevice: a scripted fake stream (exact), and
real PortAudio streams on ALSA's `null` device (a subprocess, because sounddevice reads the
ALSA configuration when it is imported)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import numpy as np
import pytest

from voicebot.audio import devices
from voicebot.audio.devices import DeviceInfo
from voicebot.audio.sinks import SpeakerSink
from voicebot.audio.sources import MicrophoneSource
from voicebot.errors import AudioDeviceError


class FakeError(Exception):
    pass


class FakeStream:
    opened: ClassVar[list[FakeStream]] = []

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs
        self.callback = kwargs["callback"]
        self.started = self.stopped = self.closed = False
        self.latency = 0.0
        self.time = 0.0  # PortAudio's stream clock (0: none, the sink uses monotonic time)
        FakeStream.opened.append(self)

    def start(self) -> None:
        self.started = True

    @property
    def active(self) -> bool:
        return self.started and not self.stopped

    def stop(self) -> None:
        self.stopped = True

    def close(self) -> None:
        self.closed = True


def fake_sd(accept_rate: bool) -> Any:
    def check_input_settings(**kwargs: Any) -> None:
        if not accept_rate:
            raise FakeError("Invalid sample rate")

    return SimpleNamespace(PortAudioError=FakeError, InputStream=FakeStream,
                           OutputStream=FakeStream, check_input_settings=check_input_settings)


INFO = DeviceInfo(3, "Fake", "ALSA", 1, 1, 44100.0, True, True)


@pytest.fixture
def patched(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devices, "require_input_device", lambda device: INFO)
    monkeypatch.setattr(devices, "require_output_device", lambda device: INFO)
    FakeStream.opened = []


@pytest.mark.usefixtures("patched")
def test_microphone_frames_timed_by_sample_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devices, "load_sounddevice", lambda: fake_sd(accept_rate=True))
    mic = MicrophoneSource(None, 16000, 480)
    stream = FakeStream.opened[0]
    assert not stream.started  # opened (errors show at once), recording only from start()
    mic.start()
    assert stream.started and stream.kwargs["samplerate"] == 16000
    assert stream.kwargs["device"] == 3 and stream.kwargs["blocksize"] == 480
    assert mic.read_available(0.0) == []
    assert mic.seconds_until_next(0.0) == pytest.approx(0.03)
    for value in (0.1, 0.2, 0.3):
        stream.callback(np.full((480, 1), value, dtype=np.float32), 480, None, None)
    assert mic.seconds_until_next(0.0) == 0.0
    frames = mic.read_available(0.1)  # elapsed is irrelevant: audio time = samples
    assert [round(f.start, 6) for f in frames] == [0.0, 0.03, 0.06]
    assert [float(f.samples[0]) for f in frames] == pytest.approx([0.1, 0.2, 0.3])
    mic.close()
    assert mic.finished and stream.closed and mic.seconds_until_next(0.0) == float("inf")


@pytest.mark.usefixtures("patched")
def test_microphone_resamples_when_the_device_refuses_the_rate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(devices, "load_sounddevice", lambda: fake_sd(accept_rate=False))
    mic = MicrophoneSource(None, 16000, 480)
    stream = FakeStream.opened[0]
    assert stream.kwargs["samplerate"] == 44100 and stream.kwargs["blocksize"] == 1323
    t = np.arange(44100) / 44100
    tone = (0.5 * np.sin(2 * np.pi * 300 * t)).astype(np.float32)
    for i in range(0, 44100, 1323):
        block = tone[i : i + 1323]
        stream.callback(block[:, None], len(block), None, None)
    frames = mic.read_available(0.0)
    assert all(len(f.samples) == 480 and f.sample_rate == 16000 for f in frames)
    assert 31 <= len(frames) <= 33  # ~1 s, less the resampler's delay
    got = np.concatenate([f.samples for f in frames])
    assert np.abs(got[2000:-2000]).max() == pytest.approx(0.5, abs=0.02)


@pytest.mark.usefixtures("patched")
def test_microphone_stall_or_lost_stream_is_a_device_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(devices, "load_sounddevice", lambda: fake_sd(accept_rate=True))
    mic = MicrophoneSource(None, 16000, 480)
    stream = FakeStream.opened[0]
    mic.start()
    stream.callback(np.zeros((480, 1), dtype=np.float32), 480, None, None)
    assert len(mic.read_available(0.03)) == 1
    assert mic.read_available(1.9) == []  # a late block is not a lost device
    with pytest.raises(AudioDeviceError, match="stopped delivering audio"):
        mic.read_available(2.1)
    mic2 = MicrophoneSource(None, 16000, 480)
    mic2.start()
    FakeStream.opened[1].stopped = True  # PortAudio ended the stream by itself
    with pytest.raises(AudioDeviceError, match="'Fake' stopped delivering"):
        mic2.read_available(0.0)


@pytest.mark.usefixtures("patched")
def test_microphone_that_only_records_stereo_is_mixed_down(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def stereo_only(**kwargs: Any) -> None:
        if kwargs["channels"] != 2 or kwargs["samplerate"] != 48000:
            raise FakeError("Invalid number of channels")

    sd = SimpleNamespace(PortAudioError=FakeError, InputStream=FakeStream,
                         check_input_settings=stereo_only)
    monkeypatch.setattr(devices, "load_sounddevice", lambda: sd)
    monkeypatch.setattr(devices, "require_input_device",
                        lambda device: DeviceInfo(3, "Stereo", "ALSA", 2, 0, 48000.0))
    mic = MicrophoneSource(None, 16000, 480)
    mic.start()
    stream = FakeStream.opened[0]
    assert stream.kwargs["channels"] == 2 and stream.kwargs["samplerate"] == 48000
    t = np.arange(48000) / 48000
    left = (0.4 * np.sin(2 * np.pi * 300 * t)).astype(np.float32)
    for i in range(0, 48000 - 1440, 1440):
        block = np.stack([left[i : i + 1440], np.zeros(1440, dtype=np.float32)], axis=1)
        stream.callback(block, 1440, None, None)
    got = np.concatenate([f.samples for f in mic.read_available(1.0)])
    assert np.abs(got[2000:-2000]).max() == pytest.approx(0.2, abs=0.02)  # (L + R) / 2


@pytest.mark.usefixtures("patched")
def test_speaker_stamps_the_first_sample_with_the_device_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Session time = the stream's clock - 3 (learned from `at`); the device hears what a
    # callback writes 60 ms after it runs (PortAudio's DAC time minus its current time).
    monkeypatch.setattr(devices, "load_sounddevice", lambda: fake_sd(accept_rate=True))
    sink = SpeakerSink(None, sample_rate=1000)
    stream = FakeStream.opened[0]
    stream.time = 5.0
    first = sink.play(np.full(25, 0.5, dtype=np.float32), 1000, at=2.0)
    second = sink.play(np.full(10, 0.25, dtype=np.float32), 1000, at=2.0)
    assert (first.expected, first.started) == (2.0, None)
    out = np.ones((10, 1), dtype=np.float32)
    for i in range(3):  # the callbacks run 4 ms later (the wait for the GIL does not count)
        stream.callback(out, 10, SimpleNamespace(currentTime=5.004 + 0.01 * i,
                                                 outputBufferDacTime=5.064 + 0.01 * i), None)
    assert first.started == pytest.approx(2.064)
    assert second.started == pytest.approx(2.064 + 0.025)  # 5 samples into the 3rd block
    assert sink.busy_until() == pytest.approx(2.064 + 0.035)
    # The next reply, handed over later, is expected one device lead after `at`.
    stream.time = 8.0
    assert sink.play(np.full(10, 0.5, dtype=np.float32), 1000, at=5.0).expected == \
        pytest.approx(5.06)


@pytest.mark.usefixtures("patched")
def test_speaker_callback_plays_queue_and_stop_silences(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devices, "load_sounddevice", lambda: fake_sd(accept_rate=True))
    sink = SpeakerSink(None, sample_rate=1000)
    stream = FakeStream.opened[0]
    assert stream.kwargs["blocksize"] == 10  # 10 ms blocks: stop() acts within one
    assert sink.play(np.full(25, 0.5, dtype=np.float32), 1000, at=2.0).expected == 2.0
    second = sink.play(np.full(10, 0.25, dtype=np.float32), 1000, at=2.01)
    assert second.expected == pytest.approx(2.025)
    assert sink.busy_until() == pytest.approx(2.035)
    out = np.ones((10, 1), dtype=np.float32)
    blocks = []
    for _ in range(4):
        stream.callback(out, 10, None, None)
        blocks.append(out[:, 0].copy())
    played = np.concatenate(blocks)
    assert played[:25].tolist() == [0.5] * 25 and played[25:35].tolist() == [0.25] * 10
    assert played[35:].max() == 0.0
    sink.play(np.full(1000, 0.5, dtype=np.float32), 1000, at=3.0)
    sink.stop(3.1)
    assert sink.busy_until() <= 3.1 + 1e-6
    stream.callback(out, 10, None, None)
    assert out.max() == 0.0
    sink.close()
    assert stream.stopped and stream.closed


@pytest.mark.usefixtures("patched")
def test_speaker_reference_is_counted_in_samples_not_read_from_jittery_dac_times(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Two replies 1 s apart; the DAC times the callbacks report wander by +-7 ms. The echo
    # canceller's reference must keep the two replies exactly 1 s apart (the device plays
    # its samples back to back), or AEC3 loses the echo path at the second.
    monkeypatch.setattr(devices, "load_sounddevice", lambda: fake_sd(accept_rate=True))
    sink = SpeakerSink(None, sample_rate=1000)
    stream = FakeStream.opened[0]
    reply = np.full(30, 0.5, dtype=np.float32)
    out = np.ones((10, 1), dtype=np.float32)
    jitter = [0.0, 0.007, -0.005, 0.003, -0.007, 0.006]
    for block in range(120):
        now = 5.0 + 0.01 * block
        stream.time = now
        if block in (0, 100):
            sink.play(reply, 1000, at=now - 3.0)
        stream.callback(out, 10, SimpleNamespace(
            currentTime=now, outputBufferDacTime=now + 0.05 + jitter[block % 6]), None)
    reference = sink.played.read(0.0, round(4.0 * sink.played.sample_rate))
    rate = sink.played.sample_rate
    onsets = np.flatnonzero(np.diff((reference > 0).astype(int)) == 1) + 1
    assert len(onsets) == 2
    assert (onsets[1] - onsets[0]) / rate == pytest.approx(1.0, abs=1 / rate)
    assert onsets[0] / rate == pytest.approx(2.05, abs=0.001)


@pytest.mark.usefixtures("patched")
def test_speaker_pause_holds_the_rest_and_resume_plays_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(devices, "load_sounddevice", lambda: fake_sd(accept_rate=True))
    sink = SpeakerSink(None, sample_rate=1000)
    stream = FakeStream.opened[0]
    sink.play(np.arange(1, 31, dtype=np.float32) / 100, 1000, at=2.0)
    out = np.ones((10, 1), dtype=np.float32)
    written = []
    stream.callback(out, 10, None, None)
    written.append(out[:, 0].copy())
    sink.pause(2.01)
    later = sink.play(np.full(5, 0.9, dtype=np.float32), 1000, at=2.02)  # while paused
    for _ in range(3):
        stream.callback(out, 10, None, None)
        assert out.max() == 0.0  # nothing plays while paused
    sink.resume(2.5)
    assert later.started is None and sink.busy_until() >= 2.5 + 0.025
    for _ in range(3):
        stream.callback(out, 10, None, None)
        written.append(out[:, 0].copy())
    heard = np.concatenate(written)
    expected = np.concatenate([np.arange(1, 31) / 100, np.full(5, 0.9)]).astype(np.float32)
    assert np.allclose(heard[:35], expected)  # no sample lost or repeated
    assert later.started is not None


NULL_ALSA = """
pcm.!default {
    type null
}
"""

SCRIPT = textwrap.dedent(
    """
    import numpy as np
    from voicebot.audio.devices import list_devices
    from voicebot.audio.sinks import SpeakerSink
    from voicebot.audio.sources import MicrophoneSource

    if not list_devices():
        print("NO-DEVICES")
        raise SystemExit(0)
    mic = MicrophoneSource(None, 16000, 480)
    mic.start()
    frames = []
    while len(frames) < 5:
        frames += mic.read_available(0.0)
    mic.close()
    assert [round(f.start, 6) for f in frames[:3]] == [0.0, 0.03, 0.06], frames[:3]
    assert all(len(f.samples) == 480 for f in frames)
    sink = SpeakerSink(None)
    playback = sink.play(np.zeros(1600, dtype=np.float32), 16000, 0.5)
    assert playback.expected >= 0.5
    # busy until its end: from the expected start, or from the device's own start once the
    # callback has begun playing it (it may run at any moment: read busy_until first)
    busy = sink.busy_until()
    starts = [s for s in (playback.expected, playback.started) if s is not None]
    assert min(abs(busy - start - 0.1) for start in starts) < 1e-3, (busy, starts)
    sink.close()
    print("OK", sink.sample_rate)
    """
)


def test_real_portaudio_streams_on_alsa_null_device(tmp_path: Path) -> None:
    try:
        devices.load_sounddevice()
    except Exception as exc:
        pytest.skip(f"no PortAudio here: {exc}")
    conf = tmp_path / "asound.conf"
    conf.write_text(NULL_ALSA)
    env = {**os.environ, "ALSA_CONFIG_PATH": str(conf)}
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    if "NO-DEVICES" in done.stdout:
        pytest.skip("PortAudio has no ALSA null device here (not a Linux ALSA build?)")
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("OK")

"""DeviceWatch: a microphone or speaker that goes away ends the session with one clear line."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

from voicebot.audio.watch import DeviceWatch
from voicebot.errors import AudioDeviceError
from voicebot.events import AudioFrame


@dataclass
class FakeStream:
    active: bool = True


@dataclass
class FakeMic:
    sample_rate: int = 16000
    frames_per_read: int = 1
    finished: bool = False
    _stream: FakeStream = field(default_factory=FakeStream)

    def read_available(self, elapsed: float) -> list[AudioFrame]:
        block = np.zeros(480, dtype=np.float32)
        return [AudioFrame(block, self.sample_rate, elapsed)] * self.frames_per_read

    def seconds_until_next(self, elapsed: float) -> float:
        return 0.03

    def close(self) -> None:
        self.finished = True


@dataclass
class FakeSpeaker:
    stopped_at: float | None = None
    _stream: FakeStream = field(default_factory=FakeStream)

    def stop(self, at: float) -> None:
        self.stopped_at = at


def test_forwards_frames_while_the_devices_run() -> None:
    watch = DeviceWatch(FakeMic(), FakeSpeaker())
    assert len(watch.read_available(0.03)) == 1
    assert watch.seconds_until_next(0.03) == 0.03
    assert watch.sample_rate == 16000 and not watch.finished
    watch.close()
    assert watch.finished


def test_a_microphone_stream_that_ended_is_one_clear_error() -> None:
    mic, speaker = FakeMic(), FakeSpeaker()
    watch = DeviceWatch(mic, speaker)
    watch.read_available(1.0)
    mic._stream.active = False
    with pytest.raises(AudioDeviceError, match=r"^the microphone stopped .*session log"):
        watch.read_available(1.03)
    assert speaker.stopped_at == 1.03  # queued reply audio dropped: close() does not wait


def test_a_speaker_stream_that_ended_is_one_clear_error() -> None:
    speaker = FakeSpeaker()
    watch = DeviceWatch(FakeMic(), speaker)
    speaker._stream.active = False
    with pytest.raises(AudioDeviceError, match=r"^the speaker stopped"):
        watch.read_available(0.5)


def test_a_microphone_that_delivers_nothing_for_too_long_is_lost() -> None:
    mic = FakeMic()
    watch = DeviceWatch(mic, stall_s=5.0)
    watch.read_available(0.0)
    mic.frames_per_read = 0
    watch.read_available(4.9)  # a slow start or a busy loop is not a loss
    with pytest.raises(AudioDeviceError, match="delivered no audio for 5 s"):
        watch.read_available(5.2)


def test_objects_without_a_portaudio_stream_count_as_running() -> None:
    class Plain:
        sample_rate = 16000
        finished = False

        def read_available(self, elapsed: float) -> list[AudioFrame]:
            return [AudioFrame(np.zeros(480, dtype=np.float32), 16000, elapsed)]

    watch = DeviceWatch(Plain(), object())
    assert len(watch.read_available(100.0)) == 1

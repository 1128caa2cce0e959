"""Device listing and the plain messages when PortAudio or devices are missing."""

from __future__ import annotations

import sys
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from voicebot.audio import devices
from voicebot.errors import AudioDeviceError


class FakePortAudioError(Exception):
    pass


def fake_sd(rows: list[dict[str, Any]], default: tuple[int, int]) -> Any:
    return SimpleNamespace(
        query_devices=lambda: rows,
        query_hostapis=lambda: [{"name": "ALSA"}],
        default=SimpleNamespace(device=list(default)),
        PortAudioError=FakePortAudioError,
    )


def row(index: int, name: str, ins: int, outs: int, rate: float = 48000.0) -> dict[str, Any]:
    return {"index": index, "name": name, "hostapi": 0, "max_input_channels": ins,
            "max_output_channels": outs, "default_samplerate": rate}


ROWS = [row(0, "HDA Intel PCH: ALC295 Analog", 2, 2, 44100.0), row(1, "HDMI 0", 0, 8),
        row(2, "USB Headset Mic", 1, 0, 16000.0)]


@pytest.fixture
def with_devices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devices, "load_sounddevice", lambda: fake_sd(ROWS, (0, 1)))


@pytest.mark.usefixtures("with_devices")
def test_table_lists_inputs_and_outputs_with_defaults() -> None:
    table = devices.device_table()
    inputs, outputs = table.split("Outputs (speakers):")
    assert "*  0  HDA Intel PCH: ALC295 Analog  (ALSA; 2 ch, 44100 Hz)" in inputs
    assert "   2  USB Headset Mic  (ALSA; 1 ch, 16000 Hz)" in inputs
    assert "HDMI" not in inputs
    assert "*  1  HDMI 0  (ALSA; 8 ch, 48000 Hz)" in outputs
    assert "USB" not in outputs


@pytest.mark.usefixtures("with_devices")
def test_require_picks_default_index_or_name() -> None:
    assert devices.require_input_device(None).index == 0
    assert devices.require_output_device(None).index == 1
    assert devices.require_input_device(2).name == "USB Headset Mic"
    assert devices.require_input_device("2").index == 2
    assert devices.require_input_device("usb headset").index == 2
    with pytest.raises(AudioDeviceError, match="has no input channels"):
        devices.require_input_device(1)
    with pytest.raises(AudioDeviceError, match="no audio device 9"):
        devices.require_output_device(9)
    with pytest.raises(AudioDeviceError, match="no microphone named like 'webcam'"):
        devices.require_input_device("webcam")


def test_no_devices_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devices, "load_sounddevice", lambda: fake_sd([], (-1, -1)))
    with pytest.raises(AudioDeviceError) as info:
        devices.require_input_device(None)
    assert str(info.value) == (
        "no microphone found (PortAudio lists no input devices); use a WAV file instead "
        "(voicebot talk --input FILE.wav, voicebot transcribe FILE.wav)"
    )
    with pytest.raises(AudioDeviceError, match=r"no speaker found .*-o/--output FILE\.wav"):
        devices.require_output_device(None)
    assert devices.device_table().startswith("No audio devices found")


def test_inputs_without_a_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devices, "load_sounddevice", lambda: fake_sd(ROWS, (-1, -1)))
    with pytest.raises(AudioDeviceError, match="no default microphone is set"):
        devices.require_input_device(None)


class _NoPortAudio:
    """A meta-path finder that fails like sounddevice does without libportaudio."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name == "sounddevice":
            raise OSError("PortAudio library not found")


def test_missing_portaudio_library(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_NoPortAudio(), *sys.meta_path])
    with pytest.raises(AudioDeviceError) as info:
        devices.require_input_device(None)
    message = str(info.value)
    assert "PortAudio library is not installed" in message
    assert "apt-get install libportaudio2" in message
    assert "--input FILE.wav" in message


def real_device_count() -> int:
    try:
        return len(devices.list_devices())
    except AudioDeviceError:
        return -1


def test_this_machine_without_devices_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    count = real_device_count()
    if count != 0:
        pytest.skip("this machine has audio devices (or no PortAudio); covered by fakes")
    from voicebot.audio.sinks import SpeakerSink
    from voicebot.audio.sources import MicrophoneSource
    from voicebot.cli import main

    with pytest.raises(AudioDeviceError, match="no microphone found"):
        MicrophoneSource(None, 16000, 480)
    with pytest.raises(AudioDeviceError, match="no speaker found"):
        SpeakerSink(None)
    assert main(["devices"]) == 0
    assert "No audio devices found" in capsys.readouterr().out


def test_devices_command_reports_missing_portaudio(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from voicebot.cli import main

    def missing() -> ModuleType:
        raise AudioDeviceError(devices.NO_PORTAUDIO)

    monkeypatch.setattr(devices, "load_sounddevice", missing)
    assert main(["devices"]) == 1
    assert "apt-get install libportaudio2" in capsys.readouterr().err

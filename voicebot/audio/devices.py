"""Audio devices through PortAudio (sounddevice): listing them and clear errors when absent.

sounddevice raises OSError at import when the PortAudio library is missing, and with no
device its queries fail with PortAudioError("Error querying device -1"); both become one
plain AudioDeviceError line that says what is missing and offers WAV files instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal

from voicebot.errors import AudioDeviceError

NO_PORTAUDIO = (
    "the PortAudio library is not installed, so there is no microphone or speaker support "
    "(Debian/Ubuntu: `apt-get install libportaudio2`, or run `make install`); "
    "use --input FILE.wav / --output FILE.wav instead"
)
Kind = Literal["input", "output"]
_KIND_WORDS = {
    "input": ("microphone", "input",
              "a WAV file instead (voicebot talk --input FILE.wav, voicebot transcribe FILE.wav)"),
    "output": ("speaker", "output", "a WAV file instead (-o/--output FILE.wav)"),
}


def wav_alternative(kind: Kind) -> str:
    """What to use instead of the microphone/speaker, in words that fit every command."""
    return _KIND_WORDS[kind][2]


@dataclass(frozen=True)
class DeviceInfo:
    index: int
    name: str
    hostapi: str
    max_input_channels: int
    max_output_channels: int
    default_samplerate: float
    default_input: bool = False
    default_output: bool = False


def load_sounddevice() -> ModuleType:
    """Import sounddevice, turning a missing PortAudio library into AudioDeviceError."""
    try:
        import sounddevice
    except (OSError, ImportError):
        raise AudioDeviceError(NO_PORTAUDIO) from None
    return sounddevice


def list_devices() -> list[DeviceInfo]:
    """Every device PortAudio reports (an empty list when there are none)."""
    sd = load_sounddevice()
    try:
        raw: Any = sd.query_devices()
        hostapis: Any = sd.query_hostapis()
    except sd.PortAudioError as exc:
        raise AudioDeviceError(f"PortAudio could not list the audio devices: {exc}") from None
    default_in, default_out = _defaults(sd)
    found = []
    for i, d in enumerate(raw):
        api = int(d.get("hostapi", 0))
        index = int(d.get("index", i))
        found.append(
            DeviceInfo(
                index=index,
                name=str(d["name"]),
                hostapi=str(hostapis[api]["name"]) if api < len(hostapis) else "?",
                max_input_channels=int(d["max_input_channels"]),
                max_output_channels=int(d["max_output_channels"]),
                default_samplerate=float(d["default_samplerate"]),
                default_input=index == default_in,
                default_output=index == default_out,
            )
        )
    return found


def _defaults(sd: ModuleType) -> tuple[int, int]:
    pair = sd.default.device
    try:
        return int(pair[0]), int(pair[1])
    except (TypeError, ValueError, IndexError):
        return -1, -1


def device_table() -> str:
    """A table of input and output devices (the default marked with *), or a plain sentence
    when PortAudio reports none. Raises AudioDeviceError when PortAudio is missing."""
    devices = list_devices()
    if not devices:
        return (
            "No audio devices found: PortAudio lists no microphone and no speaker on this "
            "machine. Use --input FILE.wav and --output FILE.wav instead."
        )
    lines = []
    for kind in ("input", "output"):
        rows = [d for d in devices if _channels(d, kind) > 0]
        word = "Inputs (microphones)" if kind == "input" else "Outputs (speakers)"
        lines.append(f"{word}:")
        if not rows:
            lines.append(f"  none: use --{kind} FILE.wav")
        for d in rows:
            mark = "*" if (d.default_input if kind == "input" else d.default_output) else " "
            lines.append(
                f" {mark}{d.index:3d}  {d.name}  ({d.hostapi}; {_channels(d, kind)} ch, "
                f"{d.default_samplerate:.0f} Hz)"
            )
        lines.append("")
    lines.append("* = default. Set audio.input_device / audio.output_device to an index or name.")
    return "\n".join(lines)


def _channels(d: DeviceInfo, kind: Kind) -> int:
    return d.max_input_channels if kind == "input" else d.max_output_channels


def require_input_device(device: str | int | None) -> DeviceInfo:
    """The microphone to use (the default when `device` is None), or AudioDeviceError."""
    return _require(device, "input")


def require_output_device(device: str | int | None) -> DeviceInfo:
    """The speaker to use (the default when `device` is None), or AudioDeviceError."""
    return _require(device, "output")


def _require(device: str | int | None, kind: Kind) -> DeviceInfo:
    noun, adjective, wav_flag = _KIND_WORDS[kind]
    devices = list_devices()
    usable = [d for d in devices if _channels(d, kind) > 0]
    if not usable:
        raise AudioDeviceError(
            f"no {noun} found (PortAudio lists no {adjective} devices); use {wav_flag}"
        )
    if device is None:
        chosen = [d for d in usable if (d.default_input if kind == "input" else d.default_output)]
        if not chosen:
            raise AudioDeviceError(
                f"no default {noun} is set; pick one with audio.{adjective}_device "
                "(see `voicebot devices`)"
            )
        return chosen[0]
    return _match(device, usable, devices, kind)


def _match(
    device: str | int, usable: list[DeviceInfo], devices: list[DeviceInfo], kind: Kind
) -> DeviceInfo:
    noun, adjective, _ = _KIND_WORDS[kind]
    if isinstance(device, int) or (isinstance(device, str) and device.strip().isdigit()):
        index = int(device)
        for d in devices:
            if d.index == index:
                if _channels(d, kind) == 0:
                    raise AudioDeviceError(
                        f"device {index} ({d.name!r}) has no {adjective} channels; "
                        "see `voicebot devices`"
                    )
                return d
        raise AudioDeviceError(f"no audio device {index}; see `voicebot devices`")
    wanted = device.lower()
    hits = [d for d in usable if wanted in d.name.lower()]
    exact = [d for d in hits if d.name.lower() == wanted]
    if len(exact) == 1 or len(hits) == 1:
        return (exact or hits)[0]
    if not hits:
        raise AudioDeviceError(
            f"no {noun} named like {device!r}; see `voicebot devices`"
        )
    names = ", ".join(f"{d.index}: {d.name}" for d in hits)
    raise AudioDeviceError(f"{device!r} matches several {adjective} devices ({names}); "
                           "use the index")

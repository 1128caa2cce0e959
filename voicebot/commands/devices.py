"""`voicebot devices`: list microphones and speakers (index, name, channels, default rate)."""

from __future__ import annotations

import argparse

HELP = "list the microphones and speakers PortAudio sees (for audio.input_device/output_device)"


def register(parser: argparse.ArgumentParser) -> None:
    """No options: the command only lists."""


def run(args: argparse.Namespace) -> int:
    """Print the device table, or one plain sentence when there are none (exit 0 then:
    having no devices is a fact about the machine, not an error). A missing PortAudio
    library raises AudioDeviceError (exit 1) with the install hint."""
    from voicebot.audio.devices import device_table

    print(device_table())
    return 0

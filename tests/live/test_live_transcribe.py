"""`voicebot transcribe --mic` on a real sound server: the default microphone, and a 48 kHz
stereo microphone picked by name with audio.input_device."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from live_helpers import Voicebot, config_with

from voicebot.testing.pulse import ROOM_RATE, PulseServer

SPOKEN = "ls_1089-134686-0001.wav"  # "STUFF IT INTO YOU HIS BELLY COUNSELLED HIM", 3.3 s
MIN_RECALL = 0.6  # tiny.en on 3 s of read speech: most words, not necessarily all


@pytest.mark.parametrize("device", [None, "mic48"], ids=["default-mic", "mic48-48k-stereo"])
def test_transcribe_mic_hears_a_recording_played_into_the_microphone(
    pulse: PulseServer, voicebot: Callable[..., Voicebot], speech_dir: Path,
    speech_manifest: dict[str, str], tmp_path: Path, device: str | None,
) -> None:
    args = ["transcribe", "--mic"]  # to a pipe: one line per finished utterance
    if device is not None:
        args += ["--config", str(config_with(tmp_path, input_device=device))]
    bot = voicebot(*args)
    bot.wait_for("Listening", 120.0)
    connected = _source_of_voicebot(pulse)
    time.sleep(0.5)
    pulse.play(speech_dir / SPOKEN).wait(timeout=30)
    deadline = time.monotonic() + 30.0  # the endpoint, then the final decode (busy machine)
    while not bot.stdout.strip() and time.monotonic() < deadline and bot.process.poll() is None:
        time.sleep(0.1)
    status = bot.interrupt()
    assert status == 0, f"exit status {status}:\n{bot.stderr[-2000:]}"
    if device is not None:
        assert connected == f"{device} s16le 2ch {ROOM_RATE}Hz", connected
    text = bot.stdout
    reference = _words(speech_manifest[SPOKEN])
    heard = _words(text)
    recall = sum(word in heard for word in reference) / len(reference)
    assert recall >= MIN_RECALL, f"heard {text!r} for {speech_manifest[SPOKEN]!r}"


def _source_of_voicebot(pulse: PulseServer) -> str:
    """'NAME FORMAT CHANNELS RATE' of the source the voicebot process records from."""
    sources = {}
    for line in pulse.pactl("list", "short", "sources").splitlines():
        index, name, _driver, spec = line.split("\t")[:4]
        sources[index] = f"{name} {spec}"
    outputs = [line.split("\t") for line in pulse.pactl("list", "short",
                                                         "source-outputs").splitlines()]
    clients = [fields[1] for fields in outputs if "protocol-native" in fields[3]
               and not sources[fields[1]].startswith("room.")]  # not a recorder of the room
    assert len(clients) == 1, f"want one recording client, got {outputs}"
    return sources[clients[0]]


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z']+", text.lower()))

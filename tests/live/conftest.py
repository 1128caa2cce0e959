"""Live tests: `voicebot` on a real sound server (a private PulseAudio daemon reached through
PortAudio -> ALSA's default device -> the pulse plugin, as on a Linux desktop).

The daemon, its virtual room (voice, speaker, mic, mic48) and how one stereo recording of the
room keeps the user's speech and the bot's reply on one time origin are described in
voicebot/testing/pulse.py. Every test gets a fresh daemon (about 0.2 s to start), killed at
teardown even when the test fails; voicebot processes started here are killed too.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from live_helpers import Voicebot

from voicebot.testing.pulse import PulseServer, PulseUnavailable

QUESTIONS = {
    "france": "What is the capital of France?",
    "spider": "How many legs does a spider have?",
    "story": "Tell me a long story about a brave knight and a dragon.",
    "stop": "Wait, stop please.",
    "okay": "Okay.",
    "spain": "And what about Spain?",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.live)


@pytest.fixture
def pulse() -> Iterator[PulseServer]:
    # A short root: the server's socket path must fit a unix socket address (108 bytes).
    root = Path(tempfile.mkdtemp(prefix="vbpa-"))
    server = PulseServer(root)
    try:
        server.start()
    except PulseUnavailable as exc:
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip(f"no PulseAudio for the live tests: {exc}")
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def questions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The questions as WAVs spoken by the project's TTS (native rate, no added silence)."""
    from voicebot.audio.wav import write_wav
    from voicebot.config import load_config
    from voicebot.loading import load_tts

    folder = tmp_path_factory.mktemp("questions")
    tts = load_tts(load_config(None))
    paths = {}
    for key, text in QUESTIONS.items():
        audio = np.concatenate(list(tts.synthesize(text)))
        paths[key] = folder / f"{key}.wav"
        write_wav(paths[key], audio, tts.sample_rate)
    return paths


@pytest.fixture
def voicebot(pulse: PulseServer, tmp_path: Path) -> Iterator[Callable[..., Voicebot]]:
    """Start voicebot processes (each in its own folder); all are killed at teardown."""
    started: list[Voicebot] = []

    def start(*args: str) -> Voicebot:
        folder = tmp_path / f"run{len(started)}"
        folder.mkdir()
        bot = Voicebot(list(args), pulse.env, folder)
        started.append(bot)
        return bot

    try:
        yield start
    finally:
        for bot in started:
            bot.kill()

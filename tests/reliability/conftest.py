"""The fault and bad-input matrix (issue 10): helpers shared by tests/reliability.

Every test here runs `voicebot` as a user would (a subprocess, its own XDG folders) and
checks three things: the exit code, the one-line message (no traceback), and that the
JSONL session log keeps every finished turn. Fast backends stand in where the case allows
it: espeak for speech, a scripted OpenAI-compatible server on 127.0.0.1 for the LLM.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from tests.reliability.llm_server import ScriptedLlmServer

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = REPO / "configs" / "default.yaml"
RATE = 16000
QUESTIONS = ("What is the capital of France?", "How many legs does a spider have?")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.reliability)


def voicebot_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "XDG_DATA_HOME": str(tmp_path / "data"),
           "PYTHONUNBUFFERED": "1"}
    env.update(extra)
    return env


def run_voicebot(
    args: Sequence[str], tmp_path: Path, timeout: float = 120, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "voicebot", *args], capture_output=True, text=True,
        timeout=timeout, env=voicebot_env(tmp_path, **env), cwd=tmp_path, stdin=subprocess.DEVNULL,
    )


def start_voicebot(args: Sequence[str], tmp_path: Path, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "voicebot", *args], stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, env=voicebot_env(tmp_path, **env), cwd=tmp_path,
        stdin=subprocess.DEVNULL, preexec_fn=_default_sigint,
    )


def _default_sigint() -> None:
    """A test run in the background of a script inherits an ignored SIGINT: undo that, so
    the Ctrl-C cases test the program, not the shell."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def assert_one_line_error(result: subprocess.CompletedProcess[str], code: int,
                          *fragments: str) -> str:
    """Exit `code`, no traceback, and one `voicebot: error:` line holding every fragment."""
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == code, (result.returncode, result.stderr[-2000:])
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("voicebot: error:")]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def write_config(tmp_path: Path, base_url: str, **llm: object) -> Path:
    """The default config with the fast stand-ins: espeak TTS, the scripted LLM server."""
    options = {"timeout_s": 3, "stall_timeout_s": 1, **llm}
    llm_yaml = "".join(f"\n  {k}: {v}" for k, v in options.items())
    path = tmp_path / "fast.yaml"
    path.write_text(
        f"extends: {DEFAULT_CONFIG}\n"
        f"llm:\n  backend: openai\n  base_url: {base_url}{llm_yaml}\n"
        "tts:\n  backend: espeak\n"
        "conversation:\n  speculative_reply: false\n",
        encoding="utf-8",
    )
    return path


def speak(text: str) -> np.ndarray:
    """`text` spoken by espeak at 16 kHz (near-instant)."""
    from voicebot import registry
    from voicebot.audio.resample import resample

    tts = registry.create("tts", "espeak", registry.params_class("tts", "espeak")())
    audio = np.concatenate(list(tts.synthesize(text)))
    return resample(audio, tts.sample_rate, RATE)


@pytest.fixture(scope="session")
def questions_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two spoken questions, 6 s apart (room for each short reply), at 16 kHz."""
    import soundfile as sf

    pad, gap = np.zeros(RATE // 2, np.float32), np.zeros(6 * RATE, np.float32)
    first, second = (speak(q) for q in QUESTIONS)
    path = tmp_path_factory.mktemp("questions") / "questions.wav"
    sf.write(path, np.concatenate([pad, first, gap, second, pad]), RATE)
    return path


@pytest.fixture
def llm_server(request: pytest.FixtureRequest) -> Iterator[ScriptedLlmServer]:
    """A scripted server; parametrize indirectly with its mode (default "ok")."""
    mode = getattr(request, "param", "ok")
    server = ScriptedLlmServer(mode)
    yield server
    server.close()

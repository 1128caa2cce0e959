"""Ctrl-C at every stage: while a model loads (ends at once), mid-replay (the finished
turns are in the log), mid-reply (the cut turn is logged `interrupted` with what the LLM
had said), and a second Ctrl-C always ends the process."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.reliability.conftest import start_voicebot, write_config
from tests.reliability.llm_server import ScriptedLlmServer
from voicebot.metrics import read_log


def wait_for(proc: subprocess.Popen[str], text: str, timeout: float = 90) -> str:
    """Read the process's output until `text` appears; returns what was read."""
    assert proc.stdout is not None
    seen = ""
    deadline = time.monotonic() + timeout
    while text not in seen:
        char = proc.stdout.read(1)  # "bot: " has no newline until the reply ends
        if not char:
            pytest.fail(f"ended before {text!r}: {seen[-2000:]}")
        seen += char
        assert time.monotonic() < deadline, seen
    return seen


def interrupt(proc: subprocess.Popen[str], timeout: float = 20) -> tuple[int, str, float]:
    began = time.monotonic()
    proc.send_signal(signal.SIGINT)
    rest, _ = proc.communicate(timeout=timeout)
    return proc.returncode, rest, time.monotonic() - began


@pytest.mark.slow
def test_ctrl_c_while_the_llm_loads_ends_at_once(tmp_path: Path) -> None:
    # the real llama.cpp load (the case that hung): default config, smallest model
    proc = start_voicebot(["chat", "-m", "hi", "-o", str(tmp_path / "r.wav")], tmp_path)
    wait_for(proc, "Loading LLM")
    code, rest, took = interrupt(proc)
    assert code in (130, -signal.SIGINT), rest
    assert "Traceback" not in rest
    assert took < 5, f"took {took:.1f} s to stop"


@pytest.fixture(scope="module")
def question_then_silence(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One question, then 30 s of silence: Ctrl-C lands mid-replay after the first turn
    however slow a shared CPU makes that turn."""
    import numpy as np
    import soundfile as sf

    from tests.reliability.conftest import QUESTIONS, RATE, speak

    pad, tail = np.zeros(RATE // 2, np.float32), np.zeros(30 * RATE, np.float32)
    path = tmp_path_factory.mktemp("then-silence") / "question.wav"
    sf.write(path, np.concatenate([pad, speak(QUESTIONS[0]), tail]), RATE)
    return path


def test_ctrl_c_mid_replay_keeps_the_finished_turns(
    tmp_path: Path, question_then_silence: Path
) -> None:
    server = ScriptedLlmServer("ok")
    log = tmp_path / "s.jsonl"
    try:
        config = write_config(tmp_path, server.base_url)
        proc = start_voicebot(["talk", "--config", str(config), "-i",
                               str(question_then_silence), "-o", str(tmp_path / "r.wav"),
                               "--log", str(log)], tmp_path)
        wait_for(proc, "── turn 1")
        code, rest, took = interrupt(proc)
    finally:
        server.close()
    assert code == 130, rest
    assert "Traceback" not in rest and "Stopped." in rest
    assert took < 5
    assert [t["status"] for t in read_log(log)] == ["ok"]
    assert (tmp_path / "r.wav").stat().st_size > 44  # the reply audio so far was written


def test_ctrl_c_mid_reply_logs_the_partial_reply(tmp_path: Path, questions_wav: Path) -> None:
    server = ScriptedLlmServer("slow", token_s=1.0)
    log = tmp_path / "s.jsonl"
    try:
        config = write_config(tmp_path, server.base_url, stall_timeout_s=5)
        proc = start_voicebot(["talk", "--config", str(config), "-i", str(questions_wav),
                               "-o", str(tmp_path / "r.wav"), "--log", str(log)], tmp_path)
        wait_for(proc, "bot:")
        code, rest, _ = interrupt(proc)
    finally:
        server.close()
    assert code == 130, rest
    turns = read_log(log)
    assert [t["status"] for t in turns] == ["interrupted"]
    assert turns[0]["error"] == "stopped by Ctrl-C"
    assert turns[0]["partial_reply"].startswith("The capital")


def test_after_the_first_ctrl_c_the_second_one_is_not_caught() -> None:
    from voicebot.cli import _on_sigint

    previous = signal.getsignal(signal.SIGINT)
    try:
        with pytest.raises(KeyboardInterrupt):
            _on_sigint(signal.SIGINT, None)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_DFL
    finally:
        signal.signal(signal.SIGINT, previous)

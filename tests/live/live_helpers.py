"""Helpers for the live tests: a voicebot subprocess on the private sound server, the session
log as it grows, a config with other audio devices."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]


def _default_sigint() -> None:
    """A child started from a background job inherits SIGINT ignored; Ctrl-C must work."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Voicebot:
    """`python -m voicebot ARGS` of this checkout, on the private sound server."""

    def __init__(self, args: list[str], env: dict[str, str], folder: Path) -> None:
        self.args = args
        self.stdout_path = folder / "stdout.txt"
        self.stderr_path = folder / "stderr.txt"
        env = {**env, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "voicebot", *args], cwd=folder, env=env,
                stdin=subprocess.DEVNULL, stdout=out, stderr=err, preexec_fn=_default_sigint)

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def wait_for(self, text: str, timeout_s: float) -> None:
        """Until `text` is on stderr (progress lines) or stdout (the view's notices); fails
        with the output if it exits."""
        deadline = time.monotonic() + timeout_s
        while text not in self.stderr + self.stdout:
            if self.process.poll() is not None:
                pytest.fail(f"voicebot {' '.join(self.args)} exited "
                            f"({self.process.returncode}) before {text!r}:\n{self.stderr}")
            if time.monotonic() > deadline:
                pytest.fail(f"no {text!r} after {timeout_s:.0f} s:\n{self.stderr}")
            time.sleep(0.1)

    def interrupt(self, timeout_s: float = 30.0) -> int:
        """Ctrl-C, then the exit status (killed and failed when it does not exit)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        return self.wait(timeout_s)

    def wait(self, timeout_s: float) -> int:
        try:
            return self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"voicebot {' '.join(self.args)} did not exit within "
                        f"{timeout_s:.0f} s:\n{self.stderr[-3000:]}")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def wait_for_log(path: Path, turns: int, timeout_s: float, bot: Voicebot) -> list[dict[str, Any]]:
    """The session log once it holds `turns` turns (or whatever it holds at the timeout or
    when the process exits)."""
    deadline = time.monotonic() + timeout_s
    while True:
        rows = read_rows(path)
        if len(rows) >= turns or time.monotonic() > deadline or bot.process.poll() is not None:
            return rows
        time.sleep(0.2)


def read_rows(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def config_with(tmp_path: Path, **audio: str) -> Path:
    """A config that extends the default one with `audio:` settings."""
    path = tmp_path / "config.yaml"
    lines = [f"extends: {REPO / 'configs' / 'default.yaml'}", "audio:"]
    lines += [f"  {key}: {value}" for key, value in audio.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def wait_until(t: float) -> None:
    time.sleep(max(0.0, t - time.monotonic()))

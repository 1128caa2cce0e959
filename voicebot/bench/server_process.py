"""The servers bench serve starts as a user would (llama.cpp's server, `voicebot serve`):
subprocesses whose address is read from their output, their output copied to a log."""

from __future__ import annotations

import re
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


class ServerProcess:
    """A server subprocess whose address is read from its output."""

    def __init__(self, proc: subprocess.Popen[str], address: str) -> None:
        self.proc = proc
        self.address = address

    @classmethod
    def start(cls, command: list[str], log: Path, find: Any, timeout: float = 120.0
              ) -> ServerProcess:
        from voicebot.errors import VoicebotError

        log_file = log.open("w", encoding="utf-8")
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, cwd=REPO)
        assert proc.stdout is not None
        deadline = time.monotonic() + timeout
        for line in proc.stdout:
            log_file.write(line)
            address = find(line)
            if address:
                threading.Thread(target=copy_output, args=(proc, log_file), daemon=True).start()
                return cls(proc, address)
            if time.monotonic() > deadline:
                break
        proc.kill()
        raise VoicebotError(f"{command[1]} did not start; see {log}")

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def copy_output(proc: subprocess.Popen[str], log_file: Any) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        log_file.write(line)
        log_file.flush()
    log_file.close()


def first_http_line(line: str) -> str | None:
    line = line.strip()
    return line if line.startswith("http://") else None


def serving_url(line: str) -> str | None:
    match = re.search(r"(ws://\S+/ws)", line)
    return match.group(1) if match else None

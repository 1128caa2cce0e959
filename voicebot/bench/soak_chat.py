"""`voicebot bench soak --chat`: one `voicebot chat -o` process fed typed questions one at a
time, measured from outside: after each reply (its timing line on stderr) the child's RSS,
threads and open descriptors are read from /proc. No ASR is involved, so growth here is on
the LLM -> sentences -> TTS path. Target (issue 23): RSS growth from reply 10 to reply 100
within 40 MB.
"""

from __future__ import annotations

import json
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REPLY_TIMEOUT_S = 120.0
LOAD_TIMEOUT_S = 600.0
RSS_GROWTH_TARGET_MB = 40.0
BASE_REPLY = 10
_TIMING = re.compile(r"LLM first token (\d+) ms .* total (\d+) ms")


@dataclass
class ChatReply:
    index: int  # from 1
    question: str
    status: str  # ok | failed | timeout
    ttft_s: float | None
    total_s: float | None
    rss_mb: float | None
    threads: int | None
    fds: int | None
    error: str = ""


def parse_timing(line: str) -> tuple[float, float] | None:
    """(LLM first token, total) in seconds from chat's per-reply timing line."""
    match = _TIMING.search(line)
    return (int(match[1]) / 1000, int(match[2]) / 1000) if match else None


class ChatChild:
    """`voicebot chat -o WAV` (`command`) on a pipe: `ask` writes one line and waits for
    its timing line (or its error line) on stderr."""

    def __init__(self, command: list[str], out: Path) -> None:
        self._stdout = (out / "chat-transcript.txt").open("w", encoding="utf-8")
        self._stderr_log = (out / "chat-stderr.log").open("w", encoding="utf-8")
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=self._stdout,
                                     stderr=subprocess.PIPE, text=True, bufsize=1)
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True, name="chat-stderr")
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._stderr_log.write(line)
            self._stderr_log.flush()
            self._lines.put(line)
        self._lines.put(None)

    def ask(self, text: str, timeout: float) -> tuple[str, tuple[float, float] | None, str]:
        """(status, (ttft, total) or None, error) for one typed question."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                return "failed", None, f"chat exited with {self.proc.wait()}"
            if line.startswith("voicebot: error:"):
                return "failed", None, line.strip()
            timing = parse_timing(line)
            if timing is not None:
                return "ok", timing, ""
        return "timeout", None, f"no reply within {timeout:g} s"

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()  # end of input: chat finishes its WAV and exits
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self._stdout.close()
        self._reader.join(timeout=5)  # stderr ends with the process
        self._stderr_log.close()


def run_chat_soak(config: Path | None, questions: Sequence[str], out: Path) -> list[ChatReply]:
    command = [sys.executable, "-m", "voicebot", "chat", "-o", str(out / "chat.wav")]
    if config is not None:
        command += ["--config", str(config)]
    return ask_all(ChatChild(command, out), questions)


def ask_all(child: ChatChild, questions: Sequence[str]) -> list[ChatReply]:
    from voicebot.bench.memory import process_counts, process_rss_mb
    from voicebot.progress import say

    replies: list[ChatReply] = []
    try:
        for index, question in enumerate(questions, 1):
            timeout = LOAD_TIMEOUT_S if index == 1 else REPLY_TIMEOUT_S  # models load first
            status, timing, error = child.ask(question, timeout)
            counts = process_counts(child.proc.pid)
            rss = process_rss_mb(child.proc.pid)
            ttft, total = timing or (None, None)
            threads, fds = counts or (None, None)
            reply = ChatReply(index, question, status, ttft, total, rss, threads, fds, error)
            replies.append(reply)
            say(f"reply {index} {status}: "
                + (f"ttft {reply.ttft_s * 1000:.0f} ms, " if reply.ttft_s is not None else "")
                + (f"rss {rss:.0f} MB" if rss is not None else "chat gone")
                + (f" ({error})" if error else ""))
            if counts is None or status == "timeout" or child.proc.poll() is not None:
                break
    except KeyboardInterrupt:
        say("Stopped: reporting the replies so far")
    finally:
        child.close()
    return replies


def chat_verdicts(replies: Sequence[ChatReply]) -> list[str]:
    ok = sum(r.status == "ok" for r in replies)
    lines = [f"Replies: {ok}/{len(replies)} ok."]
    measured = [r for r in replies if r.rss_mb is not None]
    if len(measured) <= BASE_REPLY:
        return [*lines, f"Growth needs more than {BASE_REPLY} replies."]
    base, last = measured[BASE_REPLY - 1], measured[-1]
    assert base.rss_mb is not None and last.rss_mb is not None
    growth = last.rss_mb - base.rss_mb
    met = "met" if growth <= RSS_GROWTH_TARGET_MB else "NOT met"
    lines.append(f"RSS reply {base.index} -> {last.index}: {base.rss_mb:.0f} -> "
                 f"{last.rss_mb:.0f} MB ({growth:+.0f} MB; target <= "
                 f"{RSS_GROWTH_TARGET_MB:g} MB: {met}).")
    return lines


def chat_report_lines(replies: Sequence[ChatReply], out: Path) -> list[str]:
    """The chat section of the soak report; writes chat.jsonl and chat.png beside it."""
    with (out / "chat.jsonl").open("w", encoding="utf-8") as f:
        for reply in replies:
            f.write(json.dumps(asdict(reply), ensure_ascii=False) + "\n")
    _plot(replies, out / "chat.png")
    marks = sorted({1, BASE_REPLY, *(round(len(replies) * q / 4) for q in (1, 2, 3)),
                    len(replies)} - {0})
    rows = [replies[n - 1] for n in marks if n <= len(replies)]
    return [
        "# voicebot bench soak --chat",
        "",
        f"One `voicebot chat -o chat.wav` process fed {len(replies)} typed questions, one "
        "after the other (each once the previous reply's timing line appeared); its RSS, "
        "threads and open descriptors read from /proc after each reply, from outside.",
        "",
        "| reply | status | LLM first token | RSS (MB) | threads | open descriptors |",
        "|---:|---|---:|---:|---:|---:|",
        *(f"| {r.index} | {r.status} | {_ms(r.ttft_s)} | {_mb(r.rss_mb)} | "
          f"{r.threads if r.threads is not None else '—'} | "
          f"{r.fds if r.fds is not None else '—'} |" for r in rows),
        "",
        *(f"- {line}" for line in chat_verdicts(replies)),
        "",
        "![chat RSS per reply](chat.png)",
        "",
    ]


def _ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1000:.0f} ms"


def _mb(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


def _plot(replies: Sequence[ChatReply], path: Path) -> None:
    from voicebot.bench.memory_plot import rss_with_right_axis

    timed = [(r.index, r.ttft_s * 1000) for r in replies if r.ttft_s is not None]

    def ttft(ax: Any) -> None:
        ax.plot([i for i, _ in timed], [t for _, t in timed], ".", color="tab:orange",
                label="LLM first token (ms)")
        ax.set_ylabel("LLM first token (ms)")
        ax.set_ylim(bottom=0)

    rss_with_right_axis([(r.index, r.rss_mb) for r in replies if r.rss_mb is not None], path,
                        xlabel="reply", rss_label="voicebot chat RSS (MB)", draw_right=ttft,
                        title="one voicebot chat, typed questions one after another",
                        legend_loc="lower right")

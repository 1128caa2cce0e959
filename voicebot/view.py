"""The terminal view of a conversation: live transcript, streamed reply, per-turn table.

On a TTY the partial transcript is redrawn in place with the unconfirmed tail dimmed; in a
pipe every line is printed once, plainly, so logs and CI output stay readable.
"""

from __future__ import annotations

import sys
from typing import Protocol, TextIO

from voicebot.metrics import TurnRecord, format_turn_table


class ConversationView(Protocol):
    """What the user sees; the terminal view and test recorders implement it."""

    def partial(self, committed: str, partial: str) -> None: ...
    def user_said(self, text: str) -> None: ...
    def reply_text(self, delta: str) -> None: ...
    def turn_done(self, turn: TurnRecord) -> None: ...
    def notice(self, message: str) -> None: ...


class QuietView:
    """Shows nothing: for benchmarks, which read the turn records instead."""

    def partial(self, committed: str, partial: str) -> None:
        pass

    def user_said(self, text: str) -> None:
        pass

    def reply_text(self, delta: str) -> None:
        pass

    def turn_done(self, turn: TurnRecord) -> None:
        pass

    def notice(self, message: str) -> None:
        pass


DIM = "\033[2m"
BOLD = "\033[1m"
RESET = "\033[0m"
CLEAR_LINE = "\r\033[K"


class TerminalView:
    def __init__(self, stream: TextIO | None = None, show_table: bool = True) -> None:
        self.out = stream or sys.stdout
        self.tty = self.out.isatty()
        self.show_table = show_table
        self._replying = False
        self._partial_shown = False

    def partial(self, committed: str, partial: str) -> None:
        if not self.tty:
            return
        width = 100
        text = committed[-width:]
        tail = partial[: max(0, width - len(text))]
        self.out.write(f"{CLEAR_LINE}🎤 {text} {DIM}{tail}{RESET}")
        self.out.flush()
        self._partial_shown = True

    def user_said(self, text: str) -> None:
        if self._replying:  # never "bot: I'myou: …" on one line
            self.out.write("\n")
            self._replying = False
        prefix = CLEAR_LINE if self.tty and self._partial_shown else ""
        self._partial_shown = False
        label = f"{BOLD}you:{RESET}" if self.tty else "you:"
        self.out.write(f"{prefix}{label} {text}\n")
        self.out.flush()

    def reply_text(self, delta: str) -> None:
        if not self._replying:
            self._replying = True
            self.out.write(f"{BOLD}bot:{RESET} " if self.tty else "bot: ")
        self.out.write(delta)
        self.out.flush()

    def turn_done(self, turn: TurnRecord) -> None:
        if self._replying:
            self.out.write("\n")
            self._replying = False
        if self.show_table:
            self.out.write(format_turn_table(turn) + "\n")
        self.out.flush()

    def notice(self, message: str) -> None:
        if self._replying:
            self.out.write("\n")
            self._replying = False
        prefix = CLEAR_LINE if self.tty and self._partial_shown else ""
        self._partial_shown = False
        self.out.write(f"{prefix}{DIM if self.tty else ''}{message}{RESET if self.tty else ''}\n")
        self.out.flush()

"""`voicebot` command line: a thin dispatcher over voicebot/commands/*.py.

Each command module exposes `HELP` (one line), `register(parser)` and `run(args) -> int`,
and imports nothing heavy at module level, so `--help` answers at once.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from types import ModuleType

from voicebot import __version__
from voicebot.errors import VoicebotError
from voicebot.heap import limit_arenas

COMMANDS = ("talk", "transcribe", "chat", "say", "serve", "bench", "devices")


def available_modules(package: str, names: Sequence[str]) -> list[tuple[str, ModuleType]]:
    """Import the modules `package.name` that exist (a command lands with its module)."""
    found = []
    for name in names:
        qualified = f"{package}.{name}"
        if importlib.util.find_spec(qualified) is not None:
            found.append((name, importlib.import_module(qualified)))
    return found


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="voicebot",
        description="A local, streaming voice assistant with per-stage latency reports.",
    )
    parser.add_argument("--version", action="version", version=f"voicebot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in available_modules("voicebot.commands", COMMANDS):
        command = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.register(command)
        command.set_defaults(handler=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    limit_arenas()  # before any thread starts (voicebot/heap.py)
    with _second_ctrl_c_exits():
        try:
            return int(handler(args) or 0)
        except VoicebotError as exc:
            print(f"voicebot: error: {exc}", file=sys.stderr)
            return exc.exit_code
        except KeyboardInterrupt:
            print("\nvoicebot: interrupted", file=sys.stderr)
            return 130
        except BrokenPipeError:
            return 0


def _on_sigint(signum: int, frame: object) -> None:
    """The first Ctrl-C stops gracefully (KeyboardInterrupt: the finished turns are logged);
    from then on Ctrl-C has its default action, so a second one ends the process even when
    the main thread is blocked in C code."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    raise KeyboardInterrupt


@contextlib.contextmanager
def _second_ctrl_c_exits() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is signal.SIG_IGN:  # e.g. `voicebot … &` in a script
        yield
        return
    previous = signal.signal(signal.SIGINT, _on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)

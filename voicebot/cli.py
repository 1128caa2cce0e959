"""`voicebot` command line: a thin dispatcher over voicebot/commands/*.py.

Each command module exposes `HELP` (one line), `register(parser)` and `run(args) -> int`,
and imports nothing heavy at module level, so `--help` answers at once.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from collections.abc import Sequence
from types import ModuleType

from voicebot import __version__
from voicebot.errors import VoicebotError

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


if __name__ == "__main__":
    raise SystemExit(main())

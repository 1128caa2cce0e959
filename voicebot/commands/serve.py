"""`voicebot serve`: talk from a browser (or any WebSocket client), many sessions at once."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

HELP = "serve the assistant over WebSockets: a browser page at /, many conversations at once"


def register(parser: argparse.ArgumentParser) -> None:
    from voicebot.serve.protocol import Limits

    defaults = Limits()
    parser.add_argument("--config", type=Path, help="YAML config (default: configs/default.yaml;"
                        " configs/serve.yaml puts the LLM on an OpenAI-compatible server)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1; 0.0.0.0 = every "
                        "interface: browsers allow the microphone only on localhost or https)")
    parser.add_argument("--port", type=int, default=8765, help="default 8765; 0 = any free port")
    parser.add_argument("--max-sessions", type=int, default=defaults.max_sessions,
                        help=f"concurrent conversations (default {defaults.max_sessions}); "
                        "more are refused with a clear error")
    parser.add_argument("--max-message-kb", type=int,
                        default=defaults.max_message_bytes // 1024,
                        help="larger messages are dropped with an error event "
                        f"(default {defaults.max_message_bytes // 1024})")
    parser.add_argument("--idle-timeout", type=float, default=defaults.idle_timeout_s,
                        help="close a connection that sends nothing for this many seconds "
                        f"(default {defaults.idle_timeout_s:g})")
    parser.add_argument("--log-dir", type=Path,
                        help="one JSONL log per session (default: conversation.log_dir, else "
                        "<data dir>/voicebot/sessions)")


def run(args: argparse.Namespace) -> int:
    import asyncio

    from voicebot.config import load_config
    from voicebot.engines import load_engines
    from voicebot.errors import VoicebotError
    from voicebot.serve.protocol import Limits

    limits = Limits(max_sessions=args.max_sessions,
                    max_message_bytes=args.max_message_kb * 1024,
                    idle_timeout_s=args.idle_timeout)
    try:
        limits.check()
    except ValueError as exc:
        raise VoicebotError(str(exc)) from None
    cfg = load_config(args.config)
    engines = load_engines(cfg, sessions="many")
    try:
        asyncio.run(_serve(engines, cfg, limits, args))
    except KeyboardInterrupt:
        pass
    finally:
        engines.close()
    return 0


async def _serve(engines: Any, cfg: Any, limits: Any, args: argparse.Namespace) -> None:
    import asyncio
    import logging
    import signal

    from voicebot.errors import VoicebotError
    from voicebot.progress import say
    from voicebot.serve.server import WS_PATH, start_server, stop_server

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("voicebot.serve.websockets").setLevel(logging.WARNING)
    try:
        running = await start_server(engines, cfg, limits, args.host, args.port,
                                     _log_dir(args, cfg))
    except OSError as exc:
        raise VoicebotError(f"cannot listen on {args.host}:{args.port}: "
                            f"{exc.strerror or exc}") from None
    host = "127.0.0.1" if args.host in ("0.0.0.0", "") else args.host
    say(f"Serving on http://{host}:{running.port}/ (page) and "
        f"ws://{host}:{running.port}{WS_PATH} (protocol: see README); Ctrl-C to stop")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    say("Stopping: closing the sessions…")
    await stop_server(running)


def _log_dir(args: argparse.Namespace, cfg: Any) -> Path:
    from voicebot.assets import data_dir

    if args.log_dir is not None:
        return Path(args.log_dir)
    if cfg.conversation.log_dir:
        return Path(cfg.conversation.log_dir)
    return data_dir() / "sessions"

"""The server on a background thread with its own event loop: for tests, benchmarks and
programs that embed voicebot."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from voicebot.engines import Engines
from voicebot.serve.protocol import Limits
from voicebot.serve.server import RunningServer, ServerState, start_server, stop_server


class BackgroundServer:
    """`with BackgroundServer(engines, cfg) as server:` serves on 127.0.0.1 (a free port
    unless given) until the block ends; `server.url` is the WebSocket address."""

    def __init__(self, engines: Engines, cfg: Any, limits: Limits | None = None,
                 host: str = "127.0.0.1", port: int = 0, log_dir: Path | None = None) -> None:
        self.engines = engines
        self.cfg = cfg
        self.limits = limits or Limits()
        self.host = host
        self.port = port
        self.log_dir = log_dir
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="voicebot-server",
                                        daemon=True)
        self._running: RunningServer | None = None

    def start(self) -> BackgroundServer:
        self._thread.start()
        self._running = self._call(start_server(self.engines, self.cfg, self.limits, self.host,
                                                self.port, self.log_dir)).result(30)
        self.port = self._running.port
        return self

    def _call(self, coro: Any) -> Future[Any]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    @property
    def state(self) -> ServerState:
        assert self._running is not None
        return self._running.state

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}/ws"

    def stop(self) -> None:
        if self._running is not None:
            self._call(stop_server(self._running)).result(30)
            self._running = None
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

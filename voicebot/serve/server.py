"""`voicebot serve`: the browser page at `/` and one conversation per WebSocket at `/ws`.

Built on `websockets` (asyncio): a small, well-kept, dependency-free library that speaks
the protocol and serves the page's few static files from its handshake hook, and whose
sync client the test, bench and client script use too.

The event loop only moves bytes: each message is checked and decoded (microseconds) and
handed to the session's worker thread; the session's messages come back through an asyncio
queue drained by a sender task. A client that misbehaves gets an `error` event; one that
goes away has its session stopped, its reply cancelled and its slot freed.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import logging
import mimetypes
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any

from voicebot.engines import Engines
from voicebot.serve.protocol import (
    AudioPacer,
    Limits,
    ProtocolError,
    check_size,
    decode_pcm,
    event,
    parse_text,
    ready_event,
)
from voicebot.serve.session import Session

log = logging.getLogger("voicebot.serve")

STATIC_DIR = Path(__file__).resolve().parent / "static"
PAGES = {"/": "index.html", "/index.html": "index.html", "/app.js": "app.js",
         "/capture-worklet.js": "capture-worklet.js"}
WS_PATH = "/ws"
CLOSE_TRY_AGAIN = 1013  # "try again later": the server is full
CLOSE_POLICY = 1008


@dataclass
class ServerState:
    """What the server holds across connections (inspected by the tests)."""

    engines: Engines
    cfg: Any
    limits: Limits
    log_dir: Path | None
    sessions: dict[str, Session] = field(default_factory=dict)
    refused: int = 0
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def new_id(self) -> str:
        return f"{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}-{next(self._ids)}"

    def log_path(self, session_id: str) -> Path | None:
        return None if self.log_dir is None else self.log_dir / f"serve-{session_id}.jsonl"


def process_request(connection: Any, request: Any) -> Any:
    """The page's static files; `/ws` goes on to the WebSocket handshake; else 404."""
    from websockets.datastructures import Headers
    from websockets.http11 import Response

    path = request.path.split("?", 1)[0]
    if path == WS_PATH:
        return None
    name = PAGES.get(path)
    if name is None:
        return connection.respond(HTTPStatus.NOT_FOUND, f"not found: {path}; the page is at /, "
                                  f"the WebSocket at {WS_PATH}\n")
    body = (STATIC_DIR / name).read_bytes()
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    headers = Headers([("Content-Type", f"{kind}; charset=utf-8"),
                       ("Content-Length", str(len(body))), ("Cache-Control", "no-cache")])
    return Response(HTTPStatus.OK, "OK", headers, body)


async def handle(state: ServerState, ws: Any) -> None:
    """One connection: refuse it when full, else run its conversation until either side
    ends it."""
    if len(state.sessions) >= state.limits.max_sessions:
        state.refused += 1
        await ws.send(event("error", message=(
            f"server full: {state.limits.max_sessions} conversations are running; "
            "try again later")))
        await ws.close(CLOSE_TRY_AGAIN, "server full")
        return
    loop = asyncio.get_running_loop()
    outbox: asyncio.Queue[bytes | str | None] = asyncio.Queue()
    done = asyncio.Event()

    def post(message: bytes | str) -> None:  # from the session's thread
        loop.call_soon_threadsafe(outbox.put_nowait, message)

    def finished() -> None:  # from the session's thread, once
        loop.call_soon_threadsafe(_finished, outbox, done)

    session_id = state.new_id()
    session = Session(session_id, state.engines, state.cfg, post, finished,
                      state.log_path(session_id))
    state.sessions[session_id] = session
    log.info("session %s opened (%d running)", session_id, len(state.sessions))
    sender = asyncio.create_task(_send_all(ws, outbox))
    try:
        await ws.send(ready_event(session_id, state.engines.reply_sample_rate, state.limits))
        await _receive(ws, session, outbox, state.limits)
    finally:
        session.abort()  # no-op when the session already finished
        await done.wait()
        await sender
        del state.sessions[session_id]
        with contextlib.suppress(Exception):
            await ws.close()
        log.info("session %s closed (%d running)", session_id, len(state.sessions))


def _finished(outbox: asyncio.Queue[bytes | str | None], done: asyncio.Event) -> None:
    outbox.put_nowait(None)
    done.set()


async def _send_all(ws: Any, outbox: asyncio.Queue[bytes | str | None]) -> None:
    """Drain the session's messages to the socket until the session is over, then close
    normally (a client that said "end" gets everything, then code 1000)."""
    from websockets.exceptions import ConnectionClosed

    open_ = True
    while (message := await outbox.get()) is not None:
        if open_:
            try:
                await ws.send(message)
            except ConnectionClosed:
                open_ = False  # keep draining until the session stops
    if open_:
        with contextlib.suppress(ConnectionClosed):
            await ws.close(1000, "session finished")


async def _receive(
    ws: Any, session: Session, outbox: asyncio.Queue[bytes | str | None], limits: Limits
) -> None:
    from websockets.exceptions import ConnectionClosed

    pacer = AudioPacer(limits.max_audio_ahead_s)
    while True:
        try:
            message = await asyncio.wait_for(ws.recv(), limits.idle_timeout_s)
        except asyncio.TimeoutError:  # recv() is safe to cancel: nothing is lost
            outbox.put_nowait(event("error", message=(
                f"idle for {limits.idle_timeout_s:g} s: closing the session")))
            return
        except ConnectionClosed:
            return
        try:
            if _take(message, session, limits, pacer):
                session.end()
                await _drain_until_closed(ws)
                return
        except ProtocolError as exc:
            outbox.put_nowait(event("error", message=str(exc)))


def _take(message: bytes | str, session: Session, limits: Limits, pacer: AudioPacer) -> bool:
    """Hand one client message to the session; True when the client said "end"."""
    check_size(len(message), limits)
    if isinstance(message, str):
        kind = parse_text(message)["type"]
        if kind == "live":
            session.declare_live()
        return kind == "end"
    samples = decode_pcm(message)
    pacer.admit(len(samples), time.monotonic())
    session.feed(samples)
    return False


async def _drain_until_closed(ws: Any) -> None:
    """After "end": ignore whatever else arrives until the session closes the socket."""
    from websockets.exceptions import ConnectionClosed

    with contextlib.suppress(ConnectionClosed):
        async for _ in ws:
            pass


@dataclass
class RunningServer:
    state: ServerState
    server: Any
    port: int


async def start_server(
    engines: Engines, cfg: Any, limits: Limits, host: str, port: int, log_dir: Path | None
) -> RunningServer:
    from websockets.asyncio.server import serve

    limits.check()
    state = ServerState(engines, cfg, limits, log_dir)

    async def handler(ws: Any) -> None:
        await handle(state, ws)

    server = await serve(
        handler, host, port, process_request=process_request,
        max_size=limits.hard_max_message_bytes, ping_interval=20, ping_timeout=20,
        logger=logging.getLogger("voicebot.serve.websockets"),
    )
    bound = next(iter(server.sockets)).getsockname()[1]
    return RunningServer(state, server, int(bound))


async def stop_server(running: RunningServer, grace_s: float = 5.0) -> None:
    """Stop accepting, stop every session (cancelling its reply) and let it close its
    socket, then close whatever is left (idle page loads) at once."""
    state = running.state
    for session in list(state.sessions.values()):
        session.abort()
    deadline = asyncio.get_running_loop().time() + grace_s
    while state.sessions and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.02)
    running.server.close()
    await running.server.wait_closed()

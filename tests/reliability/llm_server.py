"""A scripted OpenAI-compatible server on 127.0.0.1 for fault tests: it answers, breaks
the stream off, stalls, never answers, or errors, as the test asks."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REPLY = ["The capital", " of France", " is Paris.", " It is", " a lovely city."]


class ScriptedLlmServer:
    """`mode`: ok | close (two deltas, then the connection closes, no [DONE]) | stall (two
    deltas, then silence) | never (reads the request, never answers) | error (HTTP 500) |
    slow (ok, `token_s` between deltas)."""

    def __init__(self, mode: str | list[str] = "ok", token_s: float = 0.0) -> None:
        """A list of modes scripts successive requests (the last one repeats)."""
        self.modes = [mode] if isinstance(mode, str) else list(mode)
        self.token_s = token_s
        self.requests: list[dict] = []
        self._stop = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                server.requests.append(json.loads(body))
                server.answer(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    @property
    def mode(self) -> str:
        return self.modes[min(len(self.requests), len(self.modes)) - 1]

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        if self.mode == "never":
            self._stop.wait(60)
            return
        if self.mode == "error":
            body = json.dumps({"error": {"message": "model is overloaded"}}).encode()
            handler.send_response(500)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
            return
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Connection", "close")
        handler.end_headers()
        deltas = REPLY[:2] if self.mode in ("close", "stall") else REPLY
        for text in deltas:
            chunk = {"choices": [{"delta": {"content": text}, "finish_reason": None}]}
            handler.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            handler.wfile.flush()
            if self._stop.wait(self.token_s):
                return
        if self.mode == "stall":
            self._stop.wait(60)
            return
        if self.mode == "close":
            handler.connection.shutdown(socket.SHUT_RDWR)
            return
        handler.wfile.write(b"data: [DONE]\n\n")
        handler.wfile.flush()

    def close(self) -> None:
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def refused_url() -> str:
    """A loopback URL where nothing listens (the port was just free)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    time.sleep(0.01)
    return f"http://127.0.0.1:{port}/v1"

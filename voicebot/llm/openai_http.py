"""OpenAI-compatible HTTP backend (registry name "openai"): any server with a streaming
`POST {base_url}/chat/completions` (llama.cpp's llama-server, Ollama, vLLM, LM Studio, ...).

This is how voicebot scales past one machine: run the model on a GPU box, point
`llm.base_url` at it. Only the standard library is used (http.client, Server-Sent Events
parsed by hand), so the backend adds no dependency.

The connection, the request and the reading all happen on a worker thread that hands
`data:` payloads over a queue; the generator polls the queue, so cancel (or closing the
generator) takes effect within ~20 ms even while the server is still thinking: it shuts
the socket down, which ends the worker's blocking read, and joins the worker.

A reply counts as complete only when the stream ends with `data: [DONE]` (or a choice's
`finish_reason`): a connection that closes early, or that stalls for `stall_timeout_s` once
text has begun, raises `TruncatedReply`, so the turn is logged `truncated` with the partial
text instead of passing a half sentence off as the answer.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import queue
import socket
import threading
import urllib.parse
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from voicebot.config import ParamError
from voicebot.errors import BackendError, TruncatedReply
from voicebot.events import ChatMessage
from voicebot.llm.base import check_sampling
from voicebot.llm.chunks import chunk_content
from voicebot.llm.handoff import Done, Handoff, drain

ERROR_BODY_LIMIT = 2000


@dataclass
class OpenAIParams:
    base_url: str = "http://127.0.0.1:8080/v1"
    model: str = "default"
    api_key_env: str | None = "OPENAI_API_KEY"
    timeout_s: float = 30.0
    stall_timeout_s: float = 15.0  # silence allowed once the reply has begun
    temperature: float = 0.2
    top_p: float = 0.9
    max_tokens: int = 80

    def check(self) -> None:
        url = urllib.parse.urlsplit(self.base_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ParamError("base_url", self.base_url,
                             "must be an http:// or https:// URL, e.g. http://127.0.0.1:8080/v1")
        if not 0.1 <= self.timeout_s <= 600:
            raise ParamError("timeout_s", self.timeout_s, "must be between 0.1 and 600")
        if not 0.1 <= self.stall_timeout_s <= 600:
            raise ParamError("stall_timeout_s", self.stall_timeout_s,
                             "must be between 0.1 and 600")
        if not self.model:
            raise ParamError("model", self.model, "must name the served model (any text)")
        check_sampling(self)


class _Request:
    """One streaming request on its own connection, closable from another thread."""

    def __init__(
        self, base_url: str, body: bytes, headers: dict[str, str], timeout: float,
        stall_timeout: float | None = None,
    ):
        self.base_url = base_url
        url = urllib.parse.urlsplit(base_url)
        self.path = url.path.rstrip("/") + "/chat/completions"
        connection = (
            http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
        )
        self.conn = connection(url.hostname or "", url.port, timeout=timeout)
        self.body = body
        self.headers = headers
        self.timeout = timeout
        self.stall_timeout = stall_timeout or timeout
        self.started = False  # a data payload has arrived: timeouts are now stalls
        self.events: Handoff = queue.Queue()
        self._closed = threading.Event()
        self._sock: socket.socket | None = None

    def run(self) -> None:
        """Worker: connect, send, then queue each SSE `data:` payload."""
        try:
            self.conn.connect()
            self._sock = self.conn.sock
            if self._closed.is_set():
                return
            self.conn.request("POST", self.path, self.body, self.headers)
            response = self.conn.getresponse()
            if response.status != 200:
                raise self._http_error(response)
            for raw in response:
                if self._closed.is_set():
                    return
                line = raw.decode("utf-8", "replace").strip()
                if line.startswith("data:"):
                    if not self.started and self._sock is not None:
                        self.started = True
                        self._sock.settimeout(self.stall_timeout)
                    self.events.put(line[5:].strip())
        except BaseException as exc:
            if not self._closed.is_set():
                self.events.put(self._network_error(exc))
        finally:
            self.events.put(Done())

    def close(self) -> None:
        """Stop now: shut the socket down so a blocked read returns."""
        self._closed.set()
        sock = self._sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self.conn.close()

    def _http_error(self, response: http.client.HTTPResponse) -> BackendError:
        raw = response.read(ERROR_BODY_LIMIT).decode("utf-8", "replace")
        try:
            error = json.loads(raw).get("error", raw)
            message = error.get("message", error) if isinstance(error, dict) else error
        except (ValueError, AttributeError):
            message = raw
        detail = " ".join(str(message).split())[:300] or response.reason
        endpoint = self.base_url.rstrip("/") + "/chat/completions"
        return BackendError(f"{endpoint} answered HTTP {response.status}: {detail}")

    def _network_error(self, exc: BaseException) -> BaseException:
        if isinstance(exc, BackendError):
            return exc
        where = f"cannot reach {self.base_url}"
        if isinstance(exc, ConnectionRefusedError):
            return BackendError(f"{where}: connection refused — is the server running?")
        if isinstance(exc, TimeoutError) and self.started:
            return TruncatedReply(
                f"{self.base_url}: the reply stalled (nothing for {self.stall_timeout:g} s, "
                "stall_timeout_s)")
        if self.started and isinstance(exc, (OSError, http.client.HTTPException)):
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            return TruncatedReply(f"{self.base_url}: the stream broke off ({reason})")
        if isinstance(exc, TimeoutError):
            return BackendError(f"{where}: no answer within {self.timeout:g} s (timeout_s)")
        if isinstance(exc, socket.gaierror):
            return BackendError(f"{where}: unknown host")
        if isinstance(exc, (OSError, http.client.HTTPException)):
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            return BackendError(f"{where}: {reason}")
        return exc


class OpenAICompatibleLlm:
    """Streams chat replies from an OpenAI-compatible server."""

    Params = OpenAIParams

    def __init__(self, params: OpenAIParams) -> None:
        # Nothing to load: the server holds the model. Reachability is checked by the
        # first request, whose error says what to do.
        self.params = params

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        env = self.params.api_key_env
        key = os.environ.get(env) if env else None
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def _body(self, messages: Sequence[ChatMessage]) -> bytes:
        p = self.params
        return json.dumps({
            "model": p.model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "stream": True,
            "temperature": p.temperature,
            "top_p": p.top_p,
            "max_tokens": p.max_tokens,
        }).encode("utf-8")

    def stream(
        self, messages: Sequence[ChatMessage], *, cancel: threading.Event
    ) -> Iterator[str]:
        p = self.params
        request = _Request(
            p.base_url, self._body(messages), self._headers(), p.timeout_s, p.stall_timeout_s)
        return self._stream(request, cancel)

    def _stream(self, request: _Request, cancel: threading.Event) -> Iterator[str]:
        worker = threading.Thread(target=request.run, name="voicebot-openai-http", daemon=True)
        worker.start()
        produced = False
        try:
            for text in _deltas(request.events, cancel):
                produced = True
                yield text
            if not produced and not cancel.is_set():
                raise BackendError("the model returned an empty reply")
        finally:
            request.close()
            worker.join(self.params.timeout_s)

    def count_tokens(self, text: str) -> int:
        """An estimate (about four characters a token): the server's tokenizer is remote."""
        return max(1, (len(text) + 3) // 4)


def _deltas(events: Handoff, cancel: threading.Event) -> Iterator[str]:
    """Text deltas until `[DONE]`; a stream that ends without it raises TruncatedReply
    (a choice's `finish_reason` also counts as complete: some servers omit `[DONE]`)."""
    finished = False
    for item in drain(events, cancel):
        if isinstance(item, BaseException):
            raise item
        if item == "[DONE]":
            return
        texts, ended = _payload_texts(item)
        finished = finished or ended
        yield from texts
    if not finished and not cancel.is_set():
        raise TruncatedReply("the server closed the stream before the reply was complete "
                             "(no [DONE])")


def _payload_texts(payload: str) -> tuple[list[str], bool]:
    """The texts of one stream event, and whether it ends the reply (a finish_reason)."""
    try:
        chunk: Any = json.loads(payload)
    except ValueError:
        raise BackendError(f"the server sent a malformed stream event: {payload[:80]!r}") from None
    if not isinstance(chunk, dict):
        return [], False
    if chunk.get("error"):
        error = chunk["error"]
        message = error.get("message", error) if isinstance(error, dict) else error
        raise BackendError(f"the server reported an error: {message}")
    return chunk_content(chunk)

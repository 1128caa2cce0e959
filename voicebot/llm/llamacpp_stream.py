"""One streamed llama.cpp reply that can hand its cores to the TTS for a moment.

On a 2-core machine the LLM's threads and the TTS share the cores: a 3-6-word first chunk
took piper 0.128 s while llama.cpp (SmolLM2, 2 threads) went on generating beside it and
0.104 s with it paused (medians of 24, scripts/first_chunk_pause.py). The first chunk's
synthesis is on the critical path of every turn; the rest of the reply has the first
chunk's playing time (~1 s) to be ready. So `pause()` stops generation at the next token,
and when the consumer has taken the text generated so far, the stream continues the same
assistant message with a new request: llama.cpp prefills a final assistant message (it
continues it rather than starting a new one), and the prompt cache holds everything up to
it, so the continuation evaluates a token or two.

The engine calls back on the thread that asked, so each request runs on a worker thread that
hands the deltas over a queue.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from voicebot.errors import BackendError
from voicebot.llm.chunks import chunk_content
from voicebot.llm.handoff import POLL_S

JOIN_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class _End:
    """Put by a request's worker after its last delta."""

    request: int


Item = str | BaseException | _End


class LlamaCppStream(Iterator[str]):
    """Text deltas of one chat reply from a `xllamacpp.Server`, pausable (see module doc).

    Setting `cancel` or calling `close()` stops generation at the next token and joins the
    worker: no thread outlives the stream.
    """

    def __init__(self, server: Any, request: dict, cancel: threading.Event) -> None:
        self._server = server
        self._request = request
        self._cancel = cancel
        self._items: queue.Queue[Item] = queue.Queue()
        self._text = ""  # every delta the engine produced (written by the worker)
        self._tokens = 0
        self._ended = False  # the engine ended the reply itself (stop word, max_tokens)
        self._paused = False
        self._closed = False
        self._count = 0  # requests started; the current one is number _count
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self._start(request)

    # ---- control --------------------------------------------------------------------
    def pause(self) -> None:
        """Stop generating at the next token, and go on (with a new request) once the
        consumer has taken what was generated until then: the cores are free meanwhile."""
        if not self._ended and not self._closed:
            self._paused = True
            self._stop.set()

    def close(self) -> None:
        self._closed = True
        self._stop.set()
        if self._worker is not None:
            self._worker.join(JOIN_TIMEOUT_S)

    # ---- iteration ------------------------------------------------------------------
    def __next__(self) -> str:
        while True:
            if self._closed:
                raise StopIteration
            try:
                item = self._items.get(timeout=POLL_S)
            except queue.Empty:
                if self._cancel.is_set():
                    self.close()
                continue
            if self._cancel.is_set():
                self.close()
                raise StopIteration
            if isinstance(item, str):
                return item
            if isinstance(item, BaseException):
                self.close()
                if isinstance(item, BackendError):
                    raise item
                raise BackendError(f"llama.cpp failed: {item}") from item
            if item.request == self._count and not self._continue():
                self.close()
                raise StopIteration

    def _continue(self) -> bool:
        """After the current request ended: start the continuation if it was paused."""
        remaining = int(self._request.get("max_tokens") or 0) - self._tokens
        if not self._paused or self._ended or remaining <= 0:
            return False
        self._paused = False
        if self._worker is not None:
            self._worker.join(JOIN_TIMEOUT_S)
        messages = [*self._request["messages"], {"role": "assistant", "content": self._text}]
        self._start({**self._request, "messages": messages, "max_tokens": remaining})
        return True

    # ---- the worker -----------------------------------------------------------------
    def _start(self, request: dict) -> None:
        self._count += 1
        number, stop, items = self._count, threading.Event(), self._items
        self._stop = stop
        cancel = self._cancel

        def on_chunk(chunk: Any) -> bool:
            if cancel.is_set():
                return True
            try:
                error = chunk_error(chunk)
                if error:
                    items.put(BackendError(f"llama.cpp: {error}"))
                    return True
                texts, ended = chunk_content(chunk)
                for text in texts:
                    self._text += text
                    self._tokens += 1
                    items.put(text)
                if ended:
                    self._ended = True
            except Exception as exc:  # the binding would swallow it silently
                items.put(exc)
                return True
            return stop.is_set()

        def work() -> None:
            try:
                self._server.handle_chat_completions(request, on_chunk)
            except BaseException as exc:
                items.put(exc)
            finally:
                items.put(_End(number))

        self._worker = threading.Thread(target=work, name="voicebot-llama.cpp", daemon=True)
        self._worker.start()


def chunk_error(chunk: Any) -> str:
    """The message of an error chunk ({"error": {...}} or {"code", "message"}), else ""."""
    if not isinstance(chunk, dict):
        return ""
    error = chunk.get("error")
    if isinstance(error, dict):
        return str(error.get("message") or error)
    if error:
        return str(error)
    if "choices" not in chunk and "message" in chunk and "code" in chunk:
        return str(chunk["message"])
    return ""

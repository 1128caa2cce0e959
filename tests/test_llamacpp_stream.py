"""The pausable llama.cpp stream against a scripted engine: pause stops generation at the
next token, the consumer gets every token generated, and the reply goes on with a request
that continues the same assistant message with what is left of max_tokens."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from voicebot.errors import BackendError
from voicebot.llm.llamacpp_stream import LlamaCppStream

TOKENS = ["The", " capital", " of", " France", " is", " Paris", "."]
MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]


class ScriptedEngine:
    """`handle_chat_completions` as xllamacpp runs it: one stream chunk per token on the
    calling thread, stopping when the callback returns True. A token is sent only when the
    test allows it (`allow(n)`), so the test decides what was generated before a pause. A
    request whose last message is the assistant's continues after that text."""

    def __init__(self, tokens: list[str], error: str | None = None) -> None:
        self.tokens = tokens
        self.error = error
        self.requests: list[dict] = []
        self.permits = threading.Semaphore(0)
        self.stopped_early = 0

    def allow(self, n: int = 1000) -> None:
        for _ in range(n):
            self.permits.release()

    def handle_chat_completions(self, request: dict, callback: Any) -> None:
        self.requests.append(request)
        last = request["messages"][-1]
        prefix = last["content"] if last["role"] == "assistant" else ""
        done = next(k for k in range(len(self.tokens) + 1)
                    if "".join(self.tokens[:k]) == prefix)
        if self.error:
            callback({"error": {"message": self.error}})
            return
        for token in self.tokens[done:done + request["max_tokens"]]:
            if not self.permits.acquire(timeout=5):
                raise TimeoutError("the test never allowed the next token")
            if callback({"choices": [{"delta": {"content": token}, "finish_reason": None}]}):
                self.stopped_early += 1
                return
        callback({"choices": [{"delta": {}, "finish_reason": "stop"}]})


def stream_of(engine: ScriptedEngine, cancel: threading.Event | None = None,
              max_tokens: int = 80) -> LlamaCppStream:
    request = {"messages": MESSAGES, "max_tokens": max_tokens, "stream": True}
    return LlamaCppStream(engine, request, cancel or threading.Event())


def llama_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name == "voicebot-llama.cpp"]


def wait_until_the_engine_is_done() -> None:
    deadline = time.monotonic() + 5
    while llama_threads() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert llama_threads() == []


def test_a_paused_reply_stops_then_continues_the_same_message() -> None:
    engine = ScriptedEngine(TOKENS)
    stream = stream_of(engine)
    engine.allow(2)
    assert [next(stream), next(stream)] == ["The", " capital"]
    stream.pause()
    engine.allow(1)  # the token under way when the pause came: generated, then it stops
    assert next(stream) == " of"
    engine.allow()
    assert "".join(stream) == " France is Paris."
    assert engine.stopped_early == 1
    assert len(engine.requests) == 2
    continuation = engine.requests[1]
    assert continuation["messages"] == [*MESSAGES,
                                        {"role": "assistant", "content": "The capital of"}]
    assert continuation["max_tokens"] == 80 - 3
    assert llama_threads() == []


def test_without_a_pause_one_request_streams_it_all() -> None:
    engine = ScriptedEngine(TOKENS)
    engine.allow()
    assert "".join(stream_of(engine)) == "The capital of France is Paris."
    assert len(engine.requests) == 1


def test_a_pause_after_the_reply_ended_starts_nothing() -> None:
    engine = ScriptedEngine(TOKENS)
    stream = stream_of(engine)
    engine.allow()
    assert next(stream) == "The"
    wait_until_the_engine_is_done()
    stream.pause()
    assert "".join(stream) == " capital of France is Paris."
    assert len(engine.requests) == 1


def test_the_continuation_keeps_to_max_tokens() -> None:
    engine = ScriptedEngine(TOKENS)
    stream = stream_of(engine, max_tokens=3)
    engine.allow(1)
    assert next(stream) == "The"
    stream.pause()
    engine.allow()
    assert "".join(stream) == " capital of"
    # " capital" was under way when the pause came: two tokens spent, one left
    assert [r["max_tokens"] for r in engine.requests] == [3, 1]


def test_cancel_while_paused_ends_the_stream_and_its_thread() -> None:
    engine = ScriptedEngine(TOKENS)
    cancel = threading.Event()
    stream = stream_of(engine, cancel)
    engine.allow(1)
    assert next(stream) == "The"
    stream.pause()
    cancel.set()
    engine.allow()
    assert list(stream) == []
    assert llama_threads() == []


def test_an_engine_error_is_a_backend_error() -> None:
    engine = ScriptedEngine(TOKENS, error="context overflow")
    with pytest.raises(BackendError, match="context overflow"):
        list(stream_of(engine))
    assert llama_threads() == []

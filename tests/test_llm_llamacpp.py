"""llama.cpp backend with the real built-in model (SmolLM2-135M): replies, cancellation,
no thread left behind, tokenizer, warm-up."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from voicebot.config import SPOKEN_SYSTEM_PROMPT
from voicebot.errors import ModelNotFoundError
from voicebot.events import ChatMessage
from voicebot.llm.llamacpp import LlamaCppLlm, LlamaCppParams

pytestmark = pytest.mark.slow

STORY = [ChatMessage("system", "You tell long stories."),
         ChatMessage("user", "Tell me a very long story about a dragon and a knight.")]


@pytest.fixture(scope="module")
def llm() -> Iterator[LlamaCppLlm]:
    backend = LlamaCppLlm(LlamaCppParams(max_tokens=60))
    yield backend
    backend.close()


def backend_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("voicebot-")]


def test_capital_of_france_mentions_paris(llm: LlamaCppLlm) -> None:
    llm.warmup()
    messages = [ChatMessage("system", SPOKEN_SYSTEM_PROMPT),
                ChatMessage("user", "What is the capital of France?")]
    deltas = list(llm.stream(messages, cancel=threading.Event()))
    assert len(deltas) > 1, "the reply should arrive as several deltas"
    assert "paris" in "".join(deltas).lower()
    assert backend_threads() == []


def test_cancel_stops_generation_and_leaves_no_thread(llm: LlamaCppLlm) -> None:
    before = threading.active_count()
    cancel = threading.Event()
    received = []
    for delta in llm.stream(STORY, cancel=cancel):
        received.append(delta)
        if len(received) == 3:
            cancel.set()
    assert len(received) == 3, "nothing may be yielded after cancel"
    assert backend_threads() == []
    assert threading.active_count() == before
    # the engine is free again: the next request completes normally
    again = list(llm.stream([ChatMessage("user", "Say hello.")], cancel=threading.Event()))
    assert "".join(again).strip()


def test_closing_the_generator_stops_it(llm: LlamaCppLlm) -> None:
    stream = llm.stream(STORY, cancel=threading.Event())
    first = next(stream)
    assert isinstance(first, str) and first
    stream.close()
    assert backend_threads() == []


def test_cancel_before_start_yields_nothing(llm: LlamaCppLlm) -> None:
    cancel = threading.Event()
    cancel.set()
    assert list(llm.stream(STORY, cancel=cancel)) == []
    assert backend_threads() == []


def test_max_tokens_bounds_the_reply(llm: LlamaCppLlm) -> None:
    text = "".join(llm.stream(STORY, cancel=threading.Event()))
    assert 0 < llm.count_tokens(text) <= 60 + 2


def test_count_tokens_uses_the_model_tokenizer(llm: LlamaCppLlm) -> None:
    assert llm.count_tokens("Hello world, how are you?") == 7  # SmolLM2's BPE
    assert llm.count_tokens("") == 0


def test_missing_model_path_is_model_not_found(tmp_path: object) -> None:
    with pytest.raises(ModelNotFoundError, match=r"no-such\.gguf"):
        LlamaCppLlm(LlamaCppParams(model=f"{tmp_path}/no-such.gguf"))

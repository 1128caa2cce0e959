"""transformers backend with the built-in GGUF (dequantized on load): one short reply."""

from __future__ import annotations

import threading

import pytest

from voicebot.events import ChatMessage
from voicebot.testing.fakes import leftover_threads


@pytest.mark.slow
def test_transformers_streams_a_reply_and_can_be_cancelled() -> None:
    from voicebot.llm.transformers_llm import TransformersLlm, TransformersParams

    llm = TransformersLlm(TransformersParams(max_tokens=12, temperature=0.0))
    messages = [ChatMessage("system", "Answer in one short sentence."),
                ChatMessage("user", "What is the capital of France?")]
    deltas = list(llm.stream(messages, cancel=threading.Event()))
    assert "".join(deltas).strip(), "expected a non-empty reply"
    assert llm.count_tokens("Hello world, how are you?") == 7

    stream = llm.stream(messages, cancel=threading.Event())
    assert next(stream)
    stream.close()
    assert leftover_threads() == []

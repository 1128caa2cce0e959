"""The LLM interface: one hook, `stream(messages, cancel=...) -> Iterator[str]`."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from voicebot.config_sections import ParamError
from voicebot.events import ChatMessage


class Llm(Protocol):
    def stream(
        self, messages: Sequence[ChatMessage], *, cancel: threading.Event
    ) -> Iterator[str]:
        """Yield text deltas of the assistant's reply as they are generated.

        Setting `cancel` stops generation within ~100 ms and ends the iterator; closing the
        iterator early does the same. No thread is left running afterwards.
        """
        ...

    def count_tokens(self, text: str) -> int:
        """Tokens `text` takes in this model's context (an estimate where unknown)."""
        ...


def warmup_messages(system_prompt: str | None = None) -> list[ChatMessage]:
    """The exchange a backend's `warmup()` evaluates: the system prompt in use (the spoken
    default when None) and a one-word user turn, so the first real turn finds the prompt
    cached and the runtime initialised."""
    from voicebot.config import SPOKEN_SYSTEM_PROMPT

    prompt = SPOKEN_SYSTEM_PROMPT if system_prompt is None else system_prompt
    return [ChatMessage("system", prompt), ChatMessage("user", "Hello.")]


def check_sampling(params: Any) -> None:
    """Checks shared by every LLM backend's Params: temperature, top_p, max_tokens."""
    if not 0.0 <= params.temperature <= 2.0:
        raise ParamError("temperature", params.temperature, "must be between 0 and 2")
    if not 0.0 < params.top_p <= 1.0:
        raise ParamError("top_p", params.top_p, "must be > 0 and <= 1")
    if not 1 <= params.max_tokens <= 4096:
        raise ParamError("max_tokens", params.max_tokens, "must be between 1 and 4096")

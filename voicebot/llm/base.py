"""The LLM interface: one hook, `stream(messages, cancel=...) -> Iterator[str]`."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import Protocol

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

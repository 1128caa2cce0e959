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

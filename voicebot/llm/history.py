"""The conversation as the LLM sees it: system prompt + turns, trimmed to a token budget.

Trimming drops whole turns (a user message with its reply), oldest first, and never the
system prompt or the newest user message: the model always sees who it is and what was
just asked, even when that alone is over budget. Keeping the oldest part of the history
stable turn to turn also keeps the KV-cache prefix the llama.cpp backend reuses.

A reply cut short by barge-in is kept as what was actually said, so the model knows what
the user heard. A turn with no reply at all (cut before any word was spoken, or failed) is
merged into the next user message, so roles keep alternating (some chat templates refuse
two user messages in a row).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from voicebot.events import ChatMessage

MESSAGE_OVERHEAD = 4  # role markers and separators a chat template adds per message


@dataclass(frozen=True)
class _Entry:
    message: ChatMessage
    tokens: int
    interrupted: bool = False


class ChatHistory:
    def __init__(
        self, system_prompt: str, budget_tokens: int, count_tokens: Callable[[str], int]
    ) -> None:
        if budget_tokens < 1:
            raise ValueError(f"budget_tokens must be >= 1, got {budget_tokens}")
        self.budget_tokens = budget_tokens
        self._count = count_tokens
        self._system = self._entry("system", system_prompt)
        self._entries: list[_Entry] = []

    def _entry(self, role: str, text: str, interrupted: bool = False) -> _Entry:
        return _Entry(ChatMessage(role, text), self._count(text) + MESSAGE_OVERHEAD, interrupted)

    @property
    def system_prompt(self) -> str:
        return self._system.message.content

    def add_user(self, text: str) -> None:
        text = text.strip()
        if not text:
            return
        if self._entries and self._entries[-1].message.role == "user":
            text = f"{self._entries.pop().message.content}\n{text}"
        self._entries.append(self._entry("user", text))

    def add_assistant(self, text: str, interrupted: bool = False) -> None:
        """Record the reply as spoken; `interrupted` marks one cut by barge-in."""
        text = text.strip()
        if not text:
            return
        if not self._entries or self._entries[-1].message.role != "user":
            return  # a reply to nothing: ignore rather than break role alternation
        self._entries.append(self._entry("assistant", text, interrupted))

    def clear(self) -> None:
        self._entries.clear()

    def interrupted_replies(self) -> int:
        return sum(1 for e in self._entries if e.interrupted)

    def __len__(self) -> int:
        return len(self._entries)

    def messages(self) -> list[ChatMessage]:
        """System prompt + the newest turns that fit the budget, oldest first."""
        kept = self._entries[self._protected_from():]
        used = self._system.tokens + sum(e.tokens for e in kept)
        older = self._entries[: len(self._entries) - len(kept)]
        for turn in reversed(_turns(older)):
            cost = sum(e.tokens for e in turn)
            if used + cost > self.budget_tokens:
                break
            kept = turn + kept
            used += cost
        return [self._system.message] + [e.message for e in kept]

    def token_count(self) -> int:
        """Tokens of what `messages()` returns now (with the per-message overhead)."""
        return sum(self._count(m.content) + MESSAGE_OVERHEAD for m in self.messages())

    def _protected_from(self) -> int:
        """Index of the newest user message (kept whatever the budget)."""
        for i in range(len(self._entries) - 1, -1, -1):
            if self._entries[i].message.role == "user":
                return i
        return len(self._entries)


def _turns(entries: list[_Entry]) -> list[list[_Entry]]:
    """Group entries into turns, each starting at a user message."""
    turns: list[list[_Entry]] = []
    for entry in entries:
        if entry.message.role == "user" or not turns:
            turns.append([entry])
        else:
            turns[-1].append(entry)
    return turns

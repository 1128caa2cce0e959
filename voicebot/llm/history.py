"""The conversation as the LLM sees it: system prompt + turns, trimmed to a token budget.

Trimming drops whole turns (a user message with its reply), oldest first, and never the
system prompt or the newest user message: the model always sees who it is and what was
just asked, even when that alone is over budget.

Turns are dropped in blocks: once the history outgrows the budget, the oldest turns go
until it fills only `keep_fraction` of it (half by default), and then nothing is dropped
until it is full again. Dropping one turn per new turn would change the prompt right
after the system prompt every time, so llama.cpp's prompt cache (which reuses only the
common prefix) would re-evaluate the whole history on every turn: TTFT grew from ~0.1 s
to seconds in long sessions. With blocks, the prefix changes once every few turns.

A reply cut short by barge-in is kept as what was actually said, so the model knows what
the user heard. A turn with no reply at all (cut before any word was spoken, or failed) is
merged into the next user message, so roles keep alternating (some chat templates refuse
two user messages in a row).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from voicebot.events import ChatMessage, Role

MESSAGE_OVERHEAD = 4  # role markers and separators a chat template adds per message


@dataclass(frozen=True)
class _Entry:
    message: ChatMessage
    tokens: int
    interrupted: bool = False


class ChatHistory:
    def __init__(
        self, system_prompt: str, budget_tokens: int, count_tokens: Callable[[str], int],
        keep_fraction: float = 0.5,
    ) -> None:
        if budget_tokens < 1:
            raise ValueError(f"budget_tokens must be >= 1, got {budget_tokens}")
        if not 0.0 < keep_fraction <= 1.0:
            raise ValueError(f"keep_fraction must be in (0, 1], got {keep_fraction}")
        self.budget_tokens = budget_tokens
        self.keep_fraction = keep_fraction
        self._start = 0  # entries before this were dropped (in a block)
        self._count = count_tokens
        self._system = self._entry("system", system_prompt)
        self._entries: list[_Entry] = []

    def _entry(self, role: Role, text: str, interrupted: bool = False) -> _Entry:
        return _Entry(ChatMessage(role, text), self._count(text) + MESSAGE_OVERHEAD, interrupted)

    @property
    def system_prompt(self) -> str:
        return self._system.message.content

    def add_user(self, text: str) -> None:
        text = text.strip()
        if not text:
            return
        if self._entries and self._entries[-1].message.role == "user":
            text = _merged(self._entries.pop().message.content, text)
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
        self._start = 0

    def fits(self, text: str) -> bool:
        """Whether a user message of `text` fits the budget beside the system prompt."""
        return self._system.tokens + self._count(text) + MESSAGE_OVERHEAD <= self.budget_tokens

    def interrupted_replies(self) -> int:
        return sum(1 for e in self._entries if e.interrupted)

    def __len__(self) -> int:
        return len(self._entries)

    def messages(self) -> list[ChatMessage]:
        """System prompt + the turns kept, oldest first. Over budget, the oldest turns are
        dropped in one block (see the module docstring), so the prefix stays stable."""
        protected = max(self._protected_from(), self._start)
        used = self._system.tokens + sum(e.tokens for e in self._entries[self._start:])
        if used > self.budget_tokens:
            target = self.budget_tokens * self.keep_fraction
            for turn in _turns(self._entries[self._start:protected]):
                if used <= target:
                    break
                self._start += len(turn)
                used -= sum(e.tokens for e in turn)
        return [self._system.message] + [e.message for e in self._entries[self._start:]]

    def messages_with_user(self, text: str) -> list[ChatMessage]:
        """`messages()` as they will be once the user says `text` (merged into a user message
        still waiting for its reply, as `add_user` does), without adding it."""
        messages = self.messages()
        text = text.strip()
        if messages[-1].role == "user":
            return [*messages[:-1], ChatMessage("user", _merged(messages[-1].content, text))]
        return [*messages, ChatMessage("user", text)]

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


def _merged(earlier: str, text: str) -> str:
    """Consecutive parts of one user turn (said across a pause), as one message."""
    return f"{earlier}\n{text}"

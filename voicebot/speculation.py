"""Work done on the user's words before their turn ends: the policies, not the threads.

- **Speculative reply.** In the pause before the endpoint, the reply starts on the text the
  listener will most likely finalise; its audio is held until the final transcript
  confirms it (reply_handle.py). If the user goes on, or the final differs, it is dropped.
- **Prompt prefill** (llm/prefill.py). While nothing else needs the LLM, it reads the
  conversation up to the words heard so far, so the reply evaluates only what is new.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from voicebot.events import ChatMessage
from voicebot.llm.history import ChatHistory
from voicebot.llm.prefill import Prefiller
from voicebot.reply_handle import ReplyHandle
from voicebot.view import ConversationView


class Speculation:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._tried: str | None = None  # the last user message a speculative reply used

    def step(self, *, reply: ReplyHandle | None, tentative: str | None, in_speech: bool,
             history: ChatHistory) -> Literal["drop"] | list[ChatMessage] | None:
        """For a turn being listened to (not cut at max_utterance_s), with speculation on:
        "drop": the user spoke again within the pause, so the speculative reply goes;
        messages: start a speculative reply on them; None: nothing to do."""
        if reply is not None:
            if reply.unconfirmed and in_speech and tentative is None:
                return "drop"
            return None
        if not tentative:
            return None
        # the user message as the history will hold it once this text is final (parts of a
        # turn said after pauses merge into one message)
        messages = history.messages_with_user(tentative)
        if messages[-1].content == self._tried:
            return None  # this text was tried already (its reply was empty)
        self._tried = messages[-1].content
        return messages


class PromptPrefill:
    def __init__(self, view: ConversationView) -> None:
        self._prefiller: Prefiller | None = None  # none: prefill is off or not supported
        self._view = view
        self._error: BaseException | None = None
        self._due: str | None = None  # words to prefill once the input is read

    def use(self, prefiller: Prefiller) -> None:
        self._prefiller = prefiller

    def failed(self, exc: BaseException) -> None:
        """From the prefill thread: shown, and prefill turned off, by the loop's thread."""
        self._error = exc

    def heard(self, words: Sequence[str]) -> None:
        """The part of the turn said since the last pause, committed words and the newest
        hypothesis of the rest: the prompt cache keeps the longest common prefix, so the
        words that stay are read once."""
        self._due = " ".join(words)

    def offer_heard(self, *, in_pause: bool, replying: bool, history: ChatHistory) -> None:
        """Offer the words a decode committed, once the audio that arrived during that
        decode is read: not if the user has paused since. The pause decode runs then, and
        the reply right after it; a prefill beside them (0.1-0.3 s of the LLM's threads)
        slowed the decode by as much on 2 cores, and the reply evaluates those words
        anyway. If the user goes on, the next commit offers them again."""
        heard, self._due = self._due, None
        if heard is not None and not in_pause:
            self.offer(heard, replying=replying, history=history)

    def offer(self, heard: str, *, replying: bool, history: ChatHistory) -> None:
        if self._error is not None and self._prefiller is not None:
            self._view.notice(f"(prompt prefill off after an error: {self._error})")
            self._prefiller = None
        if self._prefiller is not None and not replying:
            self._prefiller.offer(history.messages_with_user(heard))

    def cancel(self) -> None:
        """A reply is about to use the model (and leaves its own prompt in the cache)."""
        if self._prefiller is not None:
            self._prefiller.cancel()

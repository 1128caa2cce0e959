"""How much of a reply is spoken: a voice answer stops at a sentence boundary after at most
`max_sentences` sentences / about `max_words` words, unless the user asked for more.

Pure: fed the speakable chunks of the splitter in order (an early first chunk may be part of
a sentence), it says whether each is spoken and when the reply is done, so the caller can
stop the LLM there instead of generating words nobody hears. A sentence that has begun is
always finished (a voice never stops mid-sentence); a next one starts only while both
budgets allow it.
"""

from __future__ import annotations

import re

from voicebot.text.splitter import TERMINATORS

ASKS_FOR_MORE = re.compile(
    r"\b(in detail|detailed|tell me (more|everything|all)|explain|elaborate|describe|"
    r"step[- ]by[- ]step|long(er)?|a story|list|all of|every)\b",
    re.IGNORECASE,
)
MORE_FACTOR = 4
"""Budget multiplier when the user asked for a longer answer (the token cap still holds)."""


def asks_for_more(user_text: str) -> bool:
    return bool(ASKS_FOR_MORE.search(user_text))


def ends_sentence(chunk: str) -> bool:
    return chunk.rstrip().rstrip("\"')]}”’»").endswith(tuple(TERMINATORS))


class ReplyBudget:
    def __init__(self, max_sentences: int, max_words: int, more: bool = False) -> None:
        factor = MORE_FACTOR if more else 1
        self.max_sentences = max_sentences * factor
        self.max_words = max_words * factor
        self.sentences = 0
        self.words = 0
        self.done = False
        self._mid_sentence = False

    def admit(self, chunk: str) -> bool:
        """Whether `chunk` is spoken; afterwards `done` says whether the reply is over."""
        if self.done:
            return False
        count = len(chunk.split())
        if not self._mid_sentence and self.words and self.words + count > self.max_words:
            self.done = True  # the next sentence would overrun: end at the boundary
            return False
        self.words += count
        self._mid_sentence = not ends_sentence(chunk)
        if not self._mid_sentence:
            self.sentences += 1
            self.done = self.sentences >= self.max_sentences or self.words >= self.max_words
        return True

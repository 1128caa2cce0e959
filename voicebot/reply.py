"""The reply path as a lazy stream of events: LLM deltas -> sentence chunks -> TTS audio.

The orchestrator pulls one event at a time (each pull costs one LLM token or one TTS chunk of
compute) and stamps its own marks, so the reply path itself never reads a clock. Playback
runs on the audio device's own thread, so the LLM keeps generating while a sentence plays.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from voicebot.audio.levels import trim_leading_silence, trim_trailing_silence
from voicebot.config import TextConfig
from voicebot.events import ChatMessage
from voicebot.llm.base import Llm
from voicebot.text.budget import ReplyBudget, asks_for_more
from voicebot.tts.base import Tts


@dataclass(frozen=True)
class FirstToken:
    """The LLM produced its first non-empty text."""


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class SentenceReady:
    """A chunk of the reply complete enough to speak; `index` counts from 0."""

    text: str
    index: int


@dataclass(frozen=True)
class AudioChunk:
    samples: np.ndarray = field(repr=False)
    sample_rate: int
    sentence_index: int

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate


ReplyEvent = FirstToken | TextDelta | SentenceReady | AudioChunk


class StageFailure(Exception):
    """A backend raised inside the reply: `stage` is "llm" or "tts", the cause is chained."""

    def __init__(self, stage: str, cause: BaseException) -> None:
        from voicebot.errors import TruncatedReply, VoicebotError

        # a user-facing error is worded already; anything else shows its type
        detail = str(cause) if isinstance(cause, VoicebotError) else \
            f"{type(cause).__name__}: {cause}"
        super().__init__(f"{stage} failed: {detail}")
        self.stage = stage
        self.truncated = isinstance(cause, TruncatedReply)


def reply_events(
    llm: Llm,
    tts: Tts,
    text_cfg: TextConfig,
    messages: Sequence[ChatMessage],
    cancel: threading.Event,
) -> Iterator[ReplyEvent]:
    """Stream one reply. Stops early (closing the LLM stream) when `cancel` is set, or once
    the spoken-length budget (text_cfg.max_reply_*) is spent at a sentence boundary."""
    from voicebot.text.splitter import SentenceSplitter

    splitter = SentenceSplitter(text_cfg)
    budget = reply_budget(text_cfg, messages)
    tokens = llm.stream(messages, cancel=cancel)
    sentence_index = 0
    seen_text = False
    try:
        for delta in _guarded(tokens, "llm", cancel):
            if not delta:
                continue
            if not seen_text:
                seen_text = True
                yield FirstToken()
            yield TextDelta(delta)
            for sentence in splitter.push(delta):
                if budget.admit(sentence):
                    if sentence_index == 0:
                        _pause(tokens)
                    yield from speak(tts, sentence, sentence_index, cancel)
                    sentence_index += 1
            if budget.done:
                return
        if not cancel.is_set():
            for sentence in splitter.flush():
                if budget.admit(sentence):
                    yield from speak(tts, sentence, sentence_index, cancel)
                    sentence_index += 1
    finally:
        close = getattr(tokens, "close", None)
        if close is not None:
            close()


def _pause(tokens: Iterator[str]) -> None:
    """Let the first chunk's synthesis have the cores: a stream that can pause stops
    generating until the loop asks it for more (llm/llamacpp_stream.py; on 2 cores piper
    took 0.104 s for a 3-6-word first chunk with the LLM paused, 0.128 s beside it:
    scripts/first_chunk_pause.py)."""
    pause = getattr(tokens, "pause", None)
    if callable(pause):
        pause()


def reply_budget(text_cfg: TextConfig, messages: Sequence[ChatMessage]) -> ReplyBudget:
    """The spoken-length budget of a reply to `messages` (wider if the user asked for more)."""
    users = [m.content for m in messages if m.role == "user"]
    more = asks_for_more(users[-1]) if users else False
    return ReplyBudget(text_cfg.max_reply_sentences, text_cfg.max_reply_words, more)


T = TypeVar("T")


def _guarded(items: Iterator[T], stage: str, cancel: threading.Event) -> Iterator[T]:
    """`items` until exhausted or cancelled; a backend's exception becomes a StageFailure
    that names the stage."""
    while not cancel.is_set():
        try:
            item = next(items)
        except StopIteration:
            return
        except Exception as exc:
            raise StageFailure(stage, exc) from exc
        yield item


def speak(
    tts: Tts, sentence: str, index: int, cancel: threading.Event
) -> Iterator[ReplyEvent]:
    """The sentence's audio; the reply's very first chunk starts at its first audible
    sample (a voice's leading silence would only be waited for), and a chunk cut
    mid-sentence ends soon after its last one (JOIN_KEEP_S)."""
    yield SentenceReady(sentence, index)
    first = index == 0
    blocks: Iterator[np.ndarray] = (np.asarray(samples, dtype=np.float32) for samples in
                                    _guarded(tts.synthesize(sentence), "tts", cancel))
    if ends_mid_sentence(sentence):
        blocks = _tail_trimmed(blocks, tts.sample_rate)
    for audio in blocks:
        if first:
            audio = trim_leading_silence(audio, tts.sample_rate)
            first = False
        if len(audio):
            yield AudioChunk(audio, tts.sample_rate, index)


JOIN_KEEP_S = 0.03
"""A chunk cut mid-sentence (an early first or second chunk) keeps this much of its
trailing silence: a voice ends every chunk with 0.14-0.20 s of it (piper), which at a join
inside a sentence sounds like a hesitation; 30 ms keeps the decay of the last sound."""


def ends_mid_sentence(chunk: str) -> bool:
    """The chunk stops between two words (no punctuation): the next one goes on at once."""
    stripped = chunk.rstrip()
    return bool(stripped) and stripped[-1].isalnum()


def _tail_trimmed(blocks: Iterator[np.ndarray], sample_rate: int) -> Iterator[np.ndarray]:
    """`blocks`, the last one without its trailing silence beyond JOIN_KEEP_S."""
    previous: np.ndarray | None = None
    for block in blocks:
        if previous is not None:
            yield previous
        previous = block
    if previous is not None:
        yield trim_trailing_silence(previous, sample_rate, keep_s=JOIN_KEEP_S)


def whole_reply_events(
    llm: Llm,
    tts: Tts,
    text_cfg: TextConfig,
    messages: Sequence[ChatMessage],
    cancel: threading.Event,
) -> Iterator[ReplyEvent]:
    """The naive cascade's reply, for comparison: wait for the whole LLM reply, synthesize
    all of it, and only then hand over one block of audio (the old Voice Mode design)."""
    from voicebot.text.clean import clean_for_speech

    parts: list[str] = []
    for delta in _guarded(llm.stream(messages, cancel=cancel), "llm", cancel):
        if delta and not parts:
            yield FirstToken()
        parts.append(delta)
    text = clean_for_speech("".join(parts)).strip()
    if not text or cancel.is_set():
        return
    yield SentenceReady(text, 0)
    audio = [np.asarray(chunk, dtype=np.float32)
             for chunk in _guarded(tts.synthesize(text), "tts", cancel)]
    if audio and not cancel.is_set():
        whole = trim_leading_silence(np.concatenate(audio), tts.sample_rate)
        yield AudioChunk(whole, tts.sample_rate, 0)

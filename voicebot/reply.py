"""The reply path as a lazy stream of events: LLM deltas -> sentence chunks -> TTS audio.

The orchestrator pulls one event at a time (each pull costs one LLM token or one TTS chunk of
compute) and stamps its own marks, so the reply path itself never reads a clock. Playback
runs on the audio device's own thread, so the LLM keeps generating while a sentence plays.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from voicebot.config import TextConfig
from voicebot.events import ChatMessage
from voicebot.llm.base import Llm
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
        super().__init__(f"{stage} failed: {type(cause).__name__}: {cause}")
        self.stage = stage


def reply_events(
    llm: Llm,
    tts: Tts,
    text_cfg: TextConfig,
    messages: Sequence[ChatMessage],
    cancel: threading.Event,
) -> Iterator[ReplyEvent]:
    """Stream one reply. Stops early (closing the LLM stream) when `cancel` is set."""
    from voicebot.text.splitter import SentenceSplitter

    splitter = SentenceSplitter(text_cfg)
    tokens = llm.stream(messages, cancel=cancel)
    sentence_index = 0
    seen_text = False
    try:
        while not cancel.is_set():
            try:
                delta = next(tokens)
            except StopIteration:
                break
            except Exception as exc:
                raise StageFailure("llm", exc) from exc
            if not delta:
                continue
            if not seen_text:
                seen_text = True
                yield FirstToken()
            yield TextDelta(delta)
            for sentence in splitter.push(delta):
                yield from _speak(tts, sentence, sentence_index, cancel)
                sentence_index += 1
        if not cancel.is_set():
            for sentence in splitter.flush():
                yield from _speak(tts, sentence, sentence_index, cancel)
                sentence_index += 1
    finally:
        close = getattr(tokens, "close", None)
        if close is not None:
            close()


def _speak(
    tts: Tts, sentence: str, index: int, cancel: threading.Event
) -> Iterator[ReplyEvent]:
    yield SentenceReady(sentence, index)
    chunks = tts.synthesize(sentence)
    while not cancel.is_set():
        try:
            samples = next(chunks)
        except StopIteration:
            return
        except Exception as exc:
            raise StageFailure("tts", exc) from exc
        if len(samples):
            yield AudioChunk(np.asarray(samples, dtype=np.float32), tts.sample_rate, index)


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
    try:
        for delta in llm.stream(messages, cancel=cancel):
            if delta and not parts:
                yield FirstToken()
            parts.append(delta)
    except Exception as exc:
        raise StageFailure("llm", exc) from exc
    text = clean_for_speech("".join(parts)).strip()
    if not text or cancel.is_set():
        return
    yield SentenceReady(text, 0)
    try:
        audio = [np.asarray(chunk, dtype=np.float32) for chunk in tts.synthesize(text)]
    except Exception as exc:
        raise StageFailure("tts", exc) from exc
    if audio:
        yield AudioChunk(np.concatenate(audio), tts.sample_rate, 0)

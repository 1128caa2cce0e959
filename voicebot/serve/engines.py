"""Loaded models shared by every conversation of a server, and what each one gets alone.

- ASR and TTS: one loaded model each, shared. Each call runs under the engine's lock, so
  conversations take turns on it (CTranslate2 would queue concurrent decodes anyway, and
  piper's phonemizer, espeak-ng, keeps global state). A TTS call synthesizes its whole text
  under the lock: the reply path hands it one sentence at a time, and piper yields one
  chunk per sentence, so nothing is lost, while a lock held across a paused generator
  would stall the other conversations.
- VAD: a new instance per conversation (webrtcvad and Silero carry state between frames;
  building one takes milliseconds).
- LLM: shared. The `openai` backend is stateless per request (the serving engine schedules
  the sessions on its parallel slots); the in-process llama.cpp engine queues requests on
  its single slot.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from voicebot.asr.base import Asr
from voicebot.events import Word
from voicebot.llm.base import Llm
from voicebot.tts.base import Tts
from voicebot.vad.base import Vad


class SharedAsr:
    """An ASR model shared between threads: one decode at a time."""

    def __init__(self, inner: Asr) -> None:
        self.inner = inner
        self.sample_rate = inner.sample_rate
        self.word_timestamps = inner.word_timestamps
        self._lock = threading.Lock()

    def transcribe(self, audio: np.ndarray, *, prompt: str = "") -> list[Word]:
        with self._lock:
            return self.inner.transcribe(audio, prompt=prompt)


class SharedTts:
    """A TTS model shared between threads: one synthesis at a time, whole text per call."""

    def __init__(self, inner: Tts) -> None:
        self.inner = inner
        self.sample_rate = inner.sample_rate
        self._lock = threading.Lock()

    def synthesize(self, text: str) -> Iterator[np.ndarray]:
        with self._lock:
            chunks = list(self.inner.synthesize(text))
        yield from chunks


@dataclass
class Engines:
    asr: Asr
    llm: Llm
    tts: Tts
    new_vad: Callable[[], Vad]

    @property
    def reply_sample_rate(self) -> int:
        return int(self.tts.sample_rate)


def share(asr: Asr, llm: Llm, tts: Tts, new_vad: Callable[[], Vad]) -> Engines:
    """Wrap loaded backends for use by many conversations at once."""
    return Engines(SharedAsr(asr), llm, SharedTts(tts), new_vad)


def load_engines(cfg: Any) -> Engines:
    """Load the config's models once (with progress), for every session of a server."""
    from voicebot import registry
    from voicebot.loading import load_stage

    load_stage("vad", cfg)  # validates and fails early, with the usual messages

    def new_vad() -> Vad:
        vad: Vad = registry.create("vad", cfg.vad.backend, cfg.vad.params)
        return vad

    asr, llm, tts = (load_stage(stage, cfg) for stage in ("asr", "llm", "tts"))
    return share(asr, llm, tts, new_vad)


def close_engines(engines: Engines) -> None:
    close = getattr(engines.llm, "close", None)
    if callable(close):
        close()


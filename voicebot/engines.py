"""Engines vs sessions: the loaded models, shared, and what each conversation gets alone.

`Engines` holds what is loaded once per process (ASR, LLM, TTS, turn detector) and a VAD
factory; a conversation (voicebot/assembly.py) is built on them with its own listener,
history, reply and log. `load_engines(cfg, sessions=...)` is the one place models load:

- "one" (talk, the benches): one conversation at a time. The VAD is one instance, reset for
  each new conversation (webrtcvad and Silero carry state between frames).
- "many" (serve): conversations run at once on their own threads. Each gets a new VAD
  (milliseconds to build); ASR and TTS calls run under the engine's lock, so conversations
  take turns on them (CTranslate2 would queue concurrent decodes anyway, and piper's
  phonemizer, espeak-ng, keeps global state). A TTS call synthesizes its whole text under
  the lock: the reply path hands it one sentence at a time and piper yields one chunk per
  sentence, so nothing is lost, while a lock held across a paused generator would stall the
  other conversations. The LLM is shared as it is: the `openai` backend is stateless per
  request, and the in-process llama.cpp engine queues requests on its single slot. The turn
  detector is stateless (one onnxruntime session; its `run` is thread-safe).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal, cast

import numpy as np

from voicebot.asr.base import Asr
from voicebot.capabilities import Closeable
from voicebot.config import Config
from voicebot.cpuload import LoadMeter
from voicebot.events import Word
from voicebot.llm.base import Llm
from voicebot.tts.base import Tts
from voicebot.turn.base import TurnDetector
from voicebot.vad.base import Vad

Sessions = Literal["one", "many"]


@dataclass
class Engines:
    new_vad: Callable[[], Vad]
    """A VAD ready for a new conversation (fresh or reset)."""
    asr: Asr
    llm: Llm
    tts: Tts
    turn: TurnDetector
    """Smart Turn, or `SilenceTurn` for the plain silence rule."""
    new_words_vad: Callable[[], Vad] | None = None
    """A second VAD for a conversation that cancels echo: it hears the words' filter while
    the bot talks (vad/two_ears.py); None: the conversation's VAD alone."""
    load: LoadMeter = field(default_factory=LoadMeter)
    """How busy the other processes keep the cores (cpuload.py): read by each session's
    workers to decide whether the turn detector may start beside the pause decode."""

    @property
    def reply_sample_rate(self) -> int:
        return int(self.tts.sample_rate)

    def close(self) -> None:
        """Free the native resources now, in the reverse order of loading (the process's
        exit would free them too, but not in an order llama.cpp's threads survive)."""
        for engine in (self.turn, self.tts, self.llm, self.asr):
            if isinstance(engine, Closeable):
                engine.close()
        self.load.close()


def load_engines(cfg: Config, sessions: Sessions = "one") -> Engines:
    """Load the config's models once, with progress, for one conversation at a time or for
    many at once (see the module doc)."""
    from voicebot.loading import load_asr, load_llm, load_tts, load_turn, load_vad

    vad = load_vad(cfg)  # validates the VAD and fails early, with the usual messages
    asr, llm, tts, turn = load_asr(cfg), load_llm(cfg), load_tts(cfg), load_turn(cfg)
    if sessions == "one":
        return Engines(reused(vad), asr, llm, tts, turn,
                       new_words_vad=reused_when_asked(lambda: _new_vad(cfg)))
    return share(asr, llm, tts, turn, lambda: _new_vad(cfg))


def share(asr: Asr, llm: Llm, tts: Tts, turn: TurnDetector,
          new_vad: Callable[[], Vad]) -> Engines:
    """Wrap loaded engines for many conversations at once."""
    return Engines(new_vad, SharedAsr(asr), llm, SharedTts(tts), turn, new_words_vad=new_vad)


def reused(vad: Vad) -> Callable[[], Vad]:
    """A factory that hands out the one VAD, reset, to each new conversation."""
    return reused_when_asked(lambda: vad)


def reused_when_asked(make: Callable[[], Vad]) -> Callable[[], Vad]:
    """Like `reused`, for a VAD made only once some conversation asks for it."""
    made: list[Vad] = []

    def new_vad() -> Vad:
        if not made:
            made.append(make())
        made[0].reset()
        return made[0]

    return new_vad


def _new_vad(cfg: Config) -> Vad:
    from voicebot import registry

    return cast(Vad, registry.create("vad", cfg.vad.backend, cfg.vad.params))


def unwrapped(engine: object) -> object:
    """The engine inside a Shared* wrapper (or the engine itself)."""
    return engine.inner if isinstance(engine, SharedAsr | SharedTts) else engine


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

    def close(self) -> None:
        if isinstance(self.inner, Closeable):
            self.inner.close()


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

    def close(self) -> None:
        if isinstance(self.inner, Closeable):
            self.inner.close()

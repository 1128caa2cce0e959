"""Build backends from a validated config, showing progress for the slow ones.

Ctrl-C while a model loads ends the process at once (see `ctrl_c_ends_process`).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Literal, cast

from voicebot import progress, registry
from voicebot.asr.base import Asr
from voicebot.capabilities import SupportsPromptWarmup, SupportsWarmup
from voicebot.config import Config
from voicebot.llm.base import Llm
from voicebot.tts.base import Tts
from voicebot.turn.base import TurnDetector
from voicebot.vad.base import Vad


def describe(stage: str, cfg: Config) -> str:
    """The backend and its model, voice or server, for progress lines and reports."""
    section = getattr(cfg, stage)
    params = section.params
    detail = next(
        (str(getattr(params, k)) for k in ("model", "voice", "model_path", "base_url")
         if getattr(params, k, None)),
        "",
    )
    return f"{section.backend} {detail}".strip()


Stage = Literal["vad", "asr", "llm", "tts"]


def load_vad(cfg: Config) -> Vad:
    return cast(Vad, _load("vad", cfg))


def load_asr(cfg: Config) -> Asr:
    return cast(Asr, _load("asr", cfg))


def load_llm(cfg: Config) -> Llm:
    return cast(Llm, _load("llm", cfg))


def load_tts(cfg: Config) -> Tts:
    return cast(Tts, _load("tts", cfg))


def _load(stage: Stage, cfg: Config) -> object:
    """Create (and load, then warm up) the backend of `stage`, with progress shown."""
    section = getattr(cfg, stage)

    def load() -> object:
        backend = registry.create(stage, section.backend, section.params)
        if stage == "llm" and isinstance(backend, SupportsPromptWarmup):
            backend.warmup(cfg.conversation.system_prompt)  # the prompt in use, cached
        elif isinstance(backend, SupportsWarmup):
            backend.warmup()
        return backend

    with progress.step(f"Loading {stage.upper()} ({describe(stage, cfg)})"), ctrl_c_ends_process():
        return load()


@contextlib.contextmanager
def ctrl_c_ends_process() -> Iterator[None]:
    """Ctrl-C has its default action (end the process) for the duration of the block.

    A Python handler cannot run while a binding holds the GIL in C code, and llama.cpp
    loads a model that way for seconds, then leaves an engine whose threads block the
    interpreter's shutdown: Ctrl-C during "Loading LLM…" hung. Nothing is lost by ending
    at once here (no turn has happened yet), so the signal's default action is right."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def load_turn(cfg: Config) -> TurnDetector:
    """The turn detector of `cfg.turn`, loaded and warmed up. The plain silence rule
    (`SilenceTurn`) needs no model, so nothing is shown for it."""
    from voicebot.turn import build_detector

    if cfg.turn.backend == "silence":
        return build_detector(cfg.turn)
    with progress.step(f"Loading turn detector ({cfg.turn.backend})"), ctrl_c_ends_process():
        detector = build_detector(cfg.turn)
        if isinstance(detector, SupportsWarmup):
            detector.warmup()
    return detector

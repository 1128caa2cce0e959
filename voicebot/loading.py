"""Build backends from a validated config, showing progress for the slow ones.

Ctrl-C while a model loads ends the process at once (see `ctrl_c_ends_process`).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any

from voicebot import progress, registry
from voicebot.config import Config


def describe(stage: str, cfg: Config) -> str:
    section = getattr(cfg, stage)
    params = section.params
    detail = next(
        (str(getattr(params, k)) for k in ("model", "voice", "model_path", "base_url")
         if getattr(params, k, None)),
        "",
    )
    return f"{section.backend} {detail}".strip()


def load_stage(stage: str, cfg: Config) -> Any:
    """Create (and load) the backend of `stage` ("vad", "asr", "llm", "tts")."""
    section = getattr(cfg, stage)

    def load() -> Any:
        backend = registry.create(stage, section.backend, section.params)
        warmup = getattr(backend, "warmup", None)
        if callable(warmup):
            if stage == "llm":  # fills the prompt cache with the system prompt in use
                warmup(cfg.conversation.system_prompt)
            else:
                warmup()
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


def load_turn(cfg: Config) -> Any:
    """The turn detector of `cfg.turn` (loaded and warmed up), or None for the plain silence
    rule, which needs no model."""
    from voicebot.turn import build_detector

    if cfg.turn.backend == "silence":
        return None
    with progress.step(f"Loading turn detector ({cfg.turn.backend})"), ctrl_c_ends_process():
        detector = build_detector(cfg.turn)
        warmup = getattr(detector, "warmup", None)
        if callable(warmup):
            warmup()
    return detector



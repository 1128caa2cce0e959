"""Build backends from a validated config, showing progress for the slow ones."""

from __future__ import annotations

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
    with progress.step(f"Loading {stage.upper()} ({describe(stage, cfg)})"):
        backend = registry.create(stage, section.backend, section.params)
        warmup = getattr(backend, "warmup", None)
        if callable(warmup):
            if stage == "llm":  # fills the prompt cache with the system prompt in use
                warmup(cfg.conversation.system_prompt)
            else:
                warmup()
    return backend


def load_turn(cfg: Config) -> Any:
    """The turn detector of `cfg.turn` (loaded and warmed up), or None for the plain silence
    rule, which needs no model."""
    from voicebot.turn import build_detector

    if cfg.turn.backend == "silence":
        return None
    with progress.step(f"Loading turn detector ({cfg.turn.backend})"):
        detector = build_detector(cfg.turn)
        warmup = getattr(detector, "warmup", None)
        if callable(warmup):
            warmup()
    return detector

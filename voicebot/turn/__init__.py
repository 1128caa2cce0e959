"""The end of the turn: a detector (silence rule or Smart Turn model) asked after a short
pause, and a pure policy (policy.py) that turns its answers into "end now" or "wait longer".

`build_detector` imports a backend only when asked (onnxruntime stays out of `--help`)."""

from __future__ import annotations

from voicebot.config import EndpointConfig, TurnConfig
from voicebot.turn.base import TurnDetector
from voicebot.turn.policy import TurnPolicy


def build_detector(cfg: TurnConfig) -> TurnDetector:
    """Create (and load) the configured detector."""
    if cfg.backend == "smart-turn":
        from voicebot.turn.smart_turn import SmartTurn

        return SmartTurn(cfg.model, cfg.threads)
    from voicebot.turn.silence import SilenceTurn

    return SilenceTurn()


def build_policy(endpoint: EndpointConfig, cfg: TurnConfig) -> TurnPolicy:
    """The detector is first asked after `endpoint.end_ms` of silence."""
    first = endpoint.end_ms / 1000.0
    return TurnPolicy(first_s=first, max_silence_s=max(first, cfg.max_silence_ms / 1000.0),
                      recheck_s=cfg.recheck_ms / 1000.0, threshold=cfg.threshold)


__all__ = ["TurnDetector", "TurnPolicy", "build_detector", "build_policy"]

"""Optional capabilities of a backend, as small runtime-checkable protocols.

Each stage has one required hook (`Vad.speech_prob`, `Asr.transcribe`, `Llm.stream`,
`Tts.synthesize`, `TurnDetector.p_finished`); what a backend may do besides is asked with
`isinstance(backend, SupportsX)` rather than looked up by name with `getattr`, so a typo is
a type error and every capability is listed here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from voicebot.audio.played import PlayedAudio
from voicebot.events import ChatMessage


@runtime_checkable
class SupportsWarmup(Protocol):
    """Runs once after loading, so the first real call is not the slow one."""

    def warmup(self) -> None: ...


@runtime_checkable
class SupportsPromptWarmup(Protocol):
    """An LLM that evaluates the system prompt in use into its cache once loaded."""

    def warmup(self, system_prompt: str | None = None) -> None: ...


@runtime_checkable
class SupportsPrefill(Protocol):
    """An LLM that can evaluate a prompt into its cache while the user still speaks
    (llm/prefill.py): blocking, one prompt at a time."""

    def prefill(self, messages: Sequence[ChatMessage]) -> None: ...


@runtime_checkable
class Closeable(Protocol):
    """Holds native resources (threads, memory maps) that should go before the process."""

    def close(self) -> None: ...


@runtime_checkable
class LiveInput(Protocol):
    """A source that may be a real microphone (`live`), whose sound comes from a room."""

    live: bool


@runtime_checkable
class RecordsPlayback(Protocol):
    """A sink that records what it played and when (`played`, the echo canceller's
    reference); `live` when that sound goes into a room."""

    live: bool
    played: PlayedAudio


@runtime_checkable
class SupportsPause(Protocol):
    """A sink that can hold what it has not played yet and go on with it later: a reply
    paused while the user says something that may be only "mm-hm" (turn/interjection.py).
    While paused nothing plays, and audio handed to `play` waits too."""

    def pause(self, at: float) -> None: ...

    def resume(self, at: float) -> None: ...

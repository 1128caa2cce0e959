"""bench turns' rig: the instrumented parts its conversations are built with (a listener
that notes every endpoint, a reply that stops at its first audio, a sink that plays
instantly, a timed turn detector) and the VADs it compares. `set_builder` is also what
bench parity and the end-of-turn scripts use to build a conversation per setting.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from voicebot.audio.sinks import Playback

if TYPE_CHECKING:
    from voicebot.config import Config
    from voicebot.turn.base import TurnDetector


def recording_listener() -> type:
    from voicebot.events import SpeechEnded
    from voicebot.listener import Listener

    class _Recording(Listener):
        """Remembers the audio time of every endpoint (the bench's only addition)."""

        ends: list[float]

        def push_audio(self, frame: Any) -> Any:
            events = super().push_audio(frame)
            self.ends = getattr(self, "ends", [])
            self.ends += [e.at for e in events if isinstance(e, SpeechEnded)]
            return events

        def end_of_input(self) -> Any:
            events = super().end_of_input()
            self.ends = getattr(self, "ends", [])
            self.ends += [e.at for e in events if isinstance(e, SpeechEnded)]
            return events

    return _Recording


def first_audio_only(llm: Any, tts: Any, text_cfg: Any, messages: Any,
                     cancel: Any) -> Iterator[Any]:
    """The streaming reply path, stopped after its first audio chunk: the bench measures when
    the reply starts, and the rest of each reply would only cost minutes of run time."""
    from voicebot.reply import AudioChunk, reply_events

    events = reply_events(llm, tts, text_cfg, messages, cancel)
    try:
        for event in events:
            yield event
            if isinstance(event, AudioChunk):
                return
    finally:
        cancel.set()
        close = getattr(events, "close", None)
        if close is not None:
            close()


class InstantSink:
    """Takes reply audio without playing it out, and ends the input once the first reply
    audio is out (`on_first_audio`): the bench needs when that sample plays (e2e, cut-in),
    not the seconds of audio after it."""

    def __init__(self, on_first_audio: Callable[[], None]) -> None:
        self._last = 0.0
        self._on_first_audio: Callable[[], None] | None = on_first_audio

    def play(self, samples: np.ndarray, sample_rate: int, at: float) -> Playback:
        self._last = at
        if self._on_first_audio is not None:
            self._on_first_audio()
            self._on_first_audio = None
        return Playback(at, at)

    def busy_until(self) -> float:
        return self._last

    def stop(self, at: float) -> None:
        pass

    def close(self) -> None:
        pass


class TimedDetector:
    """The Smart Turn detector, with the wall time of each call recorded (bench only)."""

    name = "smart-turn"
    needs_audio = True

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls_ms: list[float] = []

    def p_finished(self, audio: np.ndarray, text: str) -> float:
        start = time.perf_counter()
        p = float(self.inner.p_finished(audio, text))
        self.calls_ms.append((time.perf_counter() - start) * 1000.0)
        return p


def set_builder() -> Any:
    """The ASR that finds the pause points: tiny.en with Whisper's full 30 s window, whatever
    the config, so every config is benched on the same pause set (a short window invents
    endings for a cut-off sentence more often, and fewer cuts would pass the check that the
    audio before them ends on the function word)."""
    from voicebot.asr.faster_whisper import FasterWhisperAsr

    return FasterWhisperAsr(FasterWhisperAsr.Params(model="tiny.en", encoder_pad_s=None))


def smart_turn_setting(cfg: Config, loaded: TurnDetector) -> TurnDetector:
    """The config's detector when it is Smart Turn, else Smart Turn loaded for the bench."""
    from voicebot.loading import load_turn

    if loaded.name == "smart-turn":
        return loaded
    return load_turn(dataclasses.replace(cfg, turn=dataclasses.replace(
        cfg.turn, backend="smart-turn")))


def vads_to_compare(cfg: Any, loaded: Any) -> dict[str, Any]:
    from voicebot import registry

    vads = {cfg.vad.backend: loaded}
    for name in ("silero", "webrtcvad"):
        if name not in vads:
            params = registry.params_class("vad", name)()
            vads[name] = registry.create("vad", name, params)
    return vads


def vad_cost(vads: dict[str, Any], audio: np.ndarray | None, rate: int) -> dict[str, float]:
    """Milliseconds of VAD compute per second of audio, per backend, on the same audio."""
    from voicebot.bench.pace import vad_ms_per_s

    if audio is None:
        return {}
    return {name: vad_ms_per_s(vad, audio, rate) for name, vad in vads.items()}

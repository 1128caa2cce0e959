"""What of the microphone reaches the listener: without the bot's voice, or not at all.

With a microphone and a speaker in one room, an echo canceller (audio/echo.py) removes the
bot's voice from the input, and the microphone stays open while the bot talks. Without one
(or with `barge_in: false`) the loop is half-duplex: while the bot is replying or playing,
the microphone is muted (its frames are replaced by silence, so audio time stays
continuous). Dropped speech is never silent: voice-level sound while muted is added up on
the turn (`muted_speech_s`), and while the reply plays it is the turn's overlap
(`overlap_s`: the reply began before the user had finished). Without headphones this
includes the bot's own voice picked up by the microphone.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from voicebot.audio.echo import (
    EchoCancellation,
    EchoCanceller,
    EchoMode,
    EchoTap,
    EchoWords,
    echo_wanted,
)
from voicebot.audio.levels import rms_dbfs
from voicebot.audio.linear_echo import LinearEchoFilter
from voicebot.audio.sinks import AudioSink
from voicebot.audio.sources import AudioSource
from voicebot.capabilities import LiveInput, RecordsPlayback
from voicebot.events import AudioFrame
from voicebot.metrics import TurnRecord
from voicebot.view import ConversationView

MUTED_VOICE_DBFS = -40.0  # quieter input while muted is not counted as speech


def echo_stage(mode: EchoMode, source: AudioSource, sink: AudioSink, sample_rate: int,
               make_canceller: Callable[[int], EchoCanceller], to_clock: Callable[[float], float],
               recording: Path | None, view: ConversationView,
               words: EchoWords = "linear") -> EchoCancellation | None:
    """The canceller for this run, if `mode` wants one with these devices (auto: both
    live) and the sink says what it played; `to_clock` maps audio time to session time.
    `words`: what the recognizer hears in double talk (audio/linear_echo.py)."""
    live_input = isinstance(source, LiveInput) and source.live
    live_output = isinstance(sink, RecordsPlayback) and sink.live
    if not echo_wanted(mode, live_input=live_input, live_output=live_output):
        return None
    if not isinstance(sink, RecordsPlayback):
        view.notice("(echo cancellation: this output does not say what it played, so there "
                    "is nothing to cancel with; off)")
        return None
    tap = EchoTap(recording, sample_rate) if recording else None
    words_filter = LinearEchoFilter(sample_rate) if words == "linear" else None
    return EchoCancellation(make_canceller(sample_rate), sink.played, to_clock, tap,
                            words_filter)


def cancel_echo(echo: EchoCancellation, frame: AudioFrame, view: ConversationView) -> AudioFrame:
    """The frame without the bot's voice; says once when the canceller has learned the
    room, since until then the user cannot interrupt (audio/echo.py's LEARN_FRAMES)."""
    learning = not echo.learned
    frame = echo.process(frame)
    if learning and echo.learned:
        view.notice("(echo cancellation: room learned; you can now speak over the bot to "
                    "interrupt it)")
    return frame


def muted(frame: AudioFrame, turn: TurnRecord | None, *, playing: bool) -> AudioFrame:
    """Silence in place of `frame`, its voice counted on `turn`."""
    if turn is not None and len(frame.samples) and rms_dbfs(frame.samples) >= MUTED_VOICE_DBFS:
        seconds = len(frame.samples) / frame.sample_rate
        turn.muted_speech_s += seconds
        if playing:
            turn.overlap_s += seconds
    return AudioFrame(np.zeros_like(frame.samples), frame.sample_rate, frame.start)

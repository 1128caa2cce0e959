"""Echo cancellation: the first stage of the input chain, in front of the VAD.

On open speakers the microphone hears the bot. Without a canceller the loop must be
half-duplex (the microphone muted while the bot talks); with one, it can keep listening, and
the user can interrupt. The canceller is WebRTC's AEC3 (package pywebrtc-audio, the same
processing module browsers and livekit's console mode run): it adapts a filter from the
reference (what the speaker played) to the echo in the microphone and subtracts it, in
10 ms frames. Its delay estimator finds the room's delay by itself; what it needs from us is
a reference aligned with the microphone, and that is what the one time base gives: each
microphone frame's audio time maps onto session time (audio/clockmap.py), and the sink has
written what it played at each session time (audio/played.py).

`EchoCancellation` is the stage the orchestrator calls per frame; the canceller itself is
one hook, `process(near, far) -> cleaned`, so another implementation (livekit's APM, a test
double) drops in.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from voicebot.audio.levels import rms_dbfs
from voicebot.audio.linear_echo import LinearEchoFilter
from voicebot.audio.played import PlayedAudio
from voicebot.events import AudioFrame

EchoMode = Literal["auto", "on", "off"]
EchoWords = Literal["linear", "aec3"]
FRAME_S = 0.010  # WebRTC's processing unit
ECHO_TAIL_S = 0.5  # the room may return what played this long ago (delay and reverberation)
REFERENCE_ACTIVE_DBFS = -60.0  # a quieter reference has no echo worth gating
RESIDUE_REMOVED_DB: float | None = None
"""A residue gate, off: with it (e.g. 24), a 10 ms frame from which AEC3 removed at least
this much once it has learned the room was taken for echo residue and silenced before the
VAD. It was there for a leak on the real sound server, where the echo of a short second
reply got through and cut it; the cause was the reference moving 10-15 ms between replies
(SteadyTimeMap below, and the speaker's sample count in audio/sinks.py). With the reference
steady, 7 live runs without the gate heard nothing of the bot, and the gate only delayed
Silero's onset on a user 6 dB over the echo (178 -> 339 ms median, docs/duplex.md)."""
LEARN_REMOVED_DB = 12.0
LEARN_FRAMES = 300
RECENT_FRAMES = 50
RECENT_REMOVED = 0.8
"""AEC3 takes a while to learn the room: measured on the dev recordings in a simulated room,
it removes 40-70 dB in the first second of the bot's first reply, then passes most of the
echo for up to a second (3 dB removed), and holds 35-50 dB from the third second on. So
until it has heard LEARN_FRAMES 10 ms frames of audible echo, and removed at least
LEARN_REMOVED_DB from RECENT_REMOVED of the last RECENT_FRAMES of them, every frame that
may hold echo is silenced, as half-duplex would: the first seconds of the session's first
reply cannot be interrupted. Once learned, the echo path stays learned for the session."""
AUDIBLE_ECHO_DBFS = -50.0  # frames quieter than this say nothing about the canceller
LOUD_REFERENCE_DBFS = -35.0  # the bot's voice over the last half second: clearly speaking
NO_PATH_SHARE = 0.9
"""With headphones, or a speaker the microphone does not hear, there is no echo to learn:
once the bot has spoken loudly for LEARN_FRAMES frames and the microphone stayed under
AUDIBLE_ECHO_DBFS in this share of them, the room counts as learned (`no_echo_path`), so
the user can interrupt from then on; otherwise a headset user would never be heard over
the bot."""


STEADY_TOLERANCE_S = 0.040
"""The canceller needs the reference where the microphone heard it, steadily: a shift of
10-15 ms between replies made AEC3 lose the echo path for 100-200 ms on the real sound
server, and the bot heard its own words. The loop's map from microphone time to session
time (audio/clockmap.py) tightens whenever a block arrives sooner than any before, which
happens now and then mid-session; the canceller keeps its first map and follows only a
change larger than this (a device that restarted or dropped input)."""


class SteadyTimeMap:
    """`to_session_time`, less its small corrections (see STEADY_TOLERANCE_S)."""

    def __init__(self, to_session_time: Callable[[float], float]) -> None:
        self.to_session_time = to_session_time
        self._base: float | None = None  # session time of audio time 0, as kept
        self.moves = 0  # changes followed

    def __call__(self, audio_time: float) -> float:
        base = self.to_session_time(0.0)
        if self._base is None or abs(base - self._base) > STEADY_TOLERANCE_S:
            self.moves += self._base is not None
            self._base = base
        return self.to_session_time(audio_time) - base + self._base


class EchoCanceller(Protocol):
    sample_rate: int

    def process(self, near: np.ndarray, far: np.ndarray) -> np.ndarray:
        """One 10 ms frame from the microphone and what the speaker played meanwhile."""
        ...


class WebRtcEchoCanceller:
    """AEC3 with WebRTC's high-pass filter (which the canceller needs); noise suppression is
    optional (it also colours the user's voice, so off unless asked for)."""

    def __init__(self, sample_rate: int = 16000, *, noise_suppression: bool = False) -> None:
        from voicebot.errors import ConfigError

        try:
            from pywebrtc_audio import AudioProcessor
        except ImportError:
            raise ConfigError(
                "audio.echo_cancellation needs the package pywebrtc-audio "
                "(`make install` installs it; or set audio.echo_cancellation: off)"
            ) from None
        self.sample_rate = sample_rate
        self._processor = AudioProcessor(
            sample_rate=sample_rate, num_channels=1, echo_cancellation=True,
            high_pass_filter=True, noise_suppression=noise_suppression,
        )

    def process(self, near: np.ndarray, far: np.ndarray) -> np.ndarray:
        out = self._processor.process(near, far)
        return np.asarray(out, dtype=np.float32)


class EchoTap:
    """Writes what the canceller saw, frame by frame, to a 4-channel float WAV on one time
    base: the microphone, the reference (what the speaker played, where the canceller was
    told it played), what went on to the VAD and what went on to the recognizer (the words'
    linear filter, audio/linear_echo.py). `voicebot talk --echo-recording` makes one, to see
    why an echo got through (cross-correlate channels 1 and 2 for the delay)."""

    CHANNELS = ("microphone", "reference", "cleaned", "words")

    def __init__(self, path: Path, sample_rate: int) -> None:
        import soundfile as sf

        self.path = path
        self._file: Any = sf.SoundFile(str(path), "w", samplerate=sample_rate,
                                       channels=len(self.CHANNELS), subtype="FLOAT")

    def write(self, near: np.ndarray, far: np.ndarray, cleaned: np.ndarray,
              words: np.ndarray) -> None:
        self._file.write(np.stack([near, far, cleaned, words], axis=1))

    def close(self) -> None:
        self._file.close()


class EchoCancellation:
    """Cleans microphone frames of the bot's voice.

    `to_session_time` maps a frame's audio time onto session time (the orchestrator's
    AudioClockMap); `played` is the sink's record of what it played, on that time base.
    Frames must be whole multiples of 10 ms (the config's frame_ms is 10, 20 or 30).
    Until the canceller has learned the room, every frame that may hold echo is silenced
    (`LEARN_FRAMES`). `cpu_s` adds up the processor time the canceller took,
    `gated_s` the audio silenced, `echo_in` and `echo_out` the energy before and after the
    canceller (not the gate) over frames while the bot's voice was in the room, once it had
    learned the room (their ratio is its ERLE when the user is silent): for `bench duplex`."""

    def __init__(self, canceller: EchoCanceller, played: PlayedAudio,
                 to_session_time: Callable[[float], float], tap: EchoTap | None = None,
                 words_filter: LinearEchoFilter | None = None) -> None:
        if played.sample_rate != canceller.sample_rate:
            raise ValueError(f"the reference is at {played.sample_rate} Hz, the canceller "
                             f"at {canceller.sample_rate} Hz")
        self.canceller = canceller
        self.played = played
        self.to_session_time = SteadyTimeMap(to_session_time)
        self.tap = tap
        self.words_filter = words_filter
        self.step = round(FRAME_S * canceller.sample_rate)
        self.cpu_s = 0.0
        self.audio_s = 0.0
        self.gated_s = 0.0
        self.residue_db: float | None = RESIDUE_REMOVED_DB
        self.heard_echo_frames = 0
        self.learned = False
        self.no_echo_path = False
        self._loud_reference_frames = 0
        self._silent_mic_frames = 0
        self._recent: collections.deque[bool] = collections.deque(maxlen=RECENT_FRAMES)
        self.echo_in = 0.0
        self.echo_out = 0.0

    def process(self, frame: AudioFrame) -> AudioFrame:
        near = np.asarray(frame.samples, dtype=np.float32)
        if frame.sample_rate != self.canceller.sample_rate or len(near) % self.step:
            raise ValueError(f"echo cancellation needs {self.canceller.sample_rate} Hz frames "
                             f"of whole 10 ms, got {len(near)} samples at {frame.sample_rate}")
        started = time.thread_time()
        at = self.to_session_time(frame.start)
        tail = round(ECHO_TAIL_S * self.canceller.sample_rate)
        reference = self.played.read(at - ECHO_TAIL_S, tail + len(near))
        far = reference[tail:]
        reference_db = rms_dbfs(reference)
        echo_possible = reference_db >= REFERENCE_ACTIVE_DBFS
        if not self.learned and reference_db >= LOUD_REFERENCE_DBFS:
            self._check_for_no_echo_path(near)
        out = np.empty_like(near)
        words = np.empty_like(near)
        double_talk = np.zeros_like(near)
        for i in range(0, len(near), self.step):
            part, far_part = near[i : i + self.step], far[i : i + self.step]
            cleaned = self.canceller.process(part, far_part)
            heard = self._words(part, far_part, cleaned, echo_possible)
            if echo_possible and not self._gate(part, cleaned):
                cleaned = heard = np.zeros_like(cleaned)
            elif heard is not cleaned and self.words_filter is not None:
                double_talk[i : i + self.step] = self.words_filter.holding
            out[i : i + self.step] = cleaned
            words[i : i + self.step] = heard
        self.cpu_s += time.thread_time() - started
        if self.tap is not None:
            self.tap.write(near, far, out, words)
        self.audio_s += len(near) / frame.sample_rate
        if self.words_filter is None:
            return AudioFrame(out, frame.sample_rate, frame.start)
        return AudioFrame(out, frame.sample_rate, frame.start, words=words,
                          double_talk=double_talk)

    def _words(self, near: np.ndarray, far: np.ndarray, cleaned: np.ndarray,
               echo_possible: bool) -> np.ndarray:
        """What the recognizer hears of this 10 ms: the linear filter's output while the
        bot's voice may be in the room and the filter has learned it; AEC3's otherwise."""
        if self.words_filter is None:
            return cleaned
        if not echo_possible:
            self.words_filter.rest()
            return cleaned
        linear = self.words_filter.process(near, far)
        return linear if self.words_filter.trusted else cleaned

    def _check_for_no_echo_path(self, near: np.ndarray) -> None:
        for i in range(0, len(near), self.step):
            self._loud_reference_frames += 1
            if rms_dbfs(near[i : i + self.step]) < AUDIBLE_ECHO_DBFS:
                self._silent_mic_frames += 1
        if self._loud_reference_frames >= LEARN_FRAMES and \
                self._silent_mic_frames >= NO_PATH_SHARE * self._loud_reference_frames:
            self.learned = self.no_echo_path = True

    def _gate(self, near: np.ndarray, cleaned: np.ndarray) -> bool:
        """Whether `cleaned` goes on; not while the canceller learns the room, nor where it
        is the canceller's residue (see the constants)."""
        if self.learned:
            self.echo_in += float(np.dot(near, near))
            self.echo_out += float(np.dot(cleaned, cleaned))
        level = rms_dbfs(near)
        removed_db = level - rms_dbfs(cleaned)
        if level >= AUDIBLE_ECHO_DBFS and not self.learned:
            self.heard_echo_frames += 1
            self._recent.append(removed_db >= LEARN_REMOVED_DB)
            self.learned = self.heard_echo_frames >= LEARN_FRAMES and \
                sum(self._recent) >= RECENT_REMOVED * RECENT_FRAMES
        residue = self.residue_db is not None and removed_db >= self.residue_db
        if residue or not self.learned:
            self.gated_s += FRAME_S
            return False
        return True


def echo_wanted(mode: EchoMode, *, live_input: bool, live_output: bool) -> bool:
    """`auto`: on when the microphone and the speaker are real devices in one room (a WAV
    replay, a WAV output or a browser client has no acoustic echo to cancel here)."""
    if mode == "auto":
        return live_input and live_output
    return mode == "on"

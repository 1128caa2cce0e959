"""The audio ends of one WebSocket conversation: a source fed by the socket, a sink that
sends to it, and a clock whose sleep wakes as soon as audio arrives.

The asyncio side calls `SocketSource.push` / `end` / `abort` (thread-safe, never blocking);
the conversation runs on its own worker thread and pulls frames like it pulls a
microphone's. The sink hands reply audio to a callback that posts it to the event loop.
"""

from __future__ import annotations

import math
import queue
import threading
import time
from collections.abc import Callable

import numpy as np

from voicebot.audio.framing import Reframer
from voicebot.audio.played import PlayedAudio
from voicebot.audio.resample import resample
from voicebot.audio.sinks import Playback
from voicebot.events import AudioFrame
from voicebot.serve.protocol import encode_pcm, event


class SessionClosed(Exception):
    """The client went away: the conversation stops at its next step."""


class SocketSource:
    """Audio received on the socket, as frames of `block_samples`.

    Frame times are audio time (samples received so far), like a microphone's; the loop
    maps them onto its clock from when they arrive, so a client that starts late or sends
    in bursts is timed by the arrivals.
    """

    live = False
    """A live microphone in the room where the replies play (the client's `live` message):
    then the server cancels the bot's voice from it (audio/echo.py), and barge-in is on."""
    latency = 0.0
    """Audio is timed by its arrival (the loop maps audio time onto its clock from the
    arrivals it sees): the client's capture buffering and the network are not known here."""

    def __init__(self, sample_rate: int, block_samples: int) -> None:
        self.sample_rate = sample_rate
        self.block_samples = block_samples
        self.wake = threading.Event()
        """Set whenever something arrives, so the loop's sleep ends at once."""
        self._queue: queue.SimpleQueue[np.ndarray] = queue.SimpleQueue()
        self._reframer = Reframer(block_samples)
        self._emitted = 0
        self._ended = False  # no more audio will come (the client said "end")
        self._aborted = False  # the client disconnected
        self._drained = False

    # ---- the socket's side (event loop thread) ------------------------------------
    def push(self, samples: np.ndarray) -> None:
        if not self._ended:
            self._queue.put(samples)
            self.wake.set()

    def end(self) -> None:
        self._ended = True
        self.wake.set()

    def abort(self) -> None:
        self._aborted = True
        self._ended = True
        self.wake.set()

    # ---- the conversation's side (worker thread) ----------------------------------
    def start(self) -> None:
        """Audio is queued from the first message on: nothing to start."""

    def read_available(self, elapsed: float) -> list[AudioFrame]:
        if self._aborted:
            raise SessionClosed("the client disconnected")
        frames: list[AudioFrame] = []
        ended = self._ended  # read first: audio queued before "end" is still taken
        while True:
            try:
                block = self._queue.get_nowait()
            except queue.Empty:
                break
            for samples in self._reframer.push(block):
                frames.append(self._frame(samples))
        if ended and not self._drained:
            self._drained = True
            pending = self._reframer.pending
            if pending:  # the last partial block, padded with silence
                pad = np.zeros(self.block_samples - pending, dtype=np.float32)
                frames.extend(self._frame(s) for s in self._reframer.push(pad))
        return frames

    def _frame(self, samples: np.ndarray) -> AudioFrame:
        frame = AudioFrame(samples, self.sample_rate, self._emitted / self.sample_rate)
        self._emitted += len(samples)
        return frame

    def seconds_until_next(self, elapsed: float) -> float:
        if self._drained:
            return math.inf
        if not self._queue.empty() or self._ended:
            return 0.0
        return self.block_samples / self.sample_rate

    @property
    def finished(self) -> bool:
        return self._drained

    @property
    def audio_time(self) -> float:
        """Seconds of audio taken so far."""
        return self._emitted / self.sample_rate

    def close(self) -> None:
        self.end()


class WakeableClock:
    """The monotonic clock; `sleep` returns early when `wake` is set (audio arrived)."""

    def __init__(self, wake: threading.Event) -> None:
        self.wake = wake

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.wake.wait(seconds)
        self.wake.clear()


class SocketSink:
    """Sends reply audio as s16le PCM at `sample_rate` the moment it is ready.

    Like the other sinks it does not read a clock: playback is assumed to run at real time
    from the `at` it was handed over, which is how the client plays it (as it streams), so
    `busy_until()` keeps half-duplex muting and barge-in working. `stop()` tells the client
    to drop what it has not played yet; `pause()` and `resume()` to hold it and go on.

    `played` is what was sent, on session time: the reference of the server's echo
    canceller when the client's audio is a live microphone in the room where the replies
    play (`live`, the client's `live` message). The client plays it later than `at` by the
    network and its output buffer, and its microphone's audio arrives later still; the
    canceller's delay estimate (AEC3) finds that lag, as it does for a speaker's.
    """

    live = False

    def __init__(self, send: Callable[[bytes | str], None], sample_rate: int) -> None:
        self.send = send
        self.sample_rate = sample_rate
        self._busy_until = 0.0
        self.bytes_sent = 0
        self.played = PlayedAudio()
        self._held: list[np.ndarray] | None = None  # while paused: the reference not played
        self._waiting: list[tuple[Playback, int]] = []  # handed over while paused, and
        # where each starts in what is held (reference samples)

    def play(self, samples: np.ndarray, sample_rate: int, at: float) -> Playback:
        """Sends at once; the expected start is when the client will reach this audio if
        it plays at real time (when it is heard there is not reported back). While paused
        the client queues it after what it holds."""
        data = resample(np.asarray(samples, dtype=np.float32).reshape(-1), sample_rate,
                        self.sample_rate)
        if len(data):
            pcm = encode_pcm(data)
            self.send(pcm)
            self.bytes_sent += len(pcm)
        reference = self.played.prepare(data, self.sample_rate)
        if self._held is not None:
            playback = Playback(math.inf)
            self._waiting.append((playback, sum(len(block) for block in self._held)))
            self._held.append(reference)
            return playback
        start = max(at, self._busy_until)
        self.played.add(start, reference)
        self._busy_until = start + len(data) / self.sample_rate
        return Playback(start)

    def busy_until(self) -> float:
        return self._busy_until

    def stop(self, at: float) -> None:
        if at < self._busy_until or self._held is not None:
            self.send(event("stop_playback"))
        self._held = None
        for playback, _ in self._waiting:  # never played
            playback.expected = at
        self._waiting = []
        self._busy_until = min(self._busy_until, max(at, 0.0))
        self.played.cut(self._busy_until)

    def pause(self, at: float) -> None:
        """The client holds what it has not played yet (the reply's rest waits)."""
        if self._held is not None:
            return
        self.send(event("pause_playback"))
        rest = max(self._busy_until - at, 0.0)
        self._held = [self.played.read(at, round(rest * self.played.sample_rate))]
        self.played.cut(at)
        self._busy_until = min(self._busy_until, at)

    def resume(self, at: float) -> None:
        """The client goes on with what it held, from `at`."""
        if self._held is None:
            return
        self.send(event("resume_playback"))
        held, self._held = np.concatenate(self._held), None
        start = max(at, self._busy_until)
        if len(held):
            self.played.add(start, held)
        for playback, offset in self._waiting:  # in order, after the rest that was playing
            playback.expected = start + offset / self.played.sample_rate
        self._waiting = []
        self._busy_until = start + len(held) / self.played.sample_rate

    def close(self) -> None:
        pass

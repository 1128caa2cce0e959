"""A client of `voicebot serve` (websockets' sync client): streams audio at real time, as a
microphone would, and records every event and reply-audio arrival on its own clock.

Used by scripts/voicebot_client.py, `voicebot bench serve` and the tests. The client's own
e2e figure is measured here: from the moment it sent the last speech sample of a question
to the arrival of the first reply audio after it (network and queueing included).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from voicebot.serve.protocol import INPUT_SAMPLE_RATE, encode_pcm

BLOCK_MS = 20


class ServerRefused(Exception):
    """The server answered with an `error` instead of `ready` (e.g. full)."""


def speech_end(samples: np.ndarray, rate: int = INPUT_SAMPLE_RATE) -> float:
    """Seconds from the start of `samples` to where its speech ends (0 when silent), measured
    from outside the server by the project's one rule (voicebot/audio/levels.py)."""
    from voicebot.audio.levels import speech_offset

    return speech_offset(samples, rate) or 0.0


@dataclass
class Received:
    events: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    audio: list[tuple[float, int]] = field(default_factory=list)  # (arrival, bytes)
    pcm: bytearray = field(default_factory=bytearray)  # all reply audio, s16le
    sample_rate: int = 0  # of the reply audio, from `ready`
    closed: tuple[int | None, str] | None = None

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [e for _, e in self.events if e.get("type") == kind]

    def first_audio_after(self, t: float) -> float | None:
        return next((at for at, _ in self.audio if at >= t), None)


class ClientSession:
    """One conversation with the server. `connect` waits for `ready` (or raises
    ServerRefused with the server's message)."""

    def __init__(self, url: str, open_timeout: float = 10.0) -> None:
        from websockets.sync.client import connect

        self.url = url
        self._connector = connect(url, open_timeout=open_timeout, max_size=None)
        self.ws = self._connector.__enter__()  # closed in close()
        self.received = Received()
        self._changed = threading.Condition()
        first = self.ws.recv(timeout=open_timeout)
        ready = json.loads(first) if isinstance(first, str) else {}
        if ready.get("type") != "ready":
            self._connector.__exit__(None, None, None)
            raise ServerRefused(str(ready.get("message", ready)))
        self.ready = ready
        self.sample_rate = int(ready["sample_rate"])
        self.received.sample_rate = self.sample_rate
        self._reader = threading.Thread(target=self._read, name="voicebot-client", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            for message in self.ws:
                now = time.monotonic()
                with self._changed:
                    if isinstance(message, bytes):
                        self.received.audio.append((now, len(message)))
                        self.received.pcm += message
                    else:
                        self.received.events.append((now, json.loads(message)))
                    self._changed.notify_all()
        except ConnectionClosed:
            pass
        finally:
            with self._changed:
                self.received.closed = (self.ws.close_code, self.ws.close_reason or "")
                self._changed.notify_all()

    # ---- sending ----------------------------------------------------------------------
    def live(self) -> None:
        """Say, before any audio, that it comes from a live microphone beside the speaker
        that plays the replies: the server cancels the echo and takes barge-in."""
        self.ws.send(json.dumps({"type": "live"}))

    def stream(self, samples: np.ndarray, speed: float = 1.0) -> float:
        """Send 16 kHz float32 audio in 20 ms blocks on a real-time schedule (`speed` x);
        returns the monotonic time of sample 0 (sample i is sent at t0 + i/rate/speed)."""
        block = INPUT_SAMPLE_RATE * BLOCK_MS // 1000
        t0 = time.monotonic()
        for k, a in enumerate(range(0, len(samples), block)):
            due = t0 + (k * block) / INPUT_SAMPLE_RATE / speed
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            if self.received.closed is not None:
                break
            self.ws.send(encode_pcm(samples[a : a + block]))
        return t0

    def stream_silence_until(
        self, done: Callable[[Received], bool], timeout: float, speed: float = 1.0
    ) -> bool:
        """Keep the "microphone" open (silence at real time) until `done(received)` or the
        timeout; True when done."""
        silence = encode_pcm(np.zeros(INPUT_SAMPLE_RATE * BLOCK_MS // 1000, np.float32))
        t0 = time.monotonic()
        for k in itertools.count():
            due = t0 + k * BLOCK_MS / 1000 / speed
            if due > t0 + timeout:
                return False
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            with self._changed:
                if done(self.received) or self.received.closed is not None:
                    return done(self.received)
            self.ws.send(silence)
        return False

    def wait_for(self, done: Callable[[Received], bool], timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(
                lambda: done(self.received) or self.received.closed is not None, timeout
            ) and done(self.received)

    def end(self, timeout: float = 60.0) -> Received:
        """Say "end", then wait for the server to answer and close."""
        from websockets.exceptions import ConnectionClosed

        with contextlib.suppress(ConnectionClosed):
            self.ws.send(json.dumps({"type": "end"}))
        self.wait_for(lambda r: r.closed is not None, timeout)
        self.close()
        return self.received

    def close(self) -> None:
        self._connector.__exit__(None, None, None)
        self._reader.join(5.0)

    def __enter__(self) -> ClientSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def talk_once(url: str, samples: np.ndarray, speed: float = 1.0,
              tail_silence_s: float = 1.0, timeout: float = 60.0) -> tuple[Received, float]:
    """Stream `samples` (16 kHz) at `speed` x, then `tail_silence_s` of silence, say "end",
    and collect everything until the server closes. Returns (received, t0 of sample 0)."""
    with ClientSession(url) as client:
        t0 = client.stream(samples, speed)
        client.stream(np.zeros(round(tail_silence_s * INPUT_SAMPLE_RATE), np.float32), speed)
        return client.end(timeout), t0

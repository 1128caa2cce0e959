"""The wire protocol of `voicebot serve` (one WebSocket per conversation, at `/ws`).

Client -> server:
  binary  16 kHz mono signed 16-bit little-endian PCM, any block size (an even byte count).
          Stream continuously, as a microphone does (silence too): the endpoint is found in
          the audio.
  text    JSON `{"type": "end"}`: no more audio; the server answers what was said, then closes
          the connection (code 1000). Closing the socket instead drops the turn in progress.
  text    JSON `{"type": "live"}`, before the first audio: the audio is a live microphone in
          the room where the replies play (open speakers). The server then removes the bot's
          voice from it (echo cancellation, `audio.echo_cancellation: auto`), and the user
          can speak over a reply: it pauses, and resumes or stops (`conversation.barge_in`).
          Without it (a file streamed, a test client) the session is half-duplex.

Server -> client:
  binary  reply audio: mono signed 16-bit little-endian PCM at the `sample_rate` of `ready`.
  text    JSON events, each with a `type`:
          ready         {session, sample_rate, input_sample_rate, figures: {name: label}, limits}
          partial       {committed, partial}  the live transcript (unconfirmed words in partial)
          final         {text}                the user's turn, final
          reply_text    {text}                a chunk of the reply text as the LLM streams it
          stop_playback {}                    drop the reply audio not yet played (barge-in,
                                              a failed turn)
          pause_playback {}                   hold the reply audio not yet played (the user's
                                              voice over it: it may be only "mm-hm")
          resume_playback {}                  go on with what was held
          turn          the finished turn, as one line of the JSONL session log: index,
                        status, user_text, reply_text, error, marks, figures (seconds)
          notice        {message}             informational ("heard sound but no words")
          error         {message}             something the client did or the server refused

Everything here is pure (no sockets), so the rules are tested directly.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

INPUT_SAMPLE_RATE = 16000
PCM_SCALE = 32768.0


class ProtocolError(Exception):
    """A message the client should not have sent; its text goes out as an `error` event."""


@dataclass(frozen=True)
class Limits:
    max_sessions: int = 8
    """Concurrent conversations; one more is refused with an `error` event and code 1013."""
    max_message_bytes: int = 1 << 20
    """A larger message is dropped with an `error` event (1 MiB is 32 s of audio)."""
    hard_max_message_bytes: int = 16 << 20
    """The socket's own cap: a larger message closes the connection (code 1009) unread."""
    idle_timeout_s: float = 60.0
    """A connection that sends nothing for this long is closed with an `error` event."""
    max_audio_ahead_s: float = 30.0
    """Audio may arrive this far ahead of real time (bursts, a file sent fast); beyond, it
    is dropped with an `error` event, so no client can fill the server's memory."""

    def check(self) -> None:
        if self.max_sessions < 1:
            raise ValueError(f"max_sessions must be >= 1, got {self.max_sessions}")
        if not 2 <= self.max_message_bytes <= self.hard_max_message_bytes:
            raise ValueError("max_message_bytes must be between 2 and "
                             f"{self.hard_max_message_bytes}, got {self.max_message_bytes}")
        if self.idle_timeout_s <= 0:
            raise ValueError(f"idle_timeout_s must be positive, got {self.idle_timeout_s}")
        if self.max_audio_ahead_s <= 0:
            raise ValueError(f"max_audio_ahead_s must be positive, got {self.max_audio_ahead_s}")


def decode_pcm(data: bytes) -> np.ndarray:
    """s16le bytes -> float32 samples in [-1, 1)."""
    if len(data) % 2:
        raise ProtocolError(
            f"binary message of {len(data)} bytes: audio must be 16-bit PCM (an even byte "
            "count); message dropped")
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / PCM_SCALE


def encode_pcm(samples: np.ndarray) -> bytes:
    """float32 samples -> s16le bytes (clipped)."""
    data = np.clip(np.asarray(samples, dtype=np.float32).reshape(-1), -1.0, 1.0)
    return (data * 32767.0).round().astype("<i2").tobytes()


def check_size(size: int, limits: Limits) -> None:
    if size > limits.max_message_bytes:
        raise ProtocolError(
            f"message of {size} bytes exceeds the limit of {limits.max_message_bytes} bytes; "
            "send audio in smaller blocks (e.g. 20 ms = 640 bytes); message dropped")


class AudioPacer:
    """Admits a client's audio while it stays within `max_ahead_s` of real time, counted
    from its first block (`now` is any monotonic clock, passed in)."""

    def __init__(self, max_ahead_s: float, sample_rate: int = INPUT_SAMPLE_RATE) -> None:
        self.max_ahead_s = max_ahead_s
        self.sample_rate = sample_rate
        self.received_s = 0.0
        self._origin: float | None = None

    def admit(self, samples: int, now: float) -> None:
        if self._origin is None:
            self._origin = now
        seconds = samples / self.sample_rate
        ahead = self.received_s + seconds - (now - self._origin)
        if ahead > self.max_ahead_s:
            raise ProtocolError(
                f"audio arrives faster than real time ({ahead:.1f} s ahead, the limit is "
                f"{self.max_ahead_s:g} s): stream it as it is recorded; block dropped")
        self.received_s += seconds


def parse_text(text: str) -> dict[str, Any]:
    """A client's text message -> its JSON object (with a known `type`)."""
    try:
        message = json.loads(text)
    except ValueError:
        raise ProtocolError(
            f"text message is not JSON: {text[:60]!r}; send audio as binary messages and "
            'control messages as JSON objects such as {"type": "end"}') from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise ProtocolError('a text message must be a JSON object with a "type"')
    if message["type"] not in CLIENT_TYPES:
        raise ProtocolError(f"unknown message type {message['type']!r}; "
                            f"allowed: {', '.join(CLIENT_TYPES)}")
    return message


CLIENT_TYPES = ("end", "live")


def event(kind: str, **fields: Any) -> str:
    """One server -> client JSON event."""
    return json.dumps({"type": kind, **fields}, ensure_ascii=False)


def ready_event(session: str, sample_rate: int, limits: Limits) -> str:
    from voicebot.metrics import FIGURE_LABELS

    return event("ready", session=session, sample_rate=sample_rate,
                 input_sample_rate=INPUT_SAMPLE_RATE, figures=FIGURE_LABELS,
                 limits=asdict(limits))

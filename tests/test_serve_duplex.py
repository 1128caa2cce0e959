"""Full duplex through `voicebot serve`: a client that says its audio is a live microphone
gets the server's echo canceller and barge-in, with the same pause-then-judge behaviour as
`voicebot talk` (fake engines on the real clock; the real WebRTC canceller)."""

from __future__ import annotations

import numpy as np
from serve_helpers import fake_engines, question_audio

from voicebot.config import load_config
from voicebot.serve.background import BackgroundServer
from voicebot.serve.client import ClientSession, Received
from voicebot.testing.fakes import scripted_audio

LONG_REPLY = ("The", " capital", " of", " France", " is", " Paris,",
              *(f" with its museums, parks and bridges number {i}" for i in range(5)), ".")
"""One long sentence (a reply ends after two, or about 35 words): ~7 s of fake speech."""


def learned(received: Received) -> bool:
    return any("room learned" in e["message"] for e in received.of_type("notice"))


def kinds(received: Received) -> list[str]:
    return [str(e["type"]) for _, e in received.events]


def test_a_live_client_speaks_over_the_reply_which_pauses_then_yields_the_floor() -> None:
    engines = fake_engines(reply_tokens=LONG_REPLY, seconds_per_char=0.03)  # ~8 s of reply
    with BackgroundServer(engines, load_config()) as server, ClientSession(server.url) as client:
        client.live()
        client.stream(question_audio())
        # this client's microphone hears none of the reply: after 3 s of the bot's voice the
        # canceller knows there is no echo path, and the user may speak over it
        assert client.stream_silence_until(learned, timeout=20)
        assert "stop_playback" not in kinds(client.received)
        t0 = client.stream(scripted_audio([(0.1, 1.6)], 2.0))  # real words over the reply
        assert client.stream_silence_until(lambda r: len(r.of_type("turn")) >= 2, timeout=30)
        received = client.end()
    events = kinds(received)
    assert events.index("pause_playback") < events.index("stop_playback")  # paused first
    paused_at = next(t for t, e in received.events if e["type"] == "pause_playback")
    print(f"paused {paused_at - t0 - 0.1:.3f} s after the onset (sent at real time)")
    first, second = received.of_type("turn")[:2]
    assert first["status"] == "interrupted" and "barge-in" in first["error"]
    assert first["reply_text"]  # what had been heard: kept in the history
    assert second["status"] == "ok" and second["user_text"]


def test_a_client_that_streams_a_file_stays_half_duplex() -> None:
    engines = fake_engines(reply_tokens=LONG_REPLY, seconds_per_char=0.03)
    with BackgroundServer(engines, load_config()) as server, ClientSession(server.url) as client:
        client.stream(question_audio())
        client.stream_silence_until(lambda r: bool(r.audio), timeout=20)
        client.stream(np.zeros(16000, np.float32))
        client.stream(scripted_audio([(0.1, 1.6)], 2.0))  # muted: the bot is talking
        assert client.stream_silence_until(lambda r: bool(r.of_type("turn")), timeout=30)
        received = client.end()
    events = kinds(received)
    assert "pause_playback" not in events and "stop_playback" not in events
    assert "room learned" not in str(received.of_type("notice"))
    (turn,) = received.of_type("turn")
    assert turn["status"] == "ok" and turn["muted_speech_s"] > 1.0

"""`voicebot serve`'s pure parts: the wire format, the socket-fed source, the socket sink."""

from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest

from voicebot.serve.audio_io import SessionClosed, SocketSink, SocketSource
from voicebot.serve.client import Received
from voicebot.serve.protocol import (
    AudioPacer,
    Limits,
    ProtocolError,
    check_size,
    decode_pcm,
    encode_pcm,
    parse_text,
    ready_event,
)


def test_pcm_round_trip_and_odd_length() -> None:
    samples = np.array([0.0, 0.5, -0.5, 1.0, -1.0], dtype=np.float32)
    data = encode_pcm(samples)
    assert len(data) == 10
    assert np.allclose(decode_pcm(data), samples, atol=1e-4)
    with pytest.raises(ProtocolError, match="even byte count"):
        decode_pcm(data[:-1])


def test_text_messages() -> None:
    assert parse_text('{"type": "end"}') == {"type": "end"}
    with pytest.raises(ProtocolError, match="not JSON"):
        parse_text("hello")
    with pytest.raises(ProtocolError, match="JSON object"):
        parse_text("[1, 2]")
    with pytest.raises(ProtocolError, match="unknown message type 'dance'"):
        parse_text('{"type": "dance"}')


def test_size_limit() -> None:
    limits = Limits(max_message_bytes=1000)
    check_size(1000, limits)
    with pytest.raises(ProtocolError, match="1001 bytes exceeds the limit of 1000"):
        check_size(1001, limits)
    with pytest.raises(ValueError, match="max_sessions"):
        Limits(max_sessions=0).check()


def test_ready_announces_rates_figures_and_limits() -> None:
    ready = json.loads(ready_event("s1", 22050, Limits()))
    assert ready["type"] == "ready"
    assert ready["sample_rate"] == 22050 and ready["input_sample_rate"] == 16000
    assert ready["figures"]["e2e_latency"] == "e2e latency"
    assert ready["limits"]["max_sessions"] == Limits().max_sessions


def test_source_reframes_any_block_size_on_audio_time() -> None:
    source = SocketSource(16000, 480)
    source.push(np.ones(700, np.float32))
    source.push(np.ones(300, np.float32))
    frames = source.read_available(0.0)
    assert [f.start for f in frames] == [0.0, 0.03]
    assert not source.finished and source.seconds_until_next(0.0) > 0
    source.push(np.ones(100, np.float32))
    source.end()
    assert source.seconds_until_next(0.0) == 0.0
    frames = source.read_available(0.0)  # 40 + 100 samples left: one padded frame
    assert len(frames) == 1 and frames[0].start == 0.06
    assert np.count_nonzero(frames[0].samples) == 140
    assert source.finished and source.read_available(1.0) == []


def test_source_abort_stops_the_loop() -> None:
    source = SocketSource(16000, 480)
    source.push(np.ones(480, np.float32))
    source.abort()
    assert source.wake.is_set()
    with pytest.raises(SessionClosed):
        source.read_available(0.0)


def test_sink_sends_pcm_at_its_rate_and_tracks_playback() -> None:
    sent: list[bytes | str] = []
    sink = SocketSink(sent.append, 16000)
    playback = sink.play(np.full(8000, 0.25, np.float32), 8000, at=1.0)  # 1 s at 8 kHz
    assert playback.start == 1.0 and sink.busy_until() == pytest.approx(2.0)
    assert isinstance(sent[0], bytes) and len(sent[0]) == 2 * 16000
    assert sink.play(np.zeros(1600, np.float32), 16000, at=1.5).start == pytest.approx(2.0)
    sink.stop(1.2)
    assert json.loads(sent[-1]) == {"type": "stop_playback"}
    assert sink.busy_until() == pytest.approx(1.2)
    sink.stop(5.0)  # nothing playing: nothing to tell the client
    assert len(sent) == 3


def test_pacer_admits_real_time_and_bursts_but_not_a_flood() -> None:
    pacer = AudioPacer(max_ahead_s=2.0)
    pacer.admit(16000, now=100.0)  # 1 s at once: 1 s ahead
    pacer.admit(16000, now=100.5)  # 2 s received after 0.5 s: 1.5 s ahead
    with pytest.raises(ProtocolError, match=r"faster than real time \(2.2 s ahead"):
        pacer.admit(16000, now=100.8)  # would be 3 s after 0.8 s
    assert pacer.received_s == 2.0  # the dropped block is not counted
    pacer.admit(16000 * 10, now=110.0)  # at real time again: admitted


def test_serve_command_rejects_bad_limits_in_one_line() -> None:
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "voicebot", "serve", "--max-sessions", "0"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert out.stderr.strip() == "voicebot: error: max_sessions must be >= 1, got 0"


def test_client_keeps_silence_at_real_time() -> None:
    """The client's open "microphone" sends 20 ms of silence every 20 ms (÷ speed), not as
    fast as it can: the server maps audio time onto its clock from arrivals."""
    from voicebot.serve.client import ClientSession

    class Recorder:
        def __init__(self) -> None:
            self.sent: list[float] = []

        def send(self, data: bytes) -> None:
            self.sent.append(time.monotonic())

    client = ClientSession.__new__(ClientSession)
    client.ws = Recorder()  # type: ignore[assignment]
    client.received = Received()
    client._changed = threading.Condition()
    began = time.monotonic()
    assert not client.stream_silence_until(lambda r: False, timeout=0.2, speed=2.0)
    sent = client.ws.sent  # type: ignore[attr-defined]
    assert len(sent) == 21  # blocks due at 0, 10, ..., 200 ms (20 ms of audio each at 2x)
    assert sent[-1] - began >= 0.18


def test_the_sink_keeps_what_it_sent_on_session_time_for_the_echo_canceller() -> None:
    sink = SocketSink(lambda message: None, 16000)
    sink.play(np.full(16000, 0.25, np.float32), 16000, at=1.0)  # plays 1.0-2.0 s
    assert np.allclose(sink.played.read(1.5, 800), 0.25)
    assert not sink.played.read(0.5, 800).any()
    sink.stop(1.6)  # barge-in: nothing played after 1.6 s
    assert not sink.played.read(1.6, 800).any()
    assert np.allclose(sink.played.read(1.5, 800), 0.25)


def test_a_paused_sink_holds_the_rest_and_resumes_it_where_it_paused() -> None:
    sent: list[bytes | str] = []
    sink = SocketSink(sent.append, 16000)
    first = sink.play(np.full(16000, 0.25, np.float32), 16000, at=1.0)  # 1.0-2.0 s
    sink.pause(1.4)
    assert json.loads(sent[-1]) == {"type": "pause_playback"}
    assert not sink.played.read(1.4, 1600).any()  # nothing plays while paused
    later = sink.play(np.full(8000, 0.5, np.float32), 16000, at=1.5)  # 0.5 s, queued
    assert isinstance(sent[-1], bytes)  # sent at once: the client queues it
    sink.pause(1.6)  # paused already: nothing more to say
    assert json.loads(sent[-2]) == {"type": "pause_playback"}
    sink.resume(3.0)
    assert json.loads(sent[-1]) == {"type": "resume_playback"}
    assert first.start == 1.0
    # the 0.6 s left of the first block from 3.0 s, then the queued one
    assert later.start == pytest.approx(3.6)
    assert sink.busy_until() == pytest.approx(4.1)
    assert np.allclose(sink.played.read(3.0, 9600), 0.25)
    assert np.allclose(sink.played.read(3.6, 8000), 0.5)
    sink.resume(3.5)  # not paused: nothing to say
    assert json.loads(sent[-1]) == {"type": "resume_playback"} and len(sent) == 4


def test_stopping_a_paused_sink_drops_what_it_held() -> None:
    sent: list[bytes | str] = []
    sink = SocketSink(sent.append, 16000)
    sink.play(np.full(16000, 0.25, np.float32), 16000, at=1.0)
    sink.pause(1.4)
    queued = sink.play(np.full(8000, 0.5, np.float32), 16000, at=1.5)
    sink.stop(2.5)  # the user's words take the floor
    assert json.loads(sent[-1]) == {"type": "stop_playback"}
    assert queued.start == 2.5 and sink.busy_until() == pytest.approx(1.4)
    assert not sink.played.read(1.4, 32000).any()


def test_live_is_a_client_message_that_must_come_before_the_audio() -> None:
    assert parse_text('{"type": "live"}') == {"type": "live"}

"""`voicebot serve` over real sockets on 127.0.0.1, with fake engines (milliseconds of fake
compute): conversations, garbage from clients, the limits, and no leak when clients go
away mid-reply."""

from __future__ import annotations

import dataclasses
import gc
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from serve_helpers import QUESTION_TEXT, REPLY_TOKENS, fake_engines, question_audio

from voicebot.clock import MonotonicClock
from voicebot.config import load_config
from voicebot.metrics import read_log
from voicebot.pipeline import Conversation
from voicebot.serve.background import BackgroundServer
from voicebot.serve.client import ClientSession, Received, ServerRefused, talk_once
from voicebot.serve.protocol import Limits
from voicebot.serve.session import Session
from voicebot.testing.fakes import FakeLlm, scripted_audio

REPO = Path(__file__).resolve().parent.parent
FAST = 4.0  # stream the scripted question at 4x: the fakes do not care


@pytest.fixture
def server(tmp_path: Path) -> Iterator[BackgroundServer]:
    with BackgroundServer(fake_engines(), load_config(), log_dir=tmp_path / "logs") as running:
        yield running


def wait_until(condition: object, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.02)
    return False


def assert_answered(received: Received) -> dict:
    (turn,) = received.of_type("turn")
    assert turn["status"] == "ok", turn
    assert turn["user_text"].lower() == QUESTION_TEXT
    assert turn["reply_text"] == "The capital of France is Paris."
    assert "".join(e["text"] for e in received.of_type("reply_text")) == turn["reply_text"]
    assert [e["text"] for e in received.of_type("final")] == [turn["user_text"]]
    assert received.of_type("partial"), "no live transcript"
    assert {"llm_ttft", "tts_ttfb", "e2e_latency"} <= set(turn["figures"])
    assert len(received.pcm) > 0 and len(received.pcm) % 2 == 0
    return turn


def test_page_and_static_files(server: BackgroundServer) -> None:
    with urllib.request.urlopen(server.http_url, timeout=5) as r:
        page = r.read().decode()
        assert r.headers["Content-Type"].startswith("text/html")
    assert "app.js" in page and "Start talking" in page
    for name in ("app.js", "capture-worklet.js"):
        with urllib.request.urlopen(server.http_url + name, timeout=5) as r:
            assert r.status == 200 and b"voicebot" in r.read()
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(server.http_url + "secret.txt", timeout=5)
    assert err.value.code == 404
    err.value.close()


def test_a_conversation_over_the_socket(server: BackgroundServer, tmp_path: Path) -> None:
    received, _ = talk_once(server.url, question_audio(), speed=FAST, tail_silence_s=0.6)
    assert received.sample_rate == 16000  # the fake TTS's rate, announced in `ready`
    turn = assert_answered(received)
    assert received.closed == (1000, "session finished")
    (log,) = (tmp_path / "logs").glob("serve-*.jsonl")
    (logged,) = read_log(log)
    assert logged["reply_text"] == turn["reply_text"] and logged["figures"] == turn["figures"]
    assert wait_until(lambda: not server.state.sessions)


def test_garbage_gets_errors_and_everyone_goes_on(server: BackgroundServer) -> None:
    other: list[Received] = []
    neighbour = threading.Thread(target=lambda: other.append(
        talk_once(server.url, question_audio(), speed=1.5, tail_silence_s=0.6)[0]))
    neighbour.start()
    with ClientSession(server.url) as client:
        client.ws.send("hello there")
        client.ws.send(b"\x00\x01\x02")
        client.ws.send(b"\x00" * (10 << 20))
        client.ws.send('{"type": "dance"}')
        for _ in range(2):  # 2 x 16 s of audio at once: over 30 s ahead of real time
            client.ws.send(bytes(16 * 32000))
        assert client.wait_for(lambda r: len(r.of_type("error")) == 5, timeout=10)
        messages = [e["message"] for e in client.received.of_type("error")]
        assert "not JSON" in messages[0]
        assert "3 bytes" in messages[1] and "even byte count" in messages[1]
        assert "10485760 bytes exceeds the limit" in messages[2]
        assert "unknown message type 'dance'" in messages[3]
        assert "faster than real time" in messages[4]
        # the same connection still works
        client.stream(question_audio(), speed=FAST)
        client.stream(np.zeros(9600, np.float32), speed=FAST)
        received = client.end(timeout=30)
    assert_answered(received)
    neighbour.join(30)
    assert_answered(other[0])


def test_max_sessions_refuses_clearly(tmp_path: Path) -> None:
    limits = Limits(max_sessions=1)
    with BackgroundServer(fake_engines(), load_config(), limits) as server, \
            ClientSession(server.url):
        with pytest.raises(ServerRefused, match="server full: 1 conversations"):
            ClientSession(server.url)
        assert server.state.refused == 1
    # and once the first one has gone, there is room again (checked on a fresh server)


def test_a_freed_slot_is_reused() -> None:
    with BackgroundServer(fake_engines(), load_config(), Limits(max_sessions=1)) as server:
        with ClientSession(server.url):
            pass
        assert wait_until(lambda: not server.state.sessions)
        with ClientSession(server.url) as again:
            assert again.ready["type"] == "ready"


def test_idle_timeout_closes_a_silent_client() -> None:
    limits = Limits(idle_timeout_s=0.3)
    with BackgroundServer(fake_engines(), load_config(), limits) as server, \
            ClientSession(server.url) as client:
        assert client.wait_for(lambda r: r.closed is not None, timeout=5)
        (error,) = client.received.of_type("error")
        assert "idle for 0.3 s" in error["message"]


def test_client_script_prints_transcript_and_figures(
    server: BackgroundServer, tmp_path: Path
) -> None:
    from voicebot.audio.wav import write_wav

    wav = tmp_path / "q.wav"
    write_wav(wav, question_audio(), 16000)
    out = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "voicebot_client.py"), str(wav), "--url",
         server.url, "--speed", str(FAST), "--tail-silence", "0.6",
         "--reply-wav", str(tmp_path / "reply.wav")],
        capture_output=True, text=True, timeout=60, cwd=REPO,
    )
    assert out.returncode == 0, out.stderr
    assert f"you: {QUESTION_TEXT}" in out.stdout.lower()
    assert "bot: The capital of France is Paris." in out.stdout
    assert "e2e latency" in out.stdout and "LLM first token" in out.stdout
    assert (tmp_path / "reply.wav").stat().st_size > 1000


def test_unreachable_server_is_one_line(tmp_path: Path) -> None:
    from voicebot.audio.wav import write_wav

    wav = tmp_path / "q.wav"
    write_wav(wav, question_audio(), 16000)
    out = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "voicebot_client.py"), str(wav), "--url",
         "ws://127.0.0.1:9/ws"], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert out.returncode == 1
    assert out.stderr.startswith("voicebot_client: cannot reach ws://127.0.0.1:9/ws")
    assert "Traceback" not in out.stderr


def _rss_mb() -> float:
    import psutil

    return float(psutil.Process().memory_info().rss) / 1e6


SHORT_QUESTION = scripted_audio([(0.1, 0.8)], 1.3)  # "what is": enough for a reply


def _talk_and_hang_up(url: str) -> None:
    """Ask, and disconnect as soon as the reply's first audio arrives."""
    client = ClientSession(url)
    try:
        client.stream(SHORT_QUESTION, speed=200.0)
        assert client.stream_silence_until(lambda r: bool(r.audio), timeout=10.0, speed=50.0)
    finally:
        client.close()


def test_disconnects_mid_reply_free_their_sessions(tmp_path: Path) -> None:
    """100 clients hang up mid-reply: every session ends (its reply cancelled, its turn
    logged as interrupted), and thread count and memory stay flat."""
    long_reply = tuple(f" word{i}." for i in range(800))  # ~4 s of generation
    engines = fake_engines(long_reply, per_token_s=0.005)
    with BackgroundServer(engines, load_config(), log_dir=tmp_path / "logs") as server:
        for _ in range(10):  # warm up (imports, allocator pools)
            _talk_and_hang_up(server.url)
        assert wait_until(lambda: not server.state.sessions)
        threads, rss = threading.active_count(), _rss_mb()
        for _ in range(90):
            _talk_and_hang_up(server.url)
        assert wait_until(lambda: not server.state.sessions), server.state.sessions
        assert wait_until(lambda: threading.active_count() <= threads, timeout=5), \
            [t.name for t in threading.enumerate()]
        growth = _rss_mb() - rss
        # a leaked session holds at least its listener's audio buffers (~0.4 MB): 90 of
        # them would be over 30 MB; allocator pools settling account for a few MB
        assert growth < 20, f"memory grew {growth:.1f} MB over 90 sessions"
        gc.collect()
        alive = [o for o in gc.get_objects() if type(o) in (Session, Conversation)]
        assert not alive, f"{len(alive)} sessions or conversations still referenced"
    logs = list((tmp_path / "logs").glob("serve-*.jsonl"))
    statuses = [turn["status"] for log in logs for turn in read_log(log)]
    assert len(statuses) == 100
    assert statuses.count("interrupted") >= 95, statuses
    tokens_per_reply = engines.llm.tokens_sent / 100  # type: ignore[attr-defined]
    assert tokens_per_reply < len(long_reply) / 2, "replies went on after the client left"
    print(f"threads {threads} -> {threading.active_count()}, RSS growth {growth:.1f} MB, "
          f"{tokens_per_reply:.0f} tokens per abandoned reply")


def test_a_slow_session_does_not_stall_another() -> None:
    """While one conversation's thread waits on a slow LLM (2 s to the first token), a
    second client connects, is heard and gets its transcript: nothing is serialised
    behind the first one but the shared model it is using. (No speculative reply here:
    it would make each session wait for its own slow LLM before its final transcript.)"""
    engines = fake_engines()
    engines.llm = FakeLlm(MonotonicClock(), REPLY_TOKENS, ttft_s=2.0, per_token_s=0.005)
    cfg = load_config()
    cfg.conversation = dataclasses.replace(cfg.conversation, speculative_reply=False)
    with BackgroundServer(engines, cfg) as server, \
            ClientSession(server.url) as slow, ClientSession(server.url) as other:
        slow.stream(question_audio(), speed=20.0)
        assert slow.stream_silence_until(lambda r: bool(r.of_type("final")), 10, speed=5.0)
        other.stream(question_audio(), speed=20.0)
        assert other.stream_silence_until(lambda r: bool(r.of_type("final")), 10, speed=5.0)
        assert not slow.received.of_type("reply_text"), "the slow reply was not slow"
        assert not slow.received.of_type("error") and not other.received.of_type("error")
        assert_answered(slow.end(timeout=30))
        assert_answered(other.end(timeout=30))

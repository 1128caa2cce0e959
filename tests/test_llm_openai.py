"""OpenAI-compatible backend against llama.cpp's real HTTP server (a subprocess on a free
loopback port), plus the error paths."""

from __future__ import annotations

import http.server
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from voicebot.errors import BackendError
from voicebot.events import ChatMessage
from voicebot.llm.openai_http import OpenAICompatibleLlm, OpenAIParams
from voicebot.testing.fakes import leftover_threads

REPO = Path(__file__).resolve().parent.parent
QUESTION = [ChatMessage("system", "Answer in one short sentence."),
            ChatMessage("user", "What is the capital of France?")]
API_KEY = "voicebot-test-key"
READY_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def client(base_url: str, **kwargs: object) -> OpenAICompatibleLlm:
    return OpenAICompatibleLlm(OpenAIParams(base_url=base_url, **kwargs))  # type: ignore[arg-type]


def wait_ready(address: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the server exited early"
        try:
            with urllib.request.urlopen(f"{address}/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"server not ready within {READY_TIMEOUT_S} s")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "scripts" / "llama_server.py"), "--port", str(port),
         "--api-key", API_KEY],
        stdout=subprocess.PIPE, text=True)
    try:
        address = f"http://127.0.0.1:{port}"
        wait_ready(address, proc)
        yield f"{address}/v1"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.slow
def test_streams_a_reply_from_the_real_server(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOICEBOT_TEST_KEY", API_KEY)
    llm = client(server, api_key_env="VOICEBOT_TEST_KEY")
    deltas = list(llm.stream(QUESTION, cancel=threading.Event()))
    assert len(deltas) > 1
    assert "paris" in "".join(deltas).lower()


@pytest.mark.slow
def test_cancel_closes_the_connection(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOICEBOT_TEST_KEY", API_KEY)
    llm = client(server, api_key_env="VOICEBOT_TEST_KEY", max_tokens=200)
    cancel = threading.Event()
    got = []
    story = [ChatMessage("user", "Tell me a long story about a dragon.")]
    for delta in llm.stream(story, cancel=cancel):
        got.append(delta)
        if len(got) == 2:
            cancel.set()
    assert len(got) == 2
    stream = llm.stream(story, cancel=threading.Event())
    assert next(stream)
    stream.close()
    assert leftover_threads() == []


@pytest.mark.slow
def test_wrong_api_key_is_a_one_line_http_error(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOICEBOT_TEST_KEY", "wrong")
    with pytest.raises(BackendError, match="HTTP 401") as err:
        list(client(server, api_key_env="VOICEBOT_TEST_KEY").stream(
            QUESTION, cancel=threading.Event()))
    assert "\n" not in str(err.value)


def test_unreachable_endpoint_is_a_backend_error() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(BackendError) as err:
        list(client(url).stream(QUESTION, cancel=threading.Event()))
    message = str(err.value)
    assert message.startswith(f"cannot reach {url}")
    assert "connection refused" in message and "\n" not in message


class _Silent(http.server.BaseHTTPRequestHandler):
    """Answers every chat request with a stream that has no content."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        self.wfile.write(b'data: {"choices":[{"delta":{"role":"assistant"}}]}\n\n')
        self.wfile.write(b"data: [DONE]\n\n")

    def log_message(self, *args: object) -> None:
        pass


def test_empty_reply_is_a_backend_error() -> None:
    httpd = http.server.HTTPServer(("127.0.0.1", 0), _Silent)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
        with pytest.raises(BackendError, match="empty reply"):
            list(client(url).stream(QUESTION, cancel=threading.Event()))
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_timeout_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts the connection, never answers
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
        with pytest.raises(BackendError, match="no answer within"):
            list(client(url, timeout_s=0.3).stream(QUESTION, cancel=threading.Event()))
    finally:
        listener.close()

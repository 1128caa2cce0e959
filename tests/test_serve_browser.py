"""The page of `voicebot serve` in a real headless Chromium (the system's), with the default
models: a spoken question played by Chromium's fake microphone reaches the server through
getUserMedia and the page's AudioWorklet, and the page shows its transcript, the streamed
reply and the latency table. A screenshot is saved in the test's tmp dir."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from voicebot.testing.cdp import Chromium, find_chromium

pytestmark = pytest.mark.slow
QUESTION = "What is the capital of France?"
CHROMIUM = find_chromium()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any]]:
    from voicebot.config import load_config
    from voicebot.serve.background import BackgroundServer
    from voicebot.serve.engines import close_engines, load_engines

    if CHROMIUM is None:
        pytest.skip("Chromium not found (install the Debian package `chromium`, as "
                    "scripts/install-system-deps.sh does, or set VOICEBOT_CHROMIUM)")
    cfg = load_config()
    engines = load_engines(cfg)
    logs = tmp_path_factory.mktemp("serve-logs")
    try:
        with BackgroundServer(engines, cfg, log_dir=logs) as server:
            yield server, engines
    finally:
        close_engines(engines)


def spoken_question(engines: Any, path: Path) -> Path:
    """The question in the project's own voice, with silence around it."""
    from voicebot.audio.resample import resample
    from voicebot.audio.wav import write_wav

    tts = engines.tts
    speech = resample(np.concatenate(list(tts.synthesize(QUESTION))), tts.sample_rate, 16000)
    silence = np.zeros(16000, dtype=np.float32)
    write_wav(path, np.concatenate([silence, speech, silence, silence, silence]), 16000)
    return path


def test_talk_from_the_browser_page(served: tuple[Any, Any], tmp_path: Path) -> None:
    server, engines = served
    assert CHROMIUM is not None
    question = spoken_question(engines, tmp_path / "question.wav")
    flags = ("--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
             f"--use-file-for-fake-audio-capture={question}%noloop",
             "--autoplay-policy=no-user-gesture-required")
    with Chromium(CHROMIUM, tmp_path / "profile", flags) as browser, browser.page() as page:
        page.navigate(server.http_url)
        page.evaluate("document.getElementById('talk').click()", user_gesture=True)
        turn = page.wait_for("window.voicebot.turns[0]", timeout=60)
        page.wait_for("document.querySelectorAll('#latency thead th').length === 2", 10)
        shown = page.evaluate("""({
            transcript: document.getElementById('transcript').innerText,
            table: document.getElementById('latency').innerText,
            audioBytes: window.voicebot.audioBytes,
            state: window.voicebot.state,
            replyRate: window.voicebot.replyRate,
        })""")
        shot = page.screenshot(tmp_path / "voicebot-page.png")
        page.evaluate("document.getElementById('talk').click()")  # stop: the socket closes
    print(f"screenshot: {shot}\n{shown['transcript']}\n{shown['table']}")
    assert turn["status"] == "ok", turn
    assert "capital of france" in turn["user_text"].lower()
    assert turn["reply_text"]
    assert "capital of france" in shown["transcript"].lower()
    assert f"bot: {turn['reply_text'][:20]}" in shown["transcript"]
    assert shown["replyRate"] == engines.tts.sample_rate
    assert shown["audioBytes"] > 0.5 * 2 * shown["replyRate"], "under 0.5 s of reply audio"
    assert "turn 1" in shown["table"]
    assert re.search(r"e2e latency\s+\d+ ms", shown["table"]), shown["table"]
    assert re.search(r"LLM first token\s+\d+ ms", shown["table"]), shown["table"]
    assert shot.stat().st_size > 10_000
    assert _sessions_end(server)


def _sessions_end(server: Any, timeout: float = 10.0) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while server.state.sessions and time.monotonic() < deadline:
        time.sleep(0.05)
    return not server.state.sessions

"""The LLM server fails in every way a network service can: `voicebot talk` logs each turn
with its own status and the partial reply, keeps going, and exits non-zero when nothing
was answered; `voicebot chat` says so in one line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.reliability.conftest import (
    QUESTIONS,
    RATE,
    assert_one_line_error,
    run_voicebot,
    speak,
    write_config,
)
from tests.reliability.llm_server import ScriptedLlmServer, refused_url
from voicebot.metrics import read_log


@pytest.fixture(scope="module")
def question_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pad = np.zeros(RATE // 2, np.float32)
    path = tmp_path_factory.mktemp("one") / "question.wav"
    sf.write(path, np.concatenate([pad, speak(QUESTIONS[0]), pad]), RATE)
    return path


def talk(tmp_path: Path, wav: Path, base_url: str, **llm: object):  # type: ignore[no-untyped-def]
    config = write_config(tmp_path, base_url, **llm)
    log, out = tmp_path / "s.jsonl", tmp_path / "reply.wav"
    result = run_voicebot(["talk", "--config", str(config), "-i", str(wav), "-o", str(out),
                           "--log", str(log), "--no-table"], tmp_path)
    turns = read_log(log) if log.exists() else []
    return result, turns, out


def test_a_whole_reply_is_ok_and_the_wav_spans_the_input(
    tmp_path: Path, question_wav: Path, llm_server: ScriptedLlmServer
) -> None:
    result, turns, out = talk(tmp_path, question_wav, llm_server.base_url)
    assert result.returncode == 0, result.stderr
    assert [t["status"] for t in turns] == ["ok"]
    assert turns[0]["reply_text"] == "The capital of France is Paris. It is a lovely city."
    assert sf.info(out).duration >= sf.info(question_wav).duration


@pytest.mark.parametrize(("mode", "status", "fragment", "partial"), [
    ("close", "truncated", "closed the stream before the reply was complete",
     "The capital of France"),
    ("stall", "truncated", "the reply stalled (nothing for 1 s", "The capital of France"),
    ("never", "failed", "no answer within 3 s", ""),
    ("error", "failed", "HTTP 500: model is overloaded", ""),
])
def test_a_broken_server_is_logged_with_its_own_status(
    tmp_path: Path, question_wav: Path, mode: str, status: str, fragment: str, partial: str
) -> None:
    server = ScriptedLlmServer(mode)
    try:
        result, turns, out = talk(tmp_path, question_wav, server.base_url)
    finally:
        server.close()
    assert "Traceback" not in result.stderr, result.stderr
    assert [t["status"] for t in turns] == [status], result.stderr
    assert fragment in turns[0]["error"]
    assert turns[0]["partial_reply"] == partial
    assert turns[0]["reply_text"] == ""  # a cut reply is never passed off as the answer
    # the only turn failed: the exit code says so, in one line
    assert_one_line_error(result, 1, "every turn failed")
    # the reply WAV still spans the input (time-aligned, silent where nothing was said)
    assert sf.info(out).duration >= sf.info(question_wav).duration


def test_refused_connection_is_one_line_per_turn_and_exit_1(
    tmp_path: Path, question_wav: Path
) -> None:
    result, turns, _ = talk(tmp_path, question_wav, refused_url())
    assert [t["status"] for t in turns] == ["failed"]
    assert "connection refused — is the server running?" in turns[0]["error"]
    assert_one_line_error(result, 1, "every turn failed")


def test_chat_with_a_refused_server_is_one_line(tmp_path: Path) -> None:
    config = write_config(tmp_path, refused_url())
    result = run_voicebot(["chat", "--config", str(config), "-m", "hello", "-o",
                           str(tmp_path / "r.wav")], tmp_path)
    assert_one_line_error(result, 1, "connection refused")


def test_chat_with_a_cut_stream_is_one_line(tmp_path: Path) -> None:
    server = ScriptedLlmServer("close")
    try:
        config = write_config(tmp_path, server.base_url)
        result = run_voicebot(["chat", "--config", str(config), "-m", "hello", "-o",
                               str(tmp_path / "r.wav")], tmp_path)
    finally:
        server.close()
    assert_one_line_error(result, 1, "closed the stream before the reply was complete")


def test_chat_empty_message_is_one_line(tmp_path: Path, llm_server: ScriptedLlmServer) -> None:
    config = write_config(tmp_path, llm_server.base_url)
    result = run_voicebot(["chat", "--config", str(config), "-m", ""], tmp_path)
    assert_one_line_error(result, 1, "nothing to say")
    assert llm_server.requests == []


def test_chat_context_overflow_is_one_line_and_the_chat_goes_on(
    tmp_path: Path, llm_server: ScriptedLlmServer
) -> None:
    config = write_config(tmp_path, llm_server.base_url)
    result = run_voicebot(["chat", "--config", str(config), "-m", "why? " * 6000,
                           "-m", "What is the capital of France?",
                           "-o", str(tmp_path / "r.wav")], tmp_path)
    assert_one_line_error(result, 1, "message too long", "conversation.history_tokens")
    assert "Paris" in result.stdout  # the next message is answered
    assert len(llm_server.requests) == 1

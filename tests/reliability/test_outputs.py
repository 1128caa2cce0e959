"""Write failures: a full disk (/dev/full), a bad output path, a read-only model cache.
Each is one line; what was finished is kept."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import soundfile as sf

from tests.reliability.conftest import assert_one_line_error, run_voicebot, write_config
from tests.reliability.llm_server import ScriptedLlmServer

FULL = Path("/dev/full")
needs_dev_full = pytest.mark.skipif(not FULL.exists(), reason="no /dev/full on this system")


@needs_dev_full
def test_log_on_a_full_disk_warns_once_and_the_session_goes_on(
    tmp_path: Path, questions_wav: Path, llm_server: ScriptedLlmServer
) -> None:
    config = write_config(tmp_path, llm_server.base_url)
    out = tmp_path / "reply.wav"
    result = run_voicebot(["talk", "--config", str(config), "-i", str(questions_wav),
                           "-o", str(out), "--log", str(FULL)], tmp_path)
    assert "Traceback" not in result.stderr
    warnings = [ln for ln in result.stderr.splitlines() if ln.startswith("voicebot: warning")]
    assert warnings == [
        "voicebot: warning: cannot write the session log /dev/full: No space left on device; "
        "the session goes on unlogged"]
    # turn 2 is answered after the write failed (on a crowded CPU the two questions may
    # merge into one turn: still answered)
    assert result.stdout.count("(ok)") >= 1 and "(failed)" not in result.stdout
    assert "Log not written: cannot write the session log /dev/full" in result.stderr
    assert result.returncode == 1  # a session whose log was lost is not a success
    assert sf.info(out).duration > 5


@needs_dev_full
def test_talk_output_on_a_full_disk_fails_before_the_models_load(
    tmp_path: Path, questions_wav: Path, llm_server: ScriptedLlmServer
) -> None:
    config = write_config(tmp_path, llm_server.base_url)
    result = run_voicebot(["talk", "--config", str(config), "-i", str(questions_wav),
                           "-o", str(FULL)], tmp_path)
    assert_one_line_error(result, 1, "cannot write the reply audio /dev/full: "
                                     "No space left on device")
    assert "Loading" not in result.stderr


@needs_dev_full
def test_say_to_a_full_disk_is_one_line(tmp_path: Path) -> None:
    result = run_voicebot(["say", "Hello there.", "--backend", "espeak", "-o", str(FULL)],
                          tmp_path)
    assert_one_line_error(result, 1, "/dev/full: No space left on device")


def test_say_into_a_missing_folder_under_a_file_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run_voicebot(["say", "Hello.", "--backend", "espeak", "-o",
                           str(blocker / "out.wav")], tmp_path)
    assert_one_line_error(result, 1, f"cannot write the reply audio {blocker / 'out.wav'}")


def test_say_twenty_thousand_characters(tmp_path: Path) -> None:
    text = ("The quick brown fox jumps over the lazy dog, and then it rests. " * 320)[:20000]
    out = tmp_path / "long.wav"
    result = run_voicebot(["say", text, "--backend", "espeak", "-o", str(out)], tmp_path,
                          timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert sf.info(out).duration > 600  # about 20 minutes of speech, none dropped


def unwritable_cache(tmp_path: Path) -> Path:
    """A cache folder that cannot be written, even by root (a file sits where the
    voicebot folder would be created)."""
    cache = tmp_path / "cache"
    cache.mkdir()
    if os.geteuid() == 0:
        (cache / "voicebot").write_text("not a folder")
    else:
        cache.chmod(0o555)
    return cache


def test_read_only_cache_is_one_line(tmp_path: Path) -> None:
    from voicebot.asr.base_model import PARTS

    pytest.importorskip(PARTS[0][0], reason="the whisper-base part packages are not installed")
    cache = unwritable_cache(tmp_path)
    config = tmp_path / "base.yaml"
    config.write_text("extends: " + str(Path(__file__).parents[2] / "configs/default.yaml")
                      + "\nasr:\n  model: base\n")
    wav = tmp_path / "s.wav"
    sf.write(wav, [0.0] * 16000, 16000)
    result = run_voicebot(["transcribe", "--config", str(config), str(wav)], tmp_path,
                          XDG_CACHE_HOME=str(cache), VOICEBOT_CACHE="")
    assert_one_line_error(result, 1, "cannot write the model cache", str(cache),
                          "VOICEBOT_CACHE")

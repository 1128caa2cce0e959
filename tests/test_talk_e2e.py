"""End to end on the default config: a spoken question WAV in -> a reply WAV, a JSONL turn
with every mark, and a transcript close to the question."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from voicebot.cli import main
from voicebot.metrics import MARKS, read_log

QUESTION = "What is the capital of France?"
REAL_QUESTIONS = ("lj_LJ001-0008.wav", "timit_LDC93S1.wav")  # clean read speech
FOLLOW_UP = "How many legs does a spider have?"


def words(text: str) -> list[str]:
    return re.sub(r"[^a-z ]", "", text.lower()).split()


@pytest.fixture(scope="module")
def question_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two questions spoken by the default TTS (piper), 8 s apart (room for the first
    reply), at 22.05 kHz: the talk loop converts any WAV."""
    from voicebot import registry

    tts = registry.create("tts", "piper", registry.params_class("tts", "piper")())
    first, second = (np.concatenate(list(tts.synthesize(q))) for q in (QUESTION, FOLLOW_UP))
    pad = np.zeros(tts.sample_rate, dtype=np.float32)
    gap = np.zeros(8 * tts.sample_rate, dtype=np.float32)
    path = tmp_path_factory.mktemp("talk") / "questions.wav"
    sf.write(path, np.concatenate([pad, first, gap, second, pad]), tts.sample_rate)
    return path


@pytest.mark.slow
def test_talk_replays_a_question_and_writes_the_reply(
    question_wav: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reply_wav, log = tmp_path / "reply.wav", tmp_path / "session.jsonl"
    code = main(["talk", "--input", str(question_wav), "--output", str(reply_wav),
                 "--log", str(log)])
    assert code == 0
    out = capsys.readouterr().out
    assert "e2e latency" in out and "GPT-4o" in out

    turns = read_log(log)
    assert [t["status"] for t in turns] == ["ok", "ok"], [t.get("error") for t in turns]
    for turn, question in zip(turns, (QUESTION, FOLLOW_UP), strict=True):
        heard = words(turn["user_text"])
        assert len(set(heard) & set(words(question))) >= 5, heard
    turn = turns[0]
    assert set(MARKS) <= set(turn["marks"])
    assert turn["reply_text"].strip()
    assert turn["figures"]["e2e_latency"] > 0  # speed is the benchmark's business

    audio, rate = sf.read(reply_wav, dtype="float32")
    voiced = audio[int(turn["marks"]["playback_start"] * rate):]
    assert len(voiced) / rate > 0.5
    assert float(np.sqrt(np.mean(voiced**2))) > 0.01  # speech, not silence
    # time-aligned: nothing is played before the reply starts
    assert not audio[: int((turn["marks"]["playback_start"] - 0.05) * rate)].any()
    assert_logged_e2e_matches_the_recordings(question_wav, reply_wav, turns)


AGREEMENT_S = 0.030


def assert_logged_e2e_matches_the_recordings(
    question_wav: Path, reply_wav: Path, turns: list[dict]
) -> None:
    """The logged e2e of every turn agrees with the one measured from outside (the input and
    the time-aligned reply WAV, energy onsets) within 30 ms, and no figure is negative."""
    from voicebot.audio.wav import read_wav
    from voicebot.bench.audible import measure_turns

    rate = 16000
    user, reply = read_wav(question_wav, rate), read_wav(reply_wav, rate)
    measured = measure_turns(user, reply, rate)
    logged = [t["figures"]["e2e_latency"] for t in turns]
    assert len(measured) == len(logged), (measured, logged)
    for outside, inside in zip(measured, logged, strict=True):
        assert abs(outside.e2e - inside) <= AGREEMENT_S, (outside, inside)
    for turn in turns:
        assert all(v >= 0 for v in turn["figures"].values()), turn["figures"]


@pytest.mark.slow
@pytest.mark.parametrize("name", REAL_QUESTIONS)
def test_logged_e2e_matches_the_recordings_on_real_speech(
    speech_dir: Path, tmp_path: Path, name: str
) -> None:
    question_wav = speech_dir / name
    reply_wav, log = tmp_path / "reply.wav", tmp_path / "session.jsonl"
    assert main(["talk", "--input", str(question_wav), "--output", str(reply_wav),
                 "--log", str(log), "--no-table"]) == 0
    turns = read_log(log)
    assert [t["status"] for t in turns] == ["ok"], [t.get("error") for t in turns]
    assert_logged_e2e_matches_the_recordings(question_wav, reply_wav, turns)


@pytest.mark.slow
def test_talk_rejects_a_corrupt_wav_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk")
    code = main(["talk", "--input", str(bad), "--output", str(tmp_path / "r.wav"),
                 "--log", str(tmp_path / "s.jsonl")])
    err = capsys.readouterr().err
    assert code != 0
    assert "bad.wav" in err and "Traceback" not in err

"""`voicebot talk` on the default devices of a real sound server: two spoken questions get two
spoken replies, the log's figures are positive, and its e2e agrees with the recording."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf
from live_helpers import Voicebot, read_rows, wait_for_log, wait_until

from voicebot.bench.audible import audible_onsets, measure_turns, speech_ends
from voicebot.testing.pulse import SPEAKER_CHANNEL, VOICE_CHANNEL, PulseServer, stop_recording

QUESTION_GAP_S = 12.0  # from the start of one question to the start of the next
E2E_TOLERANCE_S = 0.050
READY_TIMEOUT_S = 240.0  # model loads on a busy CI machine


def test_talk_answers_two_questions_and_logs_what_the_recording_shows(
    pulse: PulseServer, questions: dict[str, Path], voicebot: Callable[..., Voicebot],
    tmp_path: Path,
) -> None:
    log = tmp_path / "talk.jsonl"
    recording = tmp_path / "room.wav"
    recorder = pulse.record(recording)  # left: the user's voice, right: the bot's speaker
    try:
        bot = voicebot("talk", "--log", str(log), "--echo-recording", str(tmp_path / "echo.wav"))
        bot.wait_for("Listening", READY_TIMEOUT_S)
        time.sleep(1.0)
        first = time.monotonic()
        pulse.play(questions["france"]).wait(timeout=30)
        wait_until(first + QUESTION_GAP_S)
        pulse.play(questions["spider"]).wait(timeout=30)
        rows = wait_for_log(log, 2, 60.0, bot)
        time.sleep(0.5)
        status = bot.interrupt()
    finally:
        stop_recording(recorder)

    room, rate = sf.read(recording, dtype="float32", always_2d=True)
    voice, speaker = room[:, VOICE_CHANNEL], room[:, SPEAKER_CHANNEL]
    measured = measure_turns(voice, speaker, rate)
    rows = read_rows(log)
    report = _report(rows, measured, speech_ends(voice, rate), audible_onsets(speaker, rate),
                     bot)

    problems = []
    if status != 130 or "Traceback" in bot.stderr:
        problems.append(f"Ctrl-C: exit status {status} (want 130, no traceback)")
    if [r["status"] for r in rows] != ["ok", "ok"]:
        problems.append("want two turns with status ok in the log")
    # every figure is positive, but the final transcript's delay is 0 when the pause decode
    # had it ready at the endpoint (the designed best case, test_pipeline_scenarios)
    negative = {f"turn {r['index']} {name}": value for r in rows
                for name, value in r["figures"].items()
                if value < 0 or (value == 0 and name != "transcription_delay")}
    if negative:
        problems.append(f"figures out of range: {negative}")
    if len(measured) != 2:
        problems.append(f"want two spoken replies after the two questions, "
                        f"measured {len(measured)}")
    for turn, row in zip(measured, rows, strict=False):
        logged = row["figures"].get("e2e_latency")
        if logged is None or abs(logged - turn.e2e) > E2E_TOLERANCE_S:
            problems.append(f"turn {row['index']}: logged e2e {logged} s vs measured "
                            f"{turn.e2e:.3f} s (tolerance {E2E_TOLERANCE_S * 1000:.0f} ms)")
    assert not problems, "\n".join(problems) + "\n" + report


def _report(rows: list[dict[str, object]], measured: list[object], ends: list[float],
            onsets: list[float], bot: Voicebot) -> str:
    lines = ["measured from the recording (s, from its start):"]
    lines += [f"  {turn}" for turn in measured]
    lines.append(f"  user speech ends: {np.round(ends, 3).tolist()}")
    lines.append(f"  speaker onsets: {np.round(onsets, 3).tolist()}")
    lines.append("log:")
    lines += [f"  {r.get('index')} {r.get('status')} you={r.get('user_text')!r} "
              f"bot={r.get('reply_text')!r}\n    marks={r.get('marks')}\n"
              f"    figures={r.get('figures')}" for r in rows]
    lines.append("voicebot stderr (tail):")
    lines += ["  " + line for line in bot.stderr.splitlines()[-40:] if "ALSA lib" not in line]
    return "\n".join(lines)

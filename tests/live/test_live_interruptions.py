"""What a live session must survive: the user speaking over the reply (--barge-in), and the
audio device going away mid-session."""

from __future__ import annotations

import os
import select
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf
from live_helpers import Voicebot, read_rows, wait_for_log

from voicebot.bench.audible import audible_ends, audible_onsets, speech_ends
from voicebot.config import load_config
from voicebot.testing.pulse import SPEAKER_CHANNEL, VOICE_CHANNEL, PulseServer, stop_recording

READY_TIMEOUT_S = 240.0
BARGE_IN_STOP_S = 0.300
AUDIBLE = 10 ** (-45 / 20)


def test_barge_in_stops_the_reply_within_300_ms_of_the_user_speaking(
    pulse: PulseServer, questions: dict[str, Path], voicebot: Callable[..., Voicebot],
    tmp_path: Path,
) -> None:
    log = tmp_path / "talk.jsonl"
    recording = tmp_path / "room.wav"
    recorder = pulse.record(recording)
    try:
        # headphones: no echo cancellation, barge-in asked for (the canceller would hold
        # the microphone for the first seconds of the first reply while it learns the room;
        # tests/live/test_live_echo.py covers open speakers)
        bot = voicebot("talk", "--barge-in", "--echo-cancellation", "off", "--log", str(log))
        bot.wait_for("Listening", READY_TIMEOUT_S)
        time.sleep(1.0)
        pulse.play(questions["story"]).wait(timeout=30)
        heard = _wait_for_speaker(pulse, timeout_s=60.0)
        assert heard, f"no reply audio within 60 s:\n{bot.stderr[-3000:]}"
        time.sleep(0.5)  # the user lets it speak half a second, then talks over it
        pulse.play(questions["stop"]).wait(timeout=30)
        wait_for_log(log, 1, 30.0, bot)  # the interrupted turn is logged as it is cut
        time.sleep(1.5)  # the recording must show where the reply fell silent
        status = bot.interrupt()
    finally:
        stop_recording(recorder)

    room, rate = sf.read(recording, dtype="float32", always_2d=True)
    user_onsets = audible_onsets(room[:, VOICE_CHANNEL], rate)
    user_ends = speech_ends(room[:, VOICE_CHANNEL], rate)
    reply_onsets = audible_onsets(room[:, SPEAKER_CHANNEL], rate)
    reply_ends = audible_ends(room[:, SPEAKER_CHANNEL], rate)
    rows = read_rows(log)
    facts = (f"user onsets {np.round(user_onsets, 3).tolist()}, user speech ends "
             f"{np.round(user_ends, 3).tolist()}, reply onsets "
             f"{np.round(reply_onsets, 3).tolist()}, reply ends "
             f"{np.round(reply_ends, 3).tolist()}; log: "
             + "; ".join(f"{r['index']} {r['status']} {r.get('error')}" for r in rows))
    assert status == 130 and "Traceback" not in bot.stderr, bot.stderr[-3000:]
    assert len(user_onsets) == 2 and len(user_ends) == 2, facts
    over, over_end = user_onsets[1], user_ends[1]  # the user talks over the reply here
    assert reply_onsets and reply_onsets[0] < over, f"no reply before the user spoke: {facts}"
    # Everything the speaker played that began before the endpoint could fire on the user's
    # interruption is the old reply (a pause between its sentences included): the answer to
    # the interruption can only begin after that.
    endpoint_s = load_config(None).endpoint.end_ms / 1000
    old_reply = [end for start, end in zip(reply_onsets, reply_ends, strict=True)
                 if start < over_end + endpoint_s and end > over]
    assert old_reply, f"the reply had finished before the user spoke over it: {facts}"
    stopped_after = max(old_reply) - over
    assert stopped_after <= BARGE_IN_STOP_S, (
        f"playback went on {stopped_after * 1000:.0f} ms after the user spoke over it: {facts}")
    assert rows and rows[0]["status"] == "interrupted", facts


def _wait_for_speaker(pulse: PulseServer, timeout_s: float) -> bool:
    """Listen to the speaker until something audible plays (True) or the timeout (False)."""
    reader = subprocess.Popen(
        ["parec", "-d", "speaker.monitor", "--raw", "--format=s16le", "--rate=16000",
         "--channels=1", "--latency-msec=20"],
        env=pulse.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert reader.stdout is not None
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([reader.stdout], [], [], 0.1)
            if not ready:
                continue
            chunk = os.read(reader.stdout.fileno(), 640)
            samples = np.frombuffer(chunk[: len(chunk) // 2 * 2], dtype="<i2") / 32768.0
            if samples.size and float(np.max(np.abs(samples))) > AUDIBLE:
                return True
        return False
    finally:
        reader.kill()
        reader.wait()


def test_the_device_going_away_is_one_clear_line_and_the_finished_turns_are_logged(
    pulse: PulseServer, questions: dict[str, Path], voicebot: Callable[..., Voicebot],
    tmp_path: Path,
) -> None:
    log = tmp_path / "talk.jsonl"
    bot = voicebot("talk", "--log", str(log))
    bot.wait_for("Listening", READY_TIMEOUT_S)
    time.sleep(1.0)
    pulse.play(questions["france"]).wait(timeout=30)
    rows = wait_for_log(log, 1, 60.0, bot)
    assert len(rows) == 1, f"no finished turn to keep:\n{bot.stderr[-3000:]}"
    # The sound card goes away (a USB headset unplugged): its microphone and speaker with it.
    # (Unloading only the mic makes PulseAudio move the stream to another source: the
    # session goes on, which is right; here nothing is left to move to.)
    pulse.pactl("unload-module", str(pulse.module_id("sink_name=room ")))
    status = bot.wait(timeout_s=20.0)
    errors = [line for line in bot.stderr.splitlines() if line.startswith("voicebot: error:")]
    assert status != 0
    assert "Traceback" not in bot.stderr, bot.stderr[-3000:]
    assert len(errors) == 1 and "stopped" in errors[0], bot.stderr[-3000:]
    assert [r["status"] for r in read_rows(log)] == ["ok"]

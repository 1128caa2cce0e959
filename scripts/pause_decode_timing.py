"""When does the decode that hears a pause start, and what does it cost in WER?

Replays every recording of ../shared/speech/dev through the Listener offline (the default
config's VAD, ASR and turn detector; decodes inline, so each one hears exactly the audio up
to the moment it starts) and prints the WER of the finals and, for each pause decode, how
long after the sound of speech ended it started. `--from-vad` counts the settle time from
the VAD's last speech frame instead (the rule before commit 50fcd85), for a side-by-side
run; `--lead-ms` shifts the audio by some silence, to see how much the WER moves by chance.

    python scripts/pause_decode_timing.py [--from-vad] [--lead-ms 500]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from voicebot.audio.wav import read_wav
from voicebot.bench.asr import word_errors
from voicebot.bench.speech_set import DEFAULT_SPEECH_DIR, read_manifest
from voicebot.config import load_config
from voicebot.events import AudioFrame, UtteranceFinal
from voicebot.listener import Listener
from voicebot.loading import load_asr, load_turn, load_vad
from voicebot.speech_end import SETTLE_S, Pause, sound_end

RATE = 16000
BLOCK = 480  # 30 ms, as the microphone delivers it


def replay(listener: Listener, audio: np.ndarray, starts: list[float]) -> list[str]:
    """The finals' texts; appends to `starts` the lead of each pause decode over the
    sound's end."""
    texts: list[str] = []

    def work() -> None:
        current, now = listener._current, listener.audio_time
        if current is not None and listener.in_pause and \
                current.transcriber.decoded_end < listener._pause.settled_at(now) - 1e-6:
            starts.append(now - sound_end(listener.timeline, current.onset, now))
        result = listener.work()
        if isinstance(result, UtteranceFinal):
            texts.append(result.text)

    for i in range(0, len(audio), BLOCK):
        listener.push_audio(AudioFrame(audio[i:i + BLOCK], RATE, i / RATE))
        while listener.has_work():
            work()
    listener.end_of_input()
    while listener.has_work():
        work()
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--from-vad", action="store_true",
                        help="count the settle time from the VAD's last speech frame")
    parser.add_argument("--lead-ms", type=int, default=500, help="silence before each file")
    parser.add_argument("--speech-dir", type=Path, default=DEFAULT_SPEECH_DIR)
    args = parser.parse_args()
    if args.from_vad:
        Pause.settled_at = (  # type: ignore[method-assign]
            lambda self, now: self.last_voiced + SETTLE_S)
    cfg = load_config(None)
    vad, asr, turn = load_vad(cfg), load_asr(cfg), load_turn(cfg)
    errors = words = 0
    starts: list[float] = []
    for row in read_manifest(args.speech_dir):
        audio = read_wav(args.speech_dir / row["file"], RATE)
        audio = np.concatenate([np.zeros(args.lead_ms * RATE // 1000, np.float32), audio,
                                np.zeros(3 * RATE, np.float32)])
        vad.reset()
        listener = Listener(vad, asr, cfg.endpoint, cfg.streaming, RATE, turn=turn,
                            turn_cfg=cfg.turn)
        found, total = word_errors(row["reference_text"],
                                   " ".join(replay(listener, audio, starts)))
        errors, words = errors + found, words + total
    p10, p50, p90 = np.percentile(starts, [10, 50, 90])
    print(f"{'from the VAD' if args.from_vad else 'from the sound'}: WER {errors}/{words} "
          f"= {100 * errors / words:.2f} %; {len(starts)} pause decodes started after the "
          f"sound's end: median {p50:.3f} s (p10 {p10:.3f}, p90 {p90:.3f})")


if __name__ == "__main__":
    main()

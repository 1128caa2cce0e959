"""Talk to a running `voicebot serve` with a WAV file: prints the transcript, the reply and
each turn's figures (the server's, plus the e2e this client measured itself).

    .venv/bin/voicebot serve &                  # in another terminal
    .venv/bin/python scripts/voicebot_client.py question.wav [--url ws://127.0.0.1:8765/ws]

The WAV (any rate, mono or stereo) is streamed at real time (--speed 1), followed by a
second of silence so the server's endpointer hears the pause; then the client says "end"
and the server closes once it has answered. --reply-wav saves the reply audio.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from voicebot.errors import VoicebotError
from voicebot.metrics import FIGURE_LABELS
from voicebot.serve.client import Received


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wav", type=Path, help="the question(s), any WAV")
    parser.add_argument("--url", default="ws://127.0.0.1:8765/ws")
    parser.add_argument("--speed", type=float, default=1.0, help="1 = real time")
    parser.add_argument("--tail-silence", type=float, default=1.0,
                        help="seconds of silence streamed after the file (default 1)")
    parser.add_argument("--reply-wav", type=Path, help="write the reply audio here")
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()

    from voicebot.audio.wav import read_wav
    from voicebot.serve.client import ServerRefused, speech_end, talk_once
    from voicebot.serve.protocol import INPUT_SAMPLE_RATE

    try:
        samples = read_wav(args.wav, INPUT_SAMPLE_RATE)
        received, t0 = talk_once(args.url, samples, args.speed, args.tail_silence, args.timeout)
    except (VoicebotError, ServerRefused) as exc:
        print(f"voicebot_client: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"voicebot_client: cannot reach {args.url}: {exc}", file=sys.stderr)
        return 1
    heard_end = t0 + speech_end(samples) / args.speed
    report(received, heard_end)
    if args.reply_wav is not None:
        write_reply(received, args.reply_wav)
    return 0 if received.of_type("turn") else 2


def report(received: Received, speech_end_at: float) -> None:
    for event in received.of_type("error") + received.of_type("notice"):
        print(f"({event['type']}: {event['message']})")
    for turn in received.of_type("turn"):
        print(f"you: {turn['user_text']}")
        print(f"bot: {turn['reply_text']}")
        print(f"── turn {turn['index']} ({turn['status']})" + (
            f": {turn['error']}" if turn.get("error") else ""))
        for name, label in FIGURE_LABELS.items():
            value = turn["figures"].get(name)
            shown = "—" if value is None else f"{value * 1000:.0f} ms"
            print(f"  {label:<28}{shown:>8}")
    first = received.first_audio_after(speech_end_at)
    if first is not None:
        print(f"  {'e2e seen by this client':<28}{(first - speech_end_at) * 1000:>5.0f} ms"
              "   (last speech sample sent -> first reply audio received)")
    code, reason = received.closed or (None, "")
    print(f"(connection closed: {code} {reason})".rstrip())


def write_reply(received: Received, path: Path) -> None:
    from voicebot.audio.wav import write_wav

    if not received.pcm:
        print("(no reply audio to write)")
        return
    pcm = np.frombuffer(bytes(received.pcm), dtype="<i2").astype(np.float32) / 32768.0
    write_wav(path, pcm, received.sample_rate)
    print(f"reply audio: {path}")


if __name__ == "__main__":
    sys.exit(main())

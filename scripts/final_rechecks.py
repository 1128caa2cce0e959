"""How often the listener decodes a final once more (`History.rehear`: a final too sparse
for its speech, or stopping short of it), and the WER, on recordings replayed through the
listener offline (inline, each decode as soon as it is due).

    .venv/bin/python scripts/final_rechecks.py ../shared/speech/dev /work/heldout/tune
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from voicebot.listener import Listener

RATE = 16000
BLOCK = 480


def main() -> None:
    from voicebot.assembly import Overrides, build_listener
    from voicebot.audio.wav import read_wav
    from voicebot.bench.asr import word_errors
    from voicebot.bench.speech_set import read_manifest
    from voicebot.config import load_config
    from voicebot.events import AudioFrame
    from voicebot.loading import load_asr, load_turn, load_vad

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("speech_dirs", type=Path, nargs="+", help="folders with manifest.tsv")
    parser.add_argument("--config", type=Path, default=None)
    args = parser.parse_args()
    cfg = load_config(args.config)
    vad, asr, turn = load_vad(cfg), load_asr(cfg), load_turn(cfg)
    errors = words = finals = redecoded = kept = 0
    for folder in args.speech_dirs:
        for row in read_manifest(folder):
            audio = np.concatenate([np.zeros(RATE // 2, np.float32),
                                    read_wav(folder / row["file"], RATE),
                                    np.zeros(3 * RATE, np.float32)])
            vad.reset()
            listener = build_listener(cfg, vad, asr, turn, Overrides(inline=True))
            texts: list[str] = []
            for i in range(0, len(audio) // BLOCK * BLOCK, BLOCK):
                listener.push_audio(AudioFrame(audio[i:i + BLOCK], RATE, i / RATE))
                texts += _drain(listener)
            listener.end_of_input()
            texts += _drain(listener)
            e, n = word_errors(row["reference_text"], " ".join(texts))
            errors, words, finals = errors + e, words + n, finals + len(texts)
            again, kept_here = listener.finals_decoded_again
            redecoded, kept = redecoded + again, kept + kept_here
    print(f"WER {100 * errors / words:.2f} % ({errors}/{words}); {finals} finals, "
          f"{redecoded} decoded once more, {kept} of those kept")


def _drain(listener: Listener) -> list[str]:
    """The finals' texts of every decode due now."""
    from voicebot.events import UtteranceFinal

    texts = []
    while listener.has_work():
        result = listener.work()
        if isinstance(result, UtteranceFinal):
            texts.append(result.text)
    return texts


if __name__ == "__main__":
    main()

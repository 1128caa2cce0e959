"""How often the listener decodes a final once more (`History.rehear`: a final too sparse
for its speech, or stopping short of it), and the WER, on recordings replayed through the
listener offline (inline, each decode as soon as it is due).

    .venv/bin/python scripts/final_rechecks.py ../shared/speech/dev /work/heldout/tune
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from pause_decode_timing import RATE, replay


def main() -> None:
    from voicebot.assembly import Overrides, build_listener
    from voicebot.audio.wav import read_wav
    from voicebot.bench.asr import word_errors
    from voicebot.bench.speech_set import read_manifest
    from voicebot.config import load_config
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
            texts = replay(listener, audio, [])
            e, n = word_errors(row["reference_text"], " ".join(texts))
            errors, words, finals = errors + e, words + n, finals + len(texts)
            again, kept_here = listener.finals_decoded_again
            redecoded, kept = redecoded + again, kept + kept_here
    print(f"WER {100 * errors / words:.2f} % ({errors}/{words}); {finals} finals, "
          f"{redecoded} decoded once more, {kept} of those kept")


if __name__ == "__main__":
    main()

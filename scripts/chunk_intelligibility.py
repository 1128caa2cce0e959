"""How well Whisper understands reply audio spoken whole or in chunks, as a crude stand-in for
a listener: the reply path speaks its first chunk on its own (2-3 words by default), and each
chunk gets its own intonation.

    .venv/bin/python scripts/chunk_intelligibility.py [--config configs/default.yaml]

For 20 reply-like sentences it builds the audio as the reply path would (`reply.speak`
per chunk, joined) for three splitter settings: the config's, a 3-6-word first chunk, and no
early chunk (whole sentences); then prints the WER of faster-whisper tiny.en and base on
each set (offline decodes, so the machine's load does not matter).
"""

from __future__ import annotations

import argparse
import dataclasses
import threading
from pathlib import Path
from typing import Any

import numpy as np

from voicebot.asr.faster_whisper import FasterWhisperAsr
from voicebot.audio.resample import resample
from voicebot.bench.asr import word_errors
from voicebot.config import load_config
from voicebot.loading import load_tts
from voicebot.reply import AudioChunk, speak
from voicebot.text.splitter import SentenceSplitter

SENTENCES = [
    "The capital of France is Paris.", "A spider has eight legs.",
    "The sky looks blue because the air scatters blue light more than red light.",
    "How about a simple pasta with garlic and olive oil tonight?",
    "I would recommend reading The Hobbit by Tolkien.",
    "Octopuses have three hearts and blue blood.",
    "The police have already arrived, so you can wait inside.",
    "Water boils at one hundred degrees Celsius at sea level.",
    "The moon orbits the Earth about once a month.",
    "Mount Everest is the highest mountain on Earth.",
    "Bananas are a good source of potassium.", "The Pacific is the largest ocean in the world.",
    "Light from the sun takes about eight minutes to reach us.",
    "Honey never spoils if it is stored properly.",
    "The human heart beats about seventy times a minute.",
    "Paris is known for the Eiffel Tower and its museums.", "Tokyo is the capital of Japan.",
    "Dolphins sleep with one half of their brain at a time.",
    "The Great Wall of China is very long.", "Penguins live mostly in the southern hemisphere.",
]
RATE = 16000


def spoken(tts: Any, text_cfg: Any, sentence: str) -> np.ndarray:
    """`sentence` as the reply path speaks it: split, each chunk synthesized, joined (16 kHz)."""
    splitter = SentenceSplitter(text_cfg)
    chunks = splitter.push(sentence) + splitter.flush()
    pieces = [event.samples for index, chunk in enumerate(chunks)
              for event in speak(tts, chunk, index, threading.Event())
              if isinstance(event, AudioChunk)]
    return resample(np.concatenate(pieces), tts.sample_rate, RATE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path)
    cfg = load_config(parser.parse_args().config)
    tts = load_tts(cfg)
    settings = {
        "the config's": cfg.text,
        "3-6 words": dataclasses.replace(cfg.text, first_chunk_min_words=3,
                                         first_chunk_max_words=6),
        "whole sentences": dataclasses.replace(cfg.text, early_first_chunk=False),
    }
    models = {name: FasterWhisperAsr(FasterWhisperAsr.Params(model=name))
              for name in ("tiny.en", "base")}
    pad = np.zeros(RATE // 4, dtype=np.float32)
    for setting, text_cfg in settings.items():
        audio = [spoken(tts, text_cfg, s) for s in SENTENCES]
        for name, asr in models.items():
            errors = words = 0
            for sentence, samples in zip(SENTENCES, audio, strict=True):
                heard = " ".join(w.text for w in asr.transcribe(np.concatenate([pad, samples,
                                                                                  pad])))
                e, n = word_errors(sentence, heard)
                errors, words = errors + e, words + n
            print(f"{setting:16s} {name:8s} WER {100 * errors / words:.1f} % "
                  f"({errors} of {words} words)", flush=True)


if __name__ == "__main__":
    main()

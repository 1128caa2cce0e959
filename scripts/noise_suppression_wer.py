"""Would a noise suppressor in front of Whisper help in the noise of `bench turns`? Offline WER
of the configured ASR on noisy speech, as it is and through a classic suppressor.

    .venv/bin/python scripts/noise_suppression_wer.py

The suppressor is the textbook one for steady noise (a fan, traffic, hiss): a 512-point STFT
with half overlap, the noise spectrum tracked as the minimum of the smoothed power over the
last 1.5 s (minimum statistics, no VAD needed), and a Wiener gain from a decision-directed
a-priori SNR, floored at -20 dB to limit musical noise. Inputs: the 6 synthesized questions
of `bench talk` and the dev recordings of 12 s or less, each clean and with the bench's white
(-20 dBFS) and low-passed (-30 dBFS) noise, 0.5 s of it before and after the speech.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from voicebot.audio.resample import resample
from voicebot.audio.wav import read_wav
from voicebot.bench.asr import word_errors
from voicebot.bench.speech_set import DEFAULT_SPEECH_DIR, read_manifest
from voicebot.bench.talk import QUESTIONS
from voicebot.bench.turn_sets import with_noise
from voicebot.config import load_config
from voicebot.loading import load_asr, load_tts

RATE = 16000
SIZE, HOP = 512, 256
WINDOW = np.sqrt(np.hanning(SIZE + 1)[:-1])  # analysis and synthesis: sums to 1 at 50%
MAX_S = 12.0


def suppress(audio: np.ndarray, floor: float = 0.1, smoothing: float = 0.98,
             memory_s: float = 1.5, bias: float = 2.25) -> np.ndarray:
    """`audio` with its steady noise turned down (causal, frame by frame)."""
    padded = np.concatenate([np.zeros(SIZE), audio, np.zeros(SIZE)])
    out = np.zeros(len(padded))
    smoothed: np.ndarray | None = None
    history: list[np.ndarray] = []
    cleaned: np.ndarray | None = None
    for start in range(0, len(padded) - SIZE + 1, HOP):
        spectrum = np.fft.rfft(padded[start:start + SIZE] * WINDOW)
        power = np.abs(spectrum) ** 2
        smoothed = power if smoothed is None else 0.8 * smoothed + 0.2 * power
        history = [*history, smoothed][-round(memory_s * RATE / HOP):]
        noise = np.maximum(np.min(history, axis=0) * bias, 1e-12)
        posterior = power / noise
        previous = cleaned / noise if cleaned is not None else np.ones_like(noise)
        prior = smoothing * previous + (1 - smoothing) * np.maximum(posterior - 1.0, 0.0)
        gain = np.maximum(prior / (1.0 + prior), floor)
        cleaned = np.abs(gain * spectrum) ** 2
        out[start:start + SIZE] += np.fft.irfft(gain * spectrum, SIZE) * WINDOW
    return out[SIZE:SIZE + len(audio)].astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--config", type=Path, help="YAML config (default: the default one)")
    args = parser.parse_args()  # before any model loads: --help is instant
    cfg = load_config(args.config)
    asr, tts = load_asr(cfg), load_tts(cfg)
    inputs = [(q, resample(np.concatenate(list(tts.synthesize(q))), tts.sample_rate, RATE))
              for q in QUESTIONS]
    inputs += [(row["reference_text"], read_wav(DEFAULT_SPEECH_DIR / row["file"], RATE))
               for row in read_manifest(DEFAULT_SPEECH_DIR) if float(row["duration_s"]) <= MAX_S]
    margin = np.zeros(RATE // 2, dtype=np.float32)
    errors: dict[tuple[str, str], list[int]] = {}
    for seed, (reference, speech) in enumerate(inputs):
        signal = np.concatenate([margin, speech, margin])
        for noise in ("clean", "white", "low-passed"):
            noisy = signal if noise == "clean" else with_noise(signal, noise, seed=seed)
            for way, audio in (("as is", noisy), ("suppressed", suppress(noisy))):
                heard = " ".join(w.text for w in asr.transcribe(audio))
                wrong, words = word_errors(reference, heard)
                total = errors.setdefault((noise, way), [0, 0])
                total[0] += wrong
                total[1] += words
    print(f"{len(inputs)} inputs, ASR {cfg.asr.backend} {cfg.asr.params.model}")
    for (noise, way), (wrong, words) in errors.items():
        print(f"  {noise:10s} {way:10s} WER {wrong}/{words} = {wrong / words:.1%}")


if __name__ == "__main__":
    main()

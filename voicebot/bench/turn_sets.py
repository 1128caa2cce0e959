"""The spoken inputs of `voicebot bench turns`.

- Pause set: real recordings with 1.0 s of silence inserted inside an unfinished sentence, at
  a word boundary right after a function word (article, preposition, conjunction, auxiliary:
  turn/text_rule.py's list), found from the ASR's word times. A reply that starts playing
  before the speaker resumes is a cut-in.
- Noise: white noise and low-passed (one-pole, 300 Hz) noise at a given level in dBFS (RMS
  relative to full scale 1.0), mixed under the whole input, lead and tail included.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from voicebot.turn.text_rule import UNFINISHED_ENDINGS

PAUSE_S = 1.0
MIN_WORDS_BEFORE = 2
MIN_WORDS_AFTER = 2
LONG_FILE_S = 20.0  # the ~60 s recordings are long-form reading, not turns


@dataclass(frozen=True)
class PausedUtterance:
    label: str
    audio: np.ndarray  # with the pause inserted
    pause_at: float  # where the silence starts (seconds into `audio`)
    resume_at: float  # where speech resumes
    text_before: str


def insert_pause(audio: np.ndarray, words: Sequence[Any], rate: int, label: str,
                 pause_s: float = PAUSE_S,
                 heard: Callable[[np.ndarray], str] | None = None) -> PausedUtterance | None:
    """Split after a function word (the one nearest the middle of the utterance first), at
    the quietest 10 ms between it and the next word; None when no word qualifies. Whisper's
    word times can be off by a syllable, so with `heard` (audio -> transcript) a cut counts
    only when the audio before it is heard to end on that very word."""
    texts = [_plain(w.text) for w in words]
    candidates = [i for i in range(MIN_WORDS_BEFORE - 1, len(words) - MIN_WORDS_AFTER)
                  if texts[i] in UNFINISHED_ENDINGS]
    middle = len(words) / 2
    for i in sorted(candidates, key=lambda k: abs(k - middle)):
        cut = _quietest_point(audio, rate, words[i].end - 0.03, words[i + 1].start + 0.03)
        if heard is None or _last_word(heard(audio[:cut])) == texts[i]:
            return _paused(audio, cut, words[: i + 1], rate, label, pause_s)
    return None


def _last_word(text: str) -> str:
    plain = [_plain(w) for w in text.split()]
    plain = [w for w in plain if w]
    return plain[-1] if plain else ""


def _paused(audio: np.ndarray, cut: int, before: Sequence[Any], rate: int, label: str,
            pause_s: float) -> PausedUtterance:
    silence = np.zeros(round(pause_s * rate), dtype=np.float32)
    joined = np.concatenate([audio[:cut], silence, audio[cut:]])
    pause_at = cut / rate
    text = " ".join(w.text.strip() for w in before)
    return PausedUtterance(label, joined, pause_at, pause_at + pause_s, text)


def _plain(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalpha() or ch == "'")


def _quietest_point(audio: np.ndarray, rate: int, start: float, end: float) -> int:
    step = rate // 100
    lo = max(0, round(start * rate))
    hi = min(len(audio) - step, max(lo + step, round(end * rate)))
    if hi <= lo:
        return lo
    energies = [float(np.sum(audio[k:k + step] ** 2)) for k in range(lo, hi, step)]
    return lo + step * int(np.argmin(energies)) + step // 2


def paused_set(speech_dir: Path, asr: Any, rate: int, count: int) -> list[PausedUtterance]:
    """Up to `count` paused utterances from the manifest's recordings (shortest first)."""
    from voicebot.audio.wav import read_wav
    from voicebot.bench.speech_set import read_manifest

    rows = sorted(read_manifest(speech_dir), key=lambda r: float(r["duration_s"]))
    clips: list[tuple[str, np.ndarray]] = []
    for row in rows:  # the recordings first, then the sentences of the long-form ones
        if float(row["duration_s"]) <= LONG_FILE_S:
            clips.append((f"real: {row['file']}", read_wav(speech_dir / row["file"], rate)))
    for row in rows:
        if float(row["duration_s"]) > LONG_FILE_S:
            audio = read_wav(speech_dir / row["file"], rate)
            clips += [(f"real: {row['file']} @{start / rate:.1f}s", audio[start:end])
                      for start, end in sentence_spans(asr.transcribe(audio), rate, len(audio))]
    out: list[PausedUtterance] = []
    for label, audio in clips:
        if len(out) >= count:
            break
        paused = insert_pause(audio, asr.transcribe(audio), rate, label,
                              heard=lambda a: " ".join(w.text for w in asr.transcribe(a)))
        if paused is not None:
            out.append(paused)
    return out


def sentence_spans(words: Sequence[Any], rate: int, n_samples: int, min_s: float = 3.0,
                   max_s: float = 12.0, margin_s: float = 0.25) -> list[tuple[int, int]]:
    """(start, end) samples of the sentences of a long recording, from its ASR words (a
    sentence ends at a word ending in . ? or !), kept when `min_s`..`max_s` long. Silence
    alone cannot tell them apart: readers pause as long at a comma as between sentences.
    Each span reaches `margin_s` beyond its first and last word, never into a neighbour."""
    sentences: list[list[Any]] = []
    current: list[Any] = []
    for word in words:
        current.append(word)
        if word.text.strip().endswith((".", "?", "!")):
            sentences.append(current)
            current = []
    if current:
        sentences.append(current)
    spans: list[tuple[int, int]] = []
    for k, sentence in enumerate(sentences):
        earliest = sentences[k - 1][-1].end if k else 0.0
        latest = sentences[k + 1][0].start if k + 1 < len(sentences) else n_samples / rate
        start = max(earliest, sentence[0].start - margin_s)
        end = min(latest, sentence[-1].end + margin_s)
        spans.append((round(start * rate), round(end * rate)))
    return [(a, b) for a, b in spans if min_s * rate <= b - a <= max_s * rate]


def white_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal(n)


def lowpass_noise(n: int, rng: np.random.Generator, corner_hz: float = 300.0,
                  rate: int = 16000) -> np.ndarray:
    """Rumble like a fan or traffic: white noise through a one-pole low-pass (-6 dB/oct)."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1.0 / rate)
    return np.fft.irfft(spectrum / np.sqrt(1.0 + (freqs / corner_hz) ** 2), n)


def at_dbfs(x: np.ndarray, dbfs: float) -> np.ndarray:
    """`x` scaled to an RMS of `dbfs` relative to full scale 1.0 (float32)."""
    rms = float(np.sqrt(np.mean(np.square(x)))) or 1.0
    return (x * (10.0 ** (dbfs / 20.0) / rms)).astype(np.float32)


NoiseMaker = Callable[[int, np.random.Generator], np.ndarray]
NOISES: dict[str, tuple[NoiseMaker, float]] = {
    "white": (white_noise, -20.0),
    "low-passed": (lowpass_noise, -30.0),
}
"""The issue's noisy room: white noise at -20 dBFS, low-passed noise at -30 dBFS."""


def with_noise(audio: np.ndarray, kind: str, seed: int) -> np.ndarray:
    make, dbfs = NOISES[kind]
    noise = at_dbfs(make(len(audio), np.random.default_rng(seed)), dbfs)
    return np.clip(audio + noise, -1.0, 1.0).astype(np.float32)

"""faster-whisper (CTranslate2) ASR backend: word timestamps, no torch, int8 on CPU.

Whisper hallucinates fluent text ("Thanks for watching.") on silence and noise. We gate
with our own VAD, and here drop what Whisper itself marks as non-speech: near-silent input,
segments whose no-speech probability is high while their log-probability is low (Whisper's
own rule) and segments that are very improbable overall.

Whisper also loops ("that came before my, that came before my, ...") at the end of a
streaming buffer, most of all with a prompt. faster-whisper scores the whole 30 s window for
such a loop (compression ratio) and gives that score to every segment, so rejecting on it
threw away the good text with the loop. Instead the decode is capped at a plausible number
of tokens for the audio's length (a loop used to run to 224 tokens: > 1 s per decode) and
the loop itself is cut from the words, keeping its first copy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import numpy as np

from voicebot.asr.streaming import SQUEEZED_WORD_S, ends_sentence, normalize
from voicebot.config import ParamError
from voicebot.events import Word
from voicebot.threads import Threads, resolve_threads

COMPUTE_TYPES = ("default", "auto", "int8", "int8_float16", "int8_float32", "int8_bfloat16",
                 "int16", "float16", "bfloat16", "float32")
MAX_TAIL_WORDS = 4
SILENCE_RMS = 1e-4
"""Below this RMS level (about -80 dBFS) the audio is treated as digital silence."""
TOKENS_PER_S = 8
"""Decoded tokens allowed per second of audio (plus TOKENS_SLACK): fast speech with its
punctuation and timestamp tokens stays under it (6 cut a 30 s window of a fast reader, and a
window cut short loses its text), a decoding loop runs far over it."""
TOKENS_SLACK = 10
WINDOW_S = 30.0
"""Whisper decodes 30 s windows; the token cap applies to each."""
MAX_NEW_TOKENS = 224
"""Whisper's own cap on the tokens of one window (half its 448-token context)."""
REPEAT_COPIES = 3
"""A run of 1..MAX_REPEAT_WORDS words said this many times in a row is a decoding loop
(people repeat a word twice; numbers, "0 0 0", are exempt)."""
MAX_REPEAT_WORDS = 4
NUMBER_WORDS = frozenset({"zero", "oh", "o", "one", "two", "three", "four", "five", "six",
                          "seven", "eight", "nine", "ten", "hundred", "thousand"})
T = TypeVar("T")


class FasterWhisperAsr:
    """Registry name `faster-whisper`."""

    sample_rate = 16000
    word_timestamps = True

    @dataclass
    class Params:
        model: str = "tiny.en"
        """Built-in tiny.en or base, or a path to a CTranslate2 Whisper model folder."""
        device: Literal["cpu", "cuda"] = "cpu"
        compute_type: str = "int8"
        language: str | None = "en"
        beam_size: int = 1
        cpu_threads: Threads = "auto"
        """CTranslate2 threads: a number (0 = all cores) or auto (half the cores)."""
        no_speech_threshold: float = 0.6
        """A segment is dropped when its no-speech probability exceeds this while its
        average log-probability is below `log_prob_threshold` (Whisper's rule)."""
        log_prob_threshold: float = -1.0
        min_avg_logprob: float = -1.5
        """A segment this improbable is dropped whatever its no-speech probability."""
        max_compression_ratio: float = 2.4
        """faster-whisper's loop threshold for its temperature fallback. Not a reason to drop
        a segment: it is scored on the whole window (see the module docstring)."""
        temperature_fallback: bool = False
        """Retry failed segments at higher temperatures (slower; off for streaming)."""
        encoder_pad_s: float | None = 8.0
        """The encoder hears the speech plus this much of Whisper's padding instead of a
        full 30 s window: ~3x faster decodes of short utterances, the same dev-set WER
        (asr/encoder_window.py). null: always 30 s, as faster-whisper does."""

        def check(self) -> None:
            if self.compute_type not in COMPUTE_TYPES:
                raise ParamError("compute_type", self.compute_type,
                                 "is not allowed; allowed: " + ", ".join(COMPUTE_TYPES))
            if not 1 <= self.beam_size <= 16:
                raise ParamError("beam_size", self.beam_size, "must be between 1 and 16")
            if isinstance(self.cpu_threads, int) and not 0 <= self.cpu_threads <= 256:
                raise ParamError("cpu_threads", self.cpu_threads,
                                 "must be between 0 (all cores) and 256")
            if not 0.0 < self.no_speech_threshold <= 1.0:
                raise ParamError("no_speech_threshold", self.no_speech_threshold,
                                 "must be in (0, 1]")
            if self.max_compression_ratio <= 1.0:
                raise ParamError("max_compression_ratio", self.max_compression_ratio,
                                 "must be > 1")
            if self.encoder_pad_s is not None and not 0.0 <= self.encoder_pad_s <= 30.0:
                raise ParamError("encoder_pad_s", self.encoder_pad_s,
                                 "must be between 0 and 30 seconds, or null (always 30 s)")
            if self.language is not None and not self.language.isalpha():
                raise ParamError("language", self.language,
                                 "must be a language code such as en, or null to detect")
            self._check_model()

        def _check_model(self) -> None:
            from voicebot.asr.models import BUILTIN_MODELS, resolve_ct2_model
            from voicebot.errors import ModelNotFoundError

            if self.model in BUILTIN_MODELS and self.model != "tiny.en":
                return  # assembled on first load; resolving here would copy 150 MB
            try:
                resolve_ct2_model(self.model)
            except ModelNotFoundError as exc:
                raise ParamError("model", self.model, f"cannot be used: {exc}") from None

    def __init__(self, params: FasterWhisperAsr.Params | None = None) -> None:
        from faster_whisper import WhisperModel

        from voicebot.asr.models import resolve_ct2_model

        self.params = params or FasterWhisperAsr.Params()
        self.model_dir = resolve_ct2_model(self.params.model)
        try:
            self._model: Any = WhisperModel(
                str(self.model_dir),
                device=self.params.device,
                compute_type=self.params.compute_type,
                cpu_threads=resolve_threads(self.params.cpu_threads),
            )
        except (RuntimeError, ValueError, OSError) as exc:
            from voicebot.assets import explain_damage
            from voicebot.errors import ModelNotFoundError

            hint = explain_damage(self.model_dir, "md5") or "is it a CTranslate2 Whisper folder?"
            detail = " ".join(str(exc).split())[:200]
            raise ModelNotFoundError(
                f"faster-whisper could not load {self.model_dir}: {hint} ({detail})"
            ) from None
        if self.params.encoder_pad_s is not None:
            from voicebot.asr.encoder_window import trimming_encoder

            self._model.encode = trimming_encoder(self._model.encode, self.params.encoder_pad_s)

    def warmup(self) -> None:
        """One short decode, so the first real decode is not slowed by lazy initialisation."""
        rng = np.random.default_rng(0)
        self._decode((rng.standard_normal(self.sample_rate) * 0.01).astype(np.float32), "")

    def transcribe(self, audio: np.ndarray, *, prompt: str = "") -> list[Word]:
        samples = np.asarray(audio, dtype=np.float32).reshape(-1)
        if len(samples) < self.sample_rate // 10:
            return []
        if float(np.sqrt(np.mean(np.square(samples)))) < SILENCE_RMS:
            return []
        words: list[tuple[Word, float]] = []
        for segment in self._decode(samples, prompt):
            if self._is_speech(segment):
                words.extend(_segment_words(segment))
        words = cut_repeats(words, lambda pair: pair[0].text)
        return [w for w, _ in _drop_anomalous_tail(words)]

    def _decode(self, samples: np.ndarray, prompt: str) -> list[Any]:
        p = self.params
        temperature: Any = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0] if p.temperature_fallback else 0.0
        segments, _info = self._model.transcribe(
            samples,
            language=p.language,
            beam_size=p.beam_size,
            temperature=temperature,
            initial_prompt=prompt or None,
            word_timestamps=True,
            vad_filter=False,
            condition_on_previous_text=False,
            no_speech_threshold=p.no_speech_threshold,
            log_prob_threshold=p.log_prob_threshold,
            compression_ratio_threshold=p.max_compression_ratio,
            max_new_tokens=max_new_tokens(len(samples) / self.sample_rate),
        )
        return list(segments)

    def _is_speech(self, segment: Any) -> bool:
        p = self.params
        if segment.no_speech_prob > p.no_speech_threshold and (
            segment.avg_logprob < p.log_prob_threshold
        ):
            return False
        return bool(segment.avg_logprob >= p.min_avg_logprob)


def max_new_tokens(seconds: float) -> int:
    """The tokens one window may decode: enough for fast speech, far below a loop's 224."""
    cap = int(TOKENS_PER_S * min(seconds, WINDOW_S)) + TOKENS_SLACK
    return min(cap, MAX_NEW_TOKENS)


def cut_repeats(items: Sequence[T], text: Callable[[T], str]) -> list[T]:
    """`items` without decoding loops: where 1..MAX_REPEAT_WORDS words come REPEAT_COPIES or
    more times in a row, only the first copy stays (it is what was said; the loop repeats
    it). A cut-off copy that ends the list ("... before my, that came") goes with the loop."""
    names = [normalize(text(item)) for item in items]
    kept: list[T] = []
    i = 0
    while i < len(items):
        size, copies = _repeat_at(names, i)
        if copies < REPEAT_COPIES:
            kept.append(items[i])
            i += 1
            continue
        kept.extend(items[i : i + size])
        i += size * copies
        rest = names[i:]
        if len(rest) < size and rest == names[i - size : i - size + len(rest)]:
            i = len(items)
    return kept


def _repeat_at(names: Sequence[str], i: int) -> tuple[int, int]:
    """(unit size, copies) of the shortest unit repeated REPEAT_COPIES+ times from `i`."""
    for size in range(1, MAX_REPEAT_WORDS + 1):
        unit = names[i : i + size]
        if len(unit) < size or all(_is_number(n) for n in unit):
            continue
        copies = 1
        while names[i + copies * size : i + (copies + 1) * size] == unit:
            copies += 1
        if copies >= REPEAT_COPIES:
            return size, copies
    return 0, 1


def _is_number(name: str) -> bool:
    """Digits and number words repeat in real speech ("1 0 0 0 1"): never a loop."""
    return not name or any(c.isdigit() for c in name) or name in NUMBER_WORDS


def _segment_words(segment: Any) -> list[tuple[Word, float]]:
    """(word, probability) pairs of a segment."""
    out = []
    for w in segment.words or ():
        text = w.word.strip()
        if text:
            out.append((Word(float(w.start), float(max(w.end, w.start)), text),
                        float(w.probability)))
    return out


def _anomaly(word: Word, probability: float) -> float:
    """openai-whisper's word anomaly score: improbable, or squeezed into almost no time."""
    duration = word.end - word.start
    score = 1.0 if probability < 0.15 else 0.0
    if duration < SQUEEZED_WORD_S:
        score += (SQUEEZED_WORD_S - duration) * 15
    return score


def _drop_anomalous_tail(words: list[tuple[Word, float]]) -> list[tuple[Word, float]]:
    """Drop a short last sentence that Whisper squeezed into almost no time after real
    speech ("... printing. Thank you."): the stock hallucination at the end of a buffer."""
    cut = _last_sentence_start(words)
    tail = words[cut:]
    if cut > 0 and 0 < len(tail) <= MAX_TAIL_WORDS:
        score = sum(_anomaly(w, p) for w, p in tail)
        if score >= len(tail) or score >= 3:
            return words[:cut]
    return words


def _last_sentence_start(words: list[tuple[Word, float]]) -> int:
    for i in range(len(words) - 2, -1, -1):
        if ends_sentence(words[i][0].text):
            return i + 1
    return 0

"""ASR backend `openai-whisper`: the reference Whisper implementation (PyTorch).

No `.pt` checkpoint ships on PyPI, so built-in names (tiny.en, base) are resolved to the
CTranslate2 float16 folders the project already carries and converted once, losslessly, into
an openai-whisper checkpoint in the user cache (see ct2_checkpoint.py). A path to a `.pt`
checkpoint (e.g. OpenAI's own files) or to a CTranslate2 Whisper folder works as well.

Decoding choices, for streaming: a single temperature (0: greedy or beam search, no sampling
fallback), so that re-decoding the same audio gives the same words (LocalAgreement commits a
word only when consecutive hypotheses agree) and a hard window never costs 6 decodes; no
conditioning on previous text (the caller passes committed text as `prompt`); segments that
look like non-speech or a repetition loop are dropped, so silence and noise give [].
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import pickle
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from voicebot.asr.models import BUILTIN_MODELS
from voicebot.assets import cache_dir
from voicebot.config import ParamError
from voicebot.errors import BackendError, ConfigError, ModelNotFoundError
from voicebot.events import Word
from voicebot.progress import step

NO_SPEECH_THRESHOLD = 0.6
LOGPROB_THRESHOLD = -1.0
COMPRESSION_RATIO_THRESHOLD = 2.4
"""openai-whisper's own defaults, applied per segment here (see `is_probably_speech`)."""
MIN_AVG_LOGPROB = -1.5
"""A segment this improbable is dropped whatever its no-speech probability (as faster-whisper)."""
SILENCE_RMS = 1e-4
"""Below this RMS level (about -80 dBFS) the audio is digital silence: no decode at all."""


def _looks_like_path(model: str) -> bool:
    return model.endswith(".pt") or "/" in model or "\\" in model or model.startswith(("~", "."))


@dataclass
class OpenAIWhisperParams:
    model: str = "tiny.en"
    """Built-in: tiny.en, base; or a path to an openai-whisper .pt checkpoint or to a
    CTranslate2 Whisper folder (converted once into the cache)."""
    device: Literal["cpu", "cuda"] = "cpu"
    fp16: bool = False
    """Half precision; only on cuda (openai-whisper falls back to fp32 on CPU anyway)."""
    language: str | None = "en"
    """Language code, or null to detect it (multilingual models only)."""
    beam_size: int = 1
    """1 = greedy."""
    threads: int = 2
    """torch CPU threads (process-wide: torch has one pool)."""

    def check(self) -> None:
        if self.model in BUILTIN_MODELS or Path(self.model).expanduser().exists():
            pass
        elif _looks_like_path(self.model):
            raise ParamError("model", self.model, "is not an existing .pt file or folder")
        else:
            raise ParamError(
                "model",
                self.model,
                f"must be one of {', '.join(BUILTIN_MODELS)} or a path to a .pt checkpoint "
                "or a CTranslate2 Whisper folder",
            )
        if self.fp16 and self.device != "cuda":
            raise ParamError("fp16", self.fp16, "needs device: cuda")
        if not 1 <= self.beam_size <= 16:
            raise ParamError("beam_size", self.beam_size, "must be between 1 and 16")
        if not 1 <= self.threads <= 256:
            raise ParamError("threads", self.threads, "must be between 1 and 256")
        if self.language is not None and not self.language.strip():
            raise ParamError("language", self.language, "must be a language code or null")


def checkpoint_for(model: str) -> Path:
    """The openai-whisper `.pt` for a `model` parameter, converting it once if needed."""
    from voicebot.asr.ct2_checkpoint import build_checkpoint
    from voicebot.asr.models import resolve_ct2_model

    path = Path(model).expanduser()
    if path.suffix == ".pt":
        if not path.is_file():
            raise ModelNotFoundError(f"openai-whisper checkpoint not found: {path}")
        return path
    ct2_dir = resolve_ct2_model(model)
    if path.is_dir():
        # A user's folder: the cache name must not collide with another folder's.
        tag = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:10]
        name = f"{path.resolve().name}-{tag}"
    else:
        name = model
    return build_checkpoint(ct2_dir, cache_dir() / "openai-whisper" / f"{name}.pt")


def _alignment_dump(heads: list[list[int]], n_layer: int, n_head: int) -> bytes:
    """[[layer, head], ...] in the encoding `Whisper.set_alignment_heads` reads."""
    mask = np.zeros((n_layer, n_head), dtype=bool)
    for layer, head in heads:
        mask[layer, head] = True
    return base64.b85encode(gzip.compress(mask.tobytes()))


def load_whisper(checkpoint_path: Path, device: str = "cpu") -> Any:
    """A whisper.model.Whisper from a checkpoint file (never downloads)."""
    import torch
    import whisper
    from whisper.model import ModelDimensions, Whisper

    try:
        checkpoint = torch.load(checkpoint_path, map_location="cpu", weights_only=True)
        dims = ModelDimensions(**checkpoint["dims"])
        state = checkpoint["model_state_dict"]
    except (OSError, RuntimeError, KeyError, TypeError, ValueError, pickle.PickleError) as error:
        raise ModelNotFoundError(
            f"{checkpoint_path} is not an openai-whisper checkpoint ({error})"
        ) from None
    model = Whisper(dims)
    model.load_state_dict(state, strict=True)
    heads = checkpoint.get("alignment_heads")
    if heads:
        model.set_alignment_heads(_alignment_dump(heads, dims.n_text_layer, dims.n_text_head))
    elif checkpoint_path.stem in whisper._ALIGNMENT_HEADS:
        # OpenAI's own files are named after the model (tiny.en.pt, base.pt, ...).
        model.set_alignment_heads(whisper._ALIGNMENT_HEADS[checkpoint_path.stem])
    return model.to(device).eval()


def is_probably_speech(segment: Mapping[str, Any]) -> bool:
    """Whisper's own non-speech rules, per segment: drop a segment whose window the model
    thinks is silence (high no-speech probability and low confidence), one that is a
    repetition loop (high gzip compression ratio), a typical hallucination on noise, and one
    that is very improbable overall. The same rules as the faster-whisper backend."""
    no_speech = segment["no_speech_prob"] > NO_SPEECH_THRESHOLD
    unsure = segment["avg_logprob"] < LOGPROB_THRESHOLD
    looping = segment["compression_ratio"] > COMPRESSION_RATIO_THRESHOLD
    improbable = segment["avg_logprob"] < MIN_AVG_LOGPROB
    return not ((no_speech and unsure) or looping or improbable)


def words_from_result(result: Mapping[str, Any]) -> list[Word]:
    """Words of the kept segments of a `whisper.transcribe` result."""
    words: list[Word] = []
    for segment in result.get("segments", []):
        if not is_probably_speech(segment):
            continue
        for word in segment.get("words", []):
            text = str(word["word"]).strip()
            if text:
                start = float(word["start"])
                words.append(Word(start, max(start, float(word["end"])), text))
    return words


class OpenAIWhisperAsr:
    """ASR with openai-whisper; word timestamps from cross-attention alignment (DTW)."""

    Params = OpenAIWhisperParams
    sample_rate = 16000
    word_timestamps = True

    def __init__(self, params: OpenAIWhisperParams | None = None) -> None:
        import torch

        params = params or OpenAIWhisperParams()
        params.check()
        self.params = params
        if params.device == "cuda" and not torch.cuda.is_available():
            raise BackendError("asr device cuda: this torch has no CUDA (it is a CPU build)")
        torch.set_num_threads(params.threads)
        checkpoint = checkpoint_for(params.model)
        with step(f"Loading openai-whisper {params.model}"):
            self.model = load_whisper(checkpoint, params.device)
        self._check_language()

    def _check_language(self) -> None:
        from whisper.tokenizer import LANGUAGES

        language = self.params.language
        if language is None:
            return
        if language not in LANGUAGES:
            raise ConfigError(f"asr.language: {language!r} is not a Whisper language code")
        if language != "en" and not self.model.is_multilingual:
            raise ConfigError(
                f"asr.language: {language!r} needs a multilingual model; "
                f"{self.params.model!r} is English-only"
            )

    def warmup(self) -> None:
        """Pay the one-time costs before the first real decode: torch's lazy initialisation
        (one short decode) and the numba JIT compilation of whisper's word-alignment DTW,
        which otherwise adds about 1.2 s to the first transcription with words."""
        import torch
        from whisper.timing import dtw

        rng = np.random.default_rng(0)
        self.transcribe((rng.standard_normal(self.sample_rate) * 0.01).astype(np.float32))
        dtw(torch.zeros(3, 4))  # the same argument types as in add_word_timestamps

    def transcribe(self, audio: np.ndarray, *, prompt: str = "") -> list[Word]:
        """Float32 mono 16 kHz audio -> words (seconds from the start of `audio`)."""
        import torch

        samples = np.ascontiguousarray(audio, dtype=np.float32).reshape(-1)
        if samples.size < self.sample_rate // 10:
            return []
        if float(np.sqrt(np.mean(np.square(samples)))) < SILENCE_RMS:
            return []
        options: dict[str, Any] = {"language": self.params.language, "task": "transcribe"}
        if self.params.beam_size > 1:
            options["beam_size"] = self.params.beam_size
        with torch.inference_mode():
            result = self.model.transcribe(
                samples,
                verbose=None,
                temperature=0.0,
                compression_ratio_threshold=COMPRESSION_RATIO_THRESHOLD,
                logprob_threshold=LOGPROB_THRESHOLD,
                no_speech_threshold=NO_SPEECH_THRESHOLD,
                condition_on_previous_text=False,
                initial_prompt=prompt.strip() or None,
                word_timestamps=True,
                fp16=self.params.fp16,
                **options,
            )
        return words_from_result(result)

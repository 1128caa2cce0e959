"""Backend registry: the YAML `backend:` name -> a lazily imported "module:Class".

Backend modules import their heavy libraries (torch, ctranslate2, llama.cpp, onnxruntime)
inside functions only, so resolving a class or its `Params` for config validation is cheap
and `voicebot --help` stays instant.

A backend class has a nested `Params` dataclass and is built as `Class(params)`; building it
loads the model.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from voicebot.errors import ConfigError

BACKENDS: dict[str, dict[str, str]] = {
    "vad": {
        "webrtcvad": "voicebot.vad.webrtc:WebRtcVad",
        "silero": "voicebot.vad.silero:SileroVad",
    },
    "asr": {
        "faster-whisper": "voicebot.asr.faster_whisper:FasterWhisperAsr",
        "openai-whisper": "voicebot.asr.openai_whisper:OpenAIWhisperAsr",
    },
    "llm": {
        "llama.cpp": "voicebot.llm.llamacpp:LlamaCppLlm",
        "transformers": "voicebot.llm.transformers_llm:TransformersLlm",
        "openai": "voicebot.llm.openai_http:OpenAICompatibleLlm",
    },
    "tts": {
        "piper": "voicebot.tts.piper:PiperTts",
        "espeak": "voicebot.tts.espeak:EspeakTts",
        "coqui": "voicebot.tts.coqui:CoquiTts",
    },
}


def backend_names(stage: str) -> list[str]:
    return list(BACKENDS[stage])


Backend = Callable[[object], object]
"""A backend class as the registry sees it: built from its params, it loads the model."""


def backend_class(stage: str, name: str) -> Backend:
    try:
        target = BACKENDS[stage][name]
    except KeyError:
        allowed = ", ".join(BACKENDS.get(stage, {}))
        raise ConfigError(f"unknown {stage} backend {name!r}; allowed: {allowed}") from None
    module_name, _, class_name = target.partition(":")
    module = importlib.import_module(module_name)
    cls: Backend = getattr(module, class_name)
    return cls


def params_class(stage: str, name: str) -> type:
    """The backend's nested `Params` dataclass (its YAML `params:`)."""
    cls = getattr(backend_class(stage, name), "Params", None)
    if not isinstance(cls, type):
        raise TypeError(f"{stage} backend {name!r} has no Params class")
    return cls


def create(stage: str, backend: str, params: object) -> object:
    """Build (and so load) a backend from its validated params."""
    return backend_class(stage, backend)(params)

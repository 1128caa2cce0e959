"""Backend registry: the YAML `backend:` name -> a lazily imported "module:Class".

Backend modules import their heavy libraries (torch, ctranslate2, llama.cpp, onnxruntime)
inside functions only, so resolving a class or its `Params` for config validation is cheap
and `voicebot --help` stays instant.

A backend class has a nested `Params` dataclass and is built as `Class(params)`; building it
loads the model.
"""

from __future__ import annotations

import importlib
from typing import Any

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


def backend_class(stage: str, name: str) -> Any:
    try:
        target = BACKENDS[stage][name]
    except KeyError:
        allowed = ", ".join(BACKENDS.get(stage, {}))
        raise ConfigError(f"unknown {stage} backend {name!r}; allowed: {allowed}") from None
    module_name, _, class_name = target.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, class_name)


def params_class(stage: str, name: str) -> type:
    cls: type = backend_class(stage, name).Params
    return cls


def create(stage: str, backend: str, params: Any) -> Any:
    """Build (and so load) a backend from its validated params."""
    return backend_class(stage, backend)(params)

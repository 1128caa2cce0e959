"""espeak-ng TTS through ctypes (libespeak-ng 1.52 + data from the espeakng-loader package).

Tiny and near-instant, robotic: the fallback voice. libespeak-ng keeps one global state
per process, so it is initialised once and every call holds a lock.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from voicebot.config import ParamError
from voicebot.errors import BackendError, ModelNotFoundError

AUDIO_OUTPUT_SYNCHRONOUS = 2
INITIALIZE_DONT_EXIT = 0x8000
CHARS_UTF8 = 1
POS_CHARACTER = 1
PARAM_RATE = 1
PARAM_PITCH = 3
BUFFER_MS = 100

# int callback(short *wav, int numsamples, espeak_EVENT *events); 0 = go on.
SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                                 ctypes.c_void_p)

_LOCK = threading.Lock()
_STATE: dict[str, Any] = {}  # lib, sample_rate, callback, sink (the list being filled)


def _library() -> tuple[Any, int]:
    """Load and initialise libespeak-ng once per process (call with _LOCK held)."""
    if "lib" in _STATE:
        return _STATE["lib"], _STATE["sample_rate"]
    from voicebot.assets import package_dir

    folder = package_dir("espeakng_loader", "espeakng-loader")
    lib_path = folder / "libespeak-ng.so"
    if not lib_path.is_file() or not (folder / "espeak-ng-data").is_dir():
        raise ModelNotFoundError(f"{folder}: libespeak-ng or espeak-ng-data missing; "
                                 "reinstall 'espeakng-loader'")
    lib = ctypes.CDLL(str(lib_path))
    lib.espeak_Initialize.restype = ctypes.c_int
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_SetSynthCallback.argtypes = [SynthCallback]
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                 ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
    rate = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, BUFFER_MS,
                                 str(Path(folder)).encode(), INITIALIZE_DONT_EXIT)
    if rate <= 0:
        raise BackendError(f"espeak-ng failed to initialise with data in {folder}")

    def collect(wav: Any, count: int, events: Any) -> int:
        sink = _STATE.get("sink")
        if wav and count > 0 and sink is not None:
            sink.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        return 0

    callback = SynthCallback(collect)
    lib.espeak_SetSynthCallback(callback)
    _STATE.update(lib=lib, sample_rate=int(rate), callback=callback, sink=None)
    return lib, int(rate)


@dataclass
class EspeakParams:
    voice: str = "en-us"
    rate: int = 175
    pitch: int = 50

    def check(self) -> None:
        if not 80 <= self.rate <= 450:
            raise ParamError("rate", self.rate, "must be between 80 and 450 words per minute")
        if not 0 <= self.pitch <= 100:
            raise ParamError("pitch", self.pitch, "must be between 0 and 100")
        if not self.voice.strip():
            raise ParamError("voice", self.voice, "must name an espeak-ng voice, e.g. en-us")


class EspeakTts:
    """espeak-ng formant synthesis (22050 Hz); a whole chunk takes about a millisecond."""

    Params = EspeakParams
    streams_sentences = False

    def __init__(self, params: EspeakParams) -> None:
        self.params = params
        with _LOCK:
            lib, self.sample_rate = _library()
            if lib.espeak_SetVoiceByName(params.voice.encode()) != 0:
                raise ModelNotFoundError(
                    f"espeak-ng has no voice {params.voice!r} (try en-us, en-gb, de, fr, es)"
                )

    def synthesize(self, text: str) -> Iterator[np.ndarray]:
        if not text.strip():
            return
        audio = self._render(text)
        if audio.size:
            yield audio

    def _render(self, text: str) -> np.ndarray:
        data = text.encode("utf-8") + b"\0"
        buffer = ctypes.create_string_buffer(data, len(data))
        chunks: list[np.ndarray] = []
        with _LOCK:
            lib, _ = _library()
            lib.espeak_SetVoiceByName(self.params.voice.encode())
            lib.espeak_SetParameter(PARAM_RATE, self.params.rate, 0)
            lib.espeak_SetParameter(PARAM_PITCH, self.params.pitch, 0)
            _STATE["sink"] = chunks
            try:
                err = lib.espeak_Synth(buffer, len(data), 0, POS_CHARACTER, 0, CHARS_UTF8,
                                       None, None)
                lib.espeak_Synchronize()
            finally:
                _STATE["sink"] = None
        if err != 0:
            raise BackendError(f"espeak-ng failed to synthesize (error {err})")
        if not chunks:
            return np.zeros(0, dtype=np.float32)
        return (np.concatenate(chunks).astype(np.float32) / 32768.0).astype(np.float32)

"""Silero VAD through onnxruntime (no torch): a speech probability per 32 ms frame.

Two ONNX layouts are in circulation and both work here, found by their input names:
- silero-vad v5/v6 package (`input`, `state`, `sr`): input is [1, 64 + 512], state [2, 1, 128];
- faster-whisper's silero_vad_v6.onnx (`input`, `h`, `c`): input [1, 576], h and c [1, 1, 128].
Both expect each 512-sample frame prefixed with the last 64 samples of the previous frame
(the "context"); the recurrent state is carried between frames until `reset()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from voicebot.config import ParamError
from voicebot.errors import ModelNotFoundError

FRAME = 512
CONTEXT = 64


def builtin_model_path() -> Path:
    """The ONNX file inside the silero-vad package (found without importing it: its
    __init__ imports torch), else the copy that faster-whisper ships."""
    from voicebot.assets import package_file

    try:
        return package_file("silero_vad", "silero-vad", "data/silero_vad.onnx")
    except ModelNotFoundError as first:
        try:
            return package_file("faster_whisper", "faster-whisper", "assets/silero_vad_v6.onnx")
        except ModelNotFoundError:
            raise first from None


class SileroVad:
    """Registry name `silero`."""

    sample_rate = 16000
    frame_samples = FRAME

    @dataclass
    class Params:
        model: str = "builtin"
        """`builtin` (the silero-vad package's ONNX) or a path to a Silero VAD .onnx."""
        threads: int = 1

        def check(self) -> None:
            if not 1 <= self.threads <= 64:
                raise ParamError("threads", self.threads, "must be between 1 and 64")

    def __init__(self, params: SileroVad.Params | None = None) -> None:
        self.params = params or SileroVad.Params()
        self.params.check()
        self.model_path = self._resolve(self.params.model)
        self._session = self._open(self.model_path)
        names = {i.name for i in self._session.get_inputs()}
        self._layout = "state" if "state" in names else "hc" if {"h", "c"} <= names else ""
        if not self._layout or "input" not in names:
            raise ModelNotFoundError(
                f"{self.model_path}: not a Silero VAD v5/v6 model "
                f"(inputs {sorted(names)}; expected input+state+sr or input+h+c)"
            )
        self._state: dict[str, np.ndarray] = {}
        self._context = np.zeros(CONTEXT, dtype=np.float32)
        self.reset()

    @staticmethod
    def _resolve(model: str) -> Path:
        if model == "builtin":
            return builtin_model_path()
        path = Path(model).expanduser()
        if not path.is_file():
            raise ModelNotFoundError(
                f"Silero VAD model not found: {path} (set vad.model to a .onnx file, "
                "or `builtin` for the one in the silero-vad package)"
            )
        return path

    def _open(self, path: Path) -> Any:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = self.params.threads
        options.inter_op_num_threads = 1
        try:
            return ort.InferenceSession(str(path), sess_options=options,
                                        providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
            raise ModelNotFoundError(f"{path}: cannot load as an ONNX model ({exc})") from None

    def reset(self) -> None:
        if self._layout == "state":
            self._state = {"state": np.zeros((2, 1, 128), dtype=np.float32)}
        else:
            zeros = np.zeros((1, 1, 128), dtype=np.float32)
            self._state = {"h": zeros, "c": zeros.copy()}
        self._context = np.zeros(CONTEXT, dtype=np.float32)

    def warmup(self) -> None:
        """One silent frame, so the first real frame does not pay onnxruntime's first-run
        cost; the state is reset afterwards."""
        self.speech_prob(np.zeros(FRAME, dtype=np.float32))
        self.reset()

    def speech_prob(self, frame: np.ndarray) -> float:
        data = np.asarray(frame, dtype=np.float32).reshape(-1)
        if len(data) != FRAME:
            raise ValueError(f"silero needs frames of {FRAME} samples, got {len(data)}")
        x = np.concatenate([self._context, data])[np.newaxis, :]
        feeds: dict[str, np.ndarray] = {"input": x, **self._state}
        if self._layout == "state":
            feeds["sr"] = np.array(self.sample_rate, dtype=np.int64)
            prob, state = self._session.run(None, feeds)
            self._state = {"state": state}
        else:
            prob, h, c = self._session.run(None, feeds)
            self._state = {"h": h, "c": c}
        self._context = data[-CONTEXT:].copy()
        return float(np.asarray(prob).reshape(-1)[0])

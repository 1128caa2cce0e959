"""`smart-turn`: Pipecat's Smart Turn v3.2 end-of-turn model (CPU ONNX, int8, BSD-2-Clause).

The model ships inside the PyPI wheel `pipecat-ai==1.14.0`
(`pipecat/audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx`), installed `--no-deps`:
only that file is used, found without importing pipecat. Input: the last 8 s of the turn's
16 kHz audio (zero-padded at the front) as an 80x800 Whisper log-mel of the normalised
waveform (turn/features.py); output: P(turn finished). About 60 ms per call on 2 cores.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from voicebot.errors import ModelNotFoundError
from voicebot.turn.features import SAMPLE_RATE, last_seconds, log_mel

WINDOW_S = 8.0
PACKAGE = "pipecat-ai"
MODEL_IN_PACKAGE = "audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx"


def builtin_model_path() -> Path:
    from voicebot.assets import package_file

    try:
        return package_file("pipecat", PACKAGE, MODEL_IN_PACKAGE)
    except ModelNotFoundError:
        raise ModelNotFoundError(
            "Smart Turn model not found: install it with "
            "`pip install --no-deps pipecat-ai==1.14.0` (requirements/nodeps.txt), or set "
            "turn.model to a smart-turn .onnx path"
        ) from None


class SmartTurn:
    name = "smart-turn"
    needs_audio = True

    def __init__(self, model: str = "builtin", threads: int = 1) -> None:
        self.model_path = builtin_model_path() if model == "builtin" else Path(model).expanduser()
        if not self.model_path.is_file():
            raise ModelNotFoundError(f"Smart Turn model not found: {self.model_path} (set "
                                     "turn.model to a .onnx file, or `builtin`)")
        self._session = self._open(threads)

    def _open(self, threads: int) -> Any:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        try:
            session = ort.InferenceSession(str(self.model_path), sess_options=options,
                                           providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
            raise ModelNotFoundError(f"{self.model_path}: cannot load as an ONNX model "
                                     f"({exc})") from None
        names = [i.name for i in session.get_inputs()]
        if names != ["input_features"]:
            raise ModelNotFoundError(f"{self.model_path}: not a Smart Turn v3 model "
                                     f"(inputs {names}; expected input_features)")
        return session

    def warmup(self) -> None:
        """One call on silence: onnxruntime's first run is several times slower."""
        self.p_finished(np.zeros(SAMPLE_RATE, dtype=np.float32), "")

    def p_finished(self, audio: np.ndarray, text: str) -> float:
        window = last_seconds(audio, WINDOW_S)
        features = log_mel(window, normalize=True)[np.newaxis]
        (out,) = self._session.run(None, {"input_features": features})
        return float(np.asarray(out).reshape(-1)[0])

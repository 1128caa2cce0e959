"""Coqui TTS (the maintained `coqui-tts` package, module `TTS`) from a local model folder.

Optional: `make coqui` (or `pip install 'voicebot[coqui]'` beside the pinned CPU torch). The
torchaudio on PyPI is a CUDA build whose compiled part cannot load next to a CPU torch; Coqui
needs only its Python parts, which `torchaudio_compat` imports (see there and the README,
Coqui TTS). No Coqui checkpoint ships on PyPI, so `model_path` must point at a folder you
already have (config.json plus the checkpoint, e.g. a VITS or XTTS folder). The config check
fails early, without importing torch, when either is missing.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from voicebot.config import ParamError
from voicebot.errors import BackendError, ModelNotFoundError
from voicebot.threads import Threads, resolve_threads

INSTALL_HINT = ("needs the optional Coqui TTS extra: make coqui, or pip install "
                "'voicebot[coqui]' beside the pinned torch (see README, Coqui TTS)")
# What `import TTS` needs: coqui-tts checks torch, torchaudio and (torch >= 2.9) torchcodec,
# and imports six without declaring it.
REQUIRED_MODULES = ("TTS", "torch", "torchaudio", "torchcodec", "six")
CHECKPOINT_NAMES = ("model.pth", "best_model.pth", "model_file.pth", "checkpoint.pth",
                    "model.pth.tar", "model_file.pth.tar")
DIR_MODELS = {"xtts", "tortoise", "bark"}  # loaded from the whole folder


def coqui_available() -> bool:
    """Whether `import TTS` and what it needs can be found (nothing imported)."""
    return all(importlib.util.find_spec(m) is not None for m in REQUIRED_MODULES)


def find_checkpoint(folder: Path) -> Path:
    for name in CHECKPOINT_NAMES:
        if (folder / name).is_file():
            return folder / name
    found = sorted(folder.glob("*.pth")) + sorted(folder.glob("*.pth.tar"))
    if not found:
        raise ModelNotFoundError(f"{folder}: no Coqui checkpoint (*.pth) in the model folder")
    return found[0]


@dataclass
class CoquiParams:
    model_path: str = ""
    speaker: str | None = None
    language: str | None = None
    use_cuda: bool = False
    threads: Threads | None = "auto"
    """torch CPU threads (process-wide: torch has one pool); auto: half the cores, as the other
    stages. With all of them a small model beside a busy stage ran ~20x slower here."""

    def check(self) -> None:
        if isinstance(self.threads, int) and self.threads < 1:
            raise ParamError("threads", self.threads,
                             "must be >= 1, auto, or null (torch's own choice)")
        if not coqui_available():
            raise ParamError("backend", "coqui", INSTALL_HINT)
        folder = Path(self.model_path).expanduser() if self.model_path else None
        if folder is None or not folder.is_dir():
            raise ParamError("model_path", self.model_path,
                             "must be a local Coqui model folder (config.json and the "
                             "checkpoint); no Coqui model ships with voicebot")
        if not (folder / "config.json").is_file():
            raise ParamError("model_path", self.model_path, "has no config.json")


class CoquiTts:
    """A Coqui model; yields one float32 array per sentence (Coqui's own sentence split)."""

    Params = CoquiParams
    streams_sentences = True

    def __init__(self, params: CoquiParams) -> None:
        if not coqui_available():
            raise ModelNotFoundError(f"the coqui TTS backend {INSTALL_HINT}")
        self.params = params
        folder = Path(params.model_path).expanduser()
        config_path = folder / "config.json"
        if not config_path.is_file():
            raise ModelNotFoundError(f"{folder}: not a Coqui model folder (no config.json)")
        if params.threads is not None:
            import torch

            torch.set_num_threads(resolve_threads(params.threads))
        self.synth = _load_synthesizer(folder, config_path, params.use_cuda)
        self.sample_rate = int(self.synth.output_sample_rate)

    def synthesize(self, text: str) -> Iterator[np.ndarray]:
        if not text.strip():
            return
        for sentence in self.synth.split_into_sentences(text):
            if not sentence.strip():
                continue
            wav = self.synth.tts(sentence, speaker_name=self.params.speaker,
                                 language_name=self.params.language, split_sentences=False)
            audio = np.asarray(wav, dtype=np.float32).reshape(-1)
            if audio.size:
                yield np.clip(audio, -1.0, 1.0)


def _load_synthesizer(folder: Path, config_path: Path, use_cuda: bool) -> Any:
    """Coqui's Synthesizer (coqui-tts 0.28 API): XTTS-like models load from their folder,
    others from the checkpoint file; a multi-speaker model's speakers.pth comes along."""
    from voicebot.torchaudio_compat import import_torchaudio

    try:
        import_torchaudio()  # before TTS, which imports torchaudio at module level
        from TTS.utils.synthesizer import Synthesizer
    except (ImportError, OSError, RuntimeError) as exc:  # torchaudio built for another torch
        raise BackendError(f"cannot import Coqui TTS ({exc}); {INSTALL_HINT}") from None
    model = str(json.loads(config_path.read_text(encoding="utf-8")).get("model", "")).lower()
    checkpoint = folder if model in DIR_MODELS else find_checkpoint(folder)
    speakers = folder / "speakers.pth"
    return Synthesizer(
        tts_checkpoint=str(checkpoint),
        tts_config_path=str(config_path),
        tts_speakers_file=str(speakers) if speakers.is_file() and model not in DIR_MODELS else None,
        use_cuda=use_cuda,
    )

"""The Coqui TTS backend end to end, on a tiny random-weight VITS the test builds.

Needs the optional extra: `make test-coqui` installs it into .venv-coqui (layered on .venv)
and runs these; CI runs it after `make test`. In a plain `make test` they skip.
Random weights give noise-like audio, so the checks are about the plumbing: the text reaches
the model (at least one frame per input token), audio of a plausible length comes out at the
model's sample rate, one piece per sentence, through voicebot's TTS interface and `voicebot say`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from voicebot.tts.coqui import coqui_available

pytestmark = [
    pytest.mark.coqui,
    pytest.mark.skipif(not coqui_available(),
                       reason="the optional Coqui extra is not installed (make test-coqui "
                              "installs it into .venv-coqui and runs these tests)"),
]

REPO = Path(__file__).resolve().parent.parent
TEXT = "Hello there. How are you today?"
SAMPLE_RATE = 22050
HOP = 256  # samples per spectrogram frame in Coqui's default VITS audio config
# A person speaks about 0.06-0.08 s per character; random durations stay within these.
MIN_S_PER_CHAR, MAX_S_PER_CHAR = 0.02, 0.5


@pytest.fixture(scope="module")
def vits_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from voicebot.testing.coqui_vits import build_random_vits

    return build_random_vits(tmp_path_factory.mktemp("coqui-vits"))


@pytest.fixture(scope="module")
def config_file(vits_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("config") / "coqui.yaml"
    path.write_text(f"extends: {REPO / 'configs' / 'default.yaml'}\n"
                    f"tts:\n  backend: coqui\n  model_path: {vits_folder}\n", encoding="utf-8")
    return path


def assert_plausible(audio: np.ndarray, text: str) -> None:
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert np.isfinite(audio).all() and np.abs(audio).max() <= 1.0
    assert np.abs(audio).max() > 1e-5, "silence"
    seconds = len(audio) / SAMPLE_RATE
    assert MIN_S_PER_CHAR * len(text) < seconds < MAX_S_PER_CHAR * len(text), seconds


def test_backend_speaks_each_sentence(config_file: Path) -> None:
    from voicebot.config import load_config
    from voicebot.loading import load_tts

    cfg = load_config(config_file)
    tts: Any = load_tts(cfg)
    assert tts.sample_rate == SAMPLE_RATE
    chunks = list(tts.synthesize(TEXT))
    assert len(chunks) == 2  # Coqui's own sentence split, one piece per sentence
    for chunk, sentence in zip(chunks, ("Hello there.", "How are you today?"), strict=True):
        assert_plausible(chunk, sentence)
        # VITS gives every input token (characters with blanks between) at least one frame
        assert len(chunk) >= (2 * len(sentence) + 1) * HOP
    assert list(tts.synthesize("  ")) == []


def test_voicebot_say_writes_the_wav(config_file: Path, tmp_path: Path) -> None:
    """The real command in a fresh process, as a user runs it."""
    import soundfile

    out = tmp_path / "coqui.wav"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)}
    done = subprocess.run(
        [sys.executable, "-m", "voicebot", "say", "--config", str(config_file),
         "--backend", "coqui", TEXT, "-o", str(out)],
        capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert f"wrote {out}" in done.stdout and "real-time factor" in done.stdout
    audio, rate = soundfile.read(out, dtype="float32")
    assert rate == SAMPLE_RATE
    assert_plausible(np.asarray(audio, dtype=np.float32).reshape(-1), TEXT)


def test_torchaudio_python_parts_work() -> None:
    """What Coqui uses of torchaudio works whether or not its compiled part loaded."""
    import torch

    from voicebot.torchaudio_compat import import_torchaudio

    torchaudio, _compiled = import_torchaudio()
    wave = torch.sin(torch.arange(16000) * 2 * torch.pi * 440 / 16000).unsqueeze(0)
    resampled = torchaudio.transforms.Resample(16000, SAMPLE_RATE)(wave)
    assert resampled.shape[-1] == SAMPLE_RATE
    import TTS

    assert TTS.__version__ == "0.28.0"

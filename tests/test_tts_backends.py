"""TTS backends (piper, espeak-ng, coqui config) and their parameter checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from voicebot import registry
from voicebot.config import build_dataclass
from voicebot.errors import ConfigError, ModelNotFoundError

SENTENCE = "Hello there, this is a short test of the voice."


def make(backend: str, **params: object) -> Any:
    cls = registry.params_class("tts", backend)
    return registry.create("tts", backend, build_dataclass(cls, params, Path("test"), "tts"))


def assert_speech(chunks: list[np.ndarray], rate: int, min_s: float, max_s: float) -> np.ndarray:
    assert chunks, "no audio"
    for chunk in chunks:
        assert chunk.dtype == np.float32 and chunk.ndim == 1
    audio = np.concatenate(chunks)
    assert np.abs(audio).max() <= 1.0
    assert float(np.sqrt(np.mean(audio**2))) > 0.02  # not silence
    assert min_s < len(audio) / rate < max_s
    return audio


def test_espeak_synthesizes_speech() -> None:
    tts = make("espeak")
    assert tts.sample_rate == 22050
    chunks = list(tts.synthesize(SENTENCE))
    assert_speech(chunks, tts.sample_rate, 1.5, 6.0)
    assert list(tts.synthesize("   ")) == []


def test_espeak_rate_changes_duration() -> None:
    slow = np.concatenate(list(make("espeak", rate=120).synthesize(SENTENCE)))
    fast = np.concatenate(list(make("espeak", rate=300).synthesize(SENTENCE)))
    assert len(slow) > 1.5 * len(fast)


def test_espeak_bad_params() -> None:
    with pytest.raises(ConfigError, match=r"tts\.rate"):
        build_dataclass(registry.params_class("tts", "espeak"), {"rate": 5}, Path("c.yaml"), "tts")
    with pytest.raises(ModelNotFoundError, match="no voice"):
        make("espeak", voice="xx-nonexistent")


def test_piper_params_check(tmp_path: Path) -> None:
    cls = registry.params_class("tts", "piper")
    with pytest.raises(ConfigError, match=r"c\.yaml: tts\.voice: .*built-in voice"):
        build_dataclass(cls, {"voice": str(tmp_path / "nope.onnx")}, Path("c.yaml"), "tts")
    model = tmp_path / "v.onnx"
    model.write_bytes(b"x")
    with pytest.raises(ConfigError, match=r"no config v\.onnx\.json"):
        build_dataclass(cls, {"voice": str(model)}, Path("c.yaml"), "tts")
    with pytest.raises(ConfigError, match="length_scale"):
        build_dataclass(cls, {"length_scale": 0}, Path("c.yaml"), "tts")
    with pytest.raises(ConfigError, match=r"tts\.threads: .*between 0"):
        build_dataclass(cls, {"threads": -1}, Path("c.yaml"), "tts")
    assert build_dataclass(cls, {"voice": "joe"}, Path("c.yaml"), "tts").voice == "joe"


def test_piper_session_takes_the_thread_settings() -> None:
    """piper's own loader gives onnxruntime no options (all cores, spinning threads)."""
    options = make("piper", threads=1).voice.session.get_session_options()
    assert options.intra_op_num_threads == 1
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    spinning = make("piper", spinning=True).voice.session.get_session_options()
    assert spinning.get_session_config_entry("session.intra_op.allow_spinning") == "1"


def test_piper_missing_voice_file_names_it(tmp_path: Path) -> None:
    from voicebot.tts.piper import voice_paths, voice_sample_rate

    with pytest.raises(ModelNotFoundError, match="no such file"):
        voice_paths(str(tmp_path / "missing.onnx"))
    model, config = voice_paths("joe")
    assert model.is_file() and config.is_file()
    assert voice_sample_rate("joe") == 22050


@pytest.mark.slow
def test_piper_synthesizes_per_sentence() -> None:
    tts = make("piper")
    assert tts.sample_rate == 22050
    chunks = list(tts.synthesize("One sentence here. And a second one!"))
    assert len(chunks) == 2  # one chunk per sentence, each yielded when ready
    assert_speech(chunks, tts.sample_rate, 1.0, 6.0)
    assert list(tts.synthesize("")) == []


def test_coqui_config_check_is_clear(tmp_path: Path) -> None:
    from voicebot.tts.coqui import coqui_available

    cls = registry.params_class("tts", "coqui")
    if coqui_available():
        with pytest.raises(ConfigError, match="model_path"):
            build_dataclass(cls, {"model_path": str(tmp_path / "none")}, Path("c.yaml"), "tts")
        return
    with pytest.raises(ConfigError) as info:
        build_dataclass(cls, {"model_path": str(tmp_path)}, Path("c.yaml"), "tts")
    message = str(info.value)
    assert "pip install 'voicebot[coqui]'" in message and "README" in message
    assert message.startswith("c.yaml: tts.backend")


def test_coqui_threads_must_be_positive(tmp_path: Path) -> None:
    cls = registry.params_class("tts", "coqui")
    with pytest.raises(ConfigError, match="threads"):
        build_dataclass(cls, {"model_path": str(tmp_path), "threads": 0}, Path("c.yaml"), "tts")


def test_coqui_finds_checkpoint(tmp_path: Path) -> None:
    from voicebot.tts.coqui import find_checkpoint

    with pytest.raises(ModelNotFoundError, match="no Coqui checkpoint"):
        find_checkpoint(tmp_path)
    (tmp_path / "checkpoint_1000.pth").write_bytes(b"x")
    assert find_checkpoint(tmp_path).name == "checkpoint_1000.pth"
    (tmp_path / "best_model.pth").write_bytes(b"x")
    assert find_checkpoint(tmp_path).name == "best_model.pth"


def test_piper_use_cuda_without_provider_is_clear() -> None:
    import onnxruntime

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("this onnxruntime has CUDA")
    from voicebot.errors import BackendError

    with pytest.raises(BackendError, match="onnxruntime-gpu"):
        make("piper", use_cuda=True)

"""The openai-whisper ASR backend: parameters, the non-speech filter, and (slow) real decoding
compared with faster-whisper on the same tensors."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from voicebot.asr.openai_whisper import (
    OpenAIWhisperAsr,
    OpenAIWhisperParams,
    is_probably_speech,
    words_from_result,
)
from voicebot.config import ParamError
from voicebot.events import Word
from voicebot.registry import params_class


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


def test_registry_finds_params_without_loading() -> None:
    assert params_class("asr", "openai-whisper") is OpenAIWhisperParams


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"model": "small.en"}, "model"),
        ({"model": "/nonexistent/model.pt"}, "model"),
        ({"fp16": True}, "fp16"),
        ({"beam_size": 0}, "beam_size"),
        ({"threads": 0}, "threads"),
        ({"language": " "}, "language"),
    ],
)
def test_params_check_names_the_key(changes: dict[str, Any], key: str) -> None:
    with pytest.raises(ParamError) as info:
        OpenAIWhisperParams(**changes).check()
    assert info.value.key == key


def test_params_accept_builtin_names_and_paths(tmp_path: Path) -> None:
    OpenAIWhisperParams().check()
    OpenAIWhisperParams(model="base", language=None).check()
    (tmp_path / "my.pt").write_bytes(b"")
    OpenAIWhisperParams(model=str(tmp_path / "my.pt"), device="cuda", fp16=True).check()


def _segment(text_words: list[tuple[float, float, str]], **stats: float) -> dict[str, Any]:
    base: dict[str, Any] = {"no_speech_prob": 0.1, "avg_logprob": -0.3, "compression_ratio": 1.2}
    base.update(stats)
    base["words"] = [{"start": s, "end": e, "word": w} for s, e, w in text_words]
    return base


@pytest.mark.parametrize(
    ("stats", "kept"),
    [
        ({}, True),
        ({"no_speech_prob": 0.9}, True),  # confident text despite no-speech: kept (whisper's rule)
        ({"no_speech_prob": 0.9, "avg_logprob": -1.2}, False),
        ({"compression_ratio": 3.0}, False),
        ({"avg_logprob": -1.8}, False),
    ],
)
def test_non_speech_rules(stats: dict[str, float], kept: bool) -> None:
    assert is_probably_speech(_segment([], **stats)) is kept


def test_words_from_result_strips_and_skips_dropped_segments() -> None:
    result = {
        "segments": [
            _segment([(0.0, 0.4, " Hello"), (0.4, 0.38, " world."), (0.5, 0.5, " ")]),
            _segment([(1.0, 1.5, " loop")], compression_ratio=5.0),
        ]
    }
    assert words_from_result(result) == [Word(0.0, 0.4, "Hello"), Word(0.4, 0.4, "world.")]


@pytest.fixture(scope="module")
def tiny_asr(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenAIWhisperAsr]:
    """tiny.en converted into a throw-away cache (not the user's)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VOICEBOT_CACHE", str(tmp_path_factory.mktemp("voicebot-cache")))
        asr = OpenAIWhisperAsr(OpenAIWhisperParams(model="tiny.en", threads=2))
    asr.warmup()
    yield asr


@pytest.mark.slow
def test_warmup_compiles_the_word_alignment(tiny_asr: OpenAIWhisperAsr) -> None:
    from whisper.timing import dtw_cpu

    assert dtw_cpu.signatures, "numba DTW still to compile on the first decode"
    assert not tiny_asr.model.is_multilingual


def _read(path: Path) -> np.ndarray:
    import soundfile as sf

    audio, rate = sf.read(path, dtype="float32")
    assert rate == 16000
    return np.asarray(audio)


def _faster_whisper_text(audio: np.ndarray) -> tuple[str, list[tuple[float, float, str]]]:
    from faster_whisper import WhisperModel

    from voicebot.asr.models import resolve_ct2_model

    model = WhisperModel(str(resolve_ct2_model("tiny.en")), compute_type="float32", cpu_threads=2)
    segments, _ = model.transcribe(
        audio, language="en", beam_size=1, temperature=0.0, word_timestamps=True,
        condition_on_previous_text=False, vad_filter=False,
    )
    segments = list(segments)
    words = [(w.start, w.end, w.word.strip()) for s in segments for w in s.words or ()]
    return " ".join(s.text for s in segments), words


@pytest.mark.slow
def test_same_transcript_as_faster_whisper(
    tiny_asr: OpenAIWhisperAsr, speech_dir: Path, speech_manifest: dict[str, str]
) -> None:
    import jiwer

    audio = _read(speech_dir / "jfk.wav")
    words = tiny_asr.transcribe(audio)
    ours = " ".join(w.text for w in words)
    theirs, their_words = _faster_whisper_text(audio)
    assert normalise(ours) == normalise(theirs)
    # Word times come from the same alignment heads and agree closely.
    assert len(words) == len(their_words)
    for word, (start, end, _text) in zip(words, their_words, strict=True):
        assert abs(word.start - start) < 0.3 and abs(word.end - end) < 0.3
    reference = normalise(speech_manifest["jfk.wav"])
    assert jiwer.wer(reference, normalise(ours)) <= 0.15


@pytest.mark.slow
def test_words_are_ordered_and_inside_the_audio(
    tiny_asr: OpenAIWhisperAsr, speech_dir: Path
) -> None:
    audio = _read(speech_dir / "jfk.wav")
    words = tiny_asr.transcribe(audio[: 16000 * 4], prompt="And so my fellow")
    assert words, "no words for 4 s of speech"
    assert all(0.0 <= w.start <= w.end <= 4.0 + 0.05 for w in words)
    assert [w.start for w in words] == sorted(w.start for w in words)


@pytest.mark.slow
def test_silence_and_noise_give_no_words(tiny_asr: OpenAIWhisperAsr) -> None:
    rng = np.random.default_rng(0)
    assert tiny_asr.transcribe(np.zeros(16000 * 3, dtype=np.float32)) == []
    noise = (0.1 * rng.standard_normal(16000 * 3)).astype(np.float32)
    assert tiny_asr.transcribe(noise) == []
    assert tiny_asr.transcribe(np.zeros(0, dtype=np.float32)) == []


@pytest.mark.parametrize(
    ("name", "backend", "model"),
    [("reference", "openai-whisper", "tiny.en"), ("default", "faster-whisper", "tiny.en"),
     ("fast", "faster-whisper", "tiny.en")],
)
def test_shipped_configs_asr_section(name: str, backend: str, model: str) -> None:
    from voicebot.config import REPO_CONFIGS, load_config

    cfg = load_config(REPO_CONFIGS / f"{name}.yaml")
    assert (cfg.asr.backend, cfg.asr.params.model) == (backend, model)
    assert cfg.vad.backend in ("webrtcvad", "silero")


def test_a_file_that_is_not_a_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    from voicebot.asr.openai_whisper import load_whisper
    from voicebot.errors import ModelNotFoundError

    bad = tmp_path / "broken.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ModelNotFoundError, match=r"broken\.pt is not an openai-whisper checkpoint"):
        load_whisper(bad)

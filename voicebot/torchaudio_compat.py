"""Import torchaudio's Python parts when its compiled extension cannot load.

Why this exists: Coqui TTS imports `torchaudio` at module level (VITS uses only its pure-Python
`transforms.Resample`), but the torchaudio wheels on PyPI for Linux x86_64 are CUDA builds
(there is no `+cpu` one), and their compiled libraries (`torchaudio/lib/*.so`) link against
`libc10_cuda.so`, which a CPU torch does not have. `import torchaudio` then fails with an
OSError, although its Python parts would work: torchaudio itself supports running without the
extension (its loader returns False when the libraries are absent, and `functional` falls back
to Python code).

So, only when the real import fails with that OSError, `import_torchaudio` imports torchaudio
again with its `_extension` module replaced by one that reports what upstream reports when no
compiled library is found. Nothing on disk changes, nothing is patched; with a torchaudio that
matches the installed torch the real import succeeds and this module does nothing more.

Other libraries import any torchaudio they find (transformers does, when it loads a model),
so with the Coqui extra installed they fail the same way unless this ran first: code that
loads such a library calls `import_torchaudio_if_installed` before it.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from collections.abc import Callable
from typing import Any

EXTENSION = "torchaudio._extension"
ALIGN_MESSAGE = ("torchaudio's compiled extension is not loaded (a CUDA build of torchaudio "
                 "on a CPU torch), so forced alignment is unavailable")


def import_torchaudio() -> tuple[Any, bool]:
    """(the torchaudio module, whether its compiled extension is loaded)."""
    if "torchaudio" in sys.modules:
        module = sys.modules["torchaudio"]
        return module, bool(getattr(sys.modules.get(EXTENSION), "_IS_TORCHAUDIO_EXT_AVAILABLE",
                                    False))
    try:
        import torchaudio
    except OSError as exc:  # "Could not load this library: .../torchaudio/lib/_torchaudio.abi3.so"
        if "torchaudio" not in str(exc):
            raise
        _forget_partial_import()
        sys.modules[EXTENSION] = python_only_extension()
        import torchaudio
        return torchaudio, False
    return torchaudio, bool(torchaudio._extension._IS_TORCHAUDIO_EXT_AVAILABLE)


def import_torchaudio_if_installed() -> None:
    """Import torchaudio (as above) when it is installed; without it, do nothing."""
    if "torchaudio" not in sys.modules and importlib.util.find_spec("torchaudio") is not None:
        import_torchaudio()


def python_only_extension() -> types.ModuleType:
    """A stand-in for `torchaudio._extension` in the state upstream's own loader leaves it in
    when the compiled libraries are not found (`_load_lib` -> False)."""
    ext = types.ModuleType(EXTENSION)
    ext.__doc__ = "voicebot stand-in: torchaudio without its compiled extension"
    ext._IS_TORCHAUDIO_EXT_AVAILABLE = False  # type: ignore[attr-defined]
    ext._IS_ALIGN_AVAILABLE = False  # type: ignore[attr-defined]
    ext._load_lib = _no_library  # type: ignore[attr-defined]
    ext.fail_if_no_align = _fail_without_align  # type: ignore[attr-defined]
    ext.__all__ = ["_IS_TORCHAUDIO_EXT_AVAILABLE"]  # type: ignore[attr-defined]
    return ext


def _no_library(name: str) -> bool:
    return False


def _fail_without_align(func: Callable[..., Any]) -> Callable[..., Any]:
    def unavailable(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"{func.__name__}: {ALIGN_MESSAGE}")

    return unavailable


def _forget_partial_import() -> None:
    """Drop the torchaudio submodules the failed import left behind, so the retry runs their
    code again against the stand-in."""
    for name in [n for n in sys.modules if n == "torchaudio" or n.startswith("torchaudio.")]:
        del sys.modules[name]

"""Giving glibc's freed-but-held heap back to the system between turns.

A turn allocates and frees hundreds of MB in native code (onnxruntime's TTS and VAD runs,
CTranslate2's decodes, llama.cpp's requests), spread over many threads' malloc arenas.
glibc keeps most of what is freed inside the arenas for reuse, so resident memory climbs to
whatever the largest turn so far needed and stays there: measured 100-145 MB held per turn
with the default models. `malloc_trim(0)` returns those pages in 6-8 ms (measured after
replies of the default LLM + piper), so the conversation calls it at each turn end, when
nothing of the turn is still running. Elsewhere than glibc it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from typing import Any


@functools.cache
def libc() -> Any:
    """The C library loaded with ctypes, or None where it cannot be found."""
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name) if name else None
    except OSError:
        return None


def release_free_heap() -> bool:
    """Hand glibc's freed-but-held heap pages back to the system (malloc_trim); False
    where there is no glibc."""
    c = libc()
    if c is None or not hasattr(c, "malloc_trim"):
        return False
    c.malloc_trim(0)
    return True

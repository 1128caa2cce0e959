"""Giving glibc's freed-but-held heap back to the system between turns.

A turn allocates and frees hundreds of MB in native code (onnxruntime's TTS and VAD runs,
CTranslate2's decodes, llama.cpp's requests), spread over many threads' malloc arenas.
glibc keeps most of what is freed inside the arenas for reuse, so resident memory climbs to
whatever the largest turn so far needed and stays there: measured 100-145 MB held per turn
with the default models. `malloc_trim(0)` returns those pages in 6-8 ms (measured after
replies of the default LLM + piper), so the conversation calls it at each turn end, when
nothing of the turn is still running. Elsewhere than glibc it does nothing.

glibc also gives each new thread its own arena (up to 8 per core), and a conversation
starts many threads (ASR, reply, TTS, prefill; in `voicebot serve`, a set per session).
Freed memory is then scattered over many arenas in pieces no trim can return: 12 serve
cycles of 2 sessions grew RSS by 494 MB, with the bytes in use flat. `limit_arenas(2)`,
called before any thread starts, holds it to 2 arenas: +120 MB over the same 12 cycles.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from typing import Any


@functools.cache
def libc() -> Any:
    """The C library loaded with ctypes, or None where it cannot be found."""
    try:
        return ctypes.CDLL("libc.so.6")  # glibc; find_library would run ldconfig
    except OSError:
        pass
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name) if name else None
    except OSError:
        return None


M_ARENA_MAX = -8  # mallopt's parameter number (malloc.h)
ARENAS = 2


def limit_arenas(arenas: int = ARENAS) -> bool:
    """Cap glibc's malloc arenas (mallopt M_ARENA_MAX) unless MALLOC_ARENA_MAX is set;
    affects arenas made from now on, so call it before starting threads."""
    import os

    c = libc()
    if c is None or not hasattr(c, "mallopt") or "MALLOC_ARENA_MAX" in os.environ:
        return False
    return bool(c.mallopt(M_ARENA_MAX, arenas))


def release_free_heap() -> bool:
    """Hand glibc's freed-but-held heap pages back to the system (malloc_trim); False
    where there is no glibc."""
    c = libc()
    if c is None or not hasattr(c, "malloc_trim"):
        return False
    c.malloc_trim(0)
    return True

"""`release_free_heap` gives glibc's freed-but-held pages back: memory freed below the top
of an arena stays resident until it is called."""

from __future__ import annotations

import ctypes

import pytest

from voicebot.bench.memory import rss_mb
from voicebot.heap import libc, release_free_heap

BLOCK = 100 * 1024  # under glibc's mmap threshold: served from the arena
BLOCKS = 600  # ~60 MB


@pytest.mark.skipif(libc() is None or not hasattr(libc(), "malloc_trim"),
                    reason="needs glibc (malloc_trim)")
def test_freed_heap_is_given_back() -> None:
    c = libc()
    c.malloc.restype = ctypes.c_void_p
    c.free.argtypes = [ctypes.c_void_p]
    blocks = [c.malloc(BLOCK) for _ in range(BLOCKS)]
    pin = c.malloc(BLOCK)  # above them all, so freeing them cannot shrink the arena's top
    try:
        for block in blocks:
            ctypes.memset(block, 1, BLOCK)  # resident only once written
        for block in blocks:
            c.free(block)
        held = rss_mb()
        assert release_free_heap()
        assert held - rss_mb() > 40  # most of the ~60 MB back
    finally:
        c.free(pin)

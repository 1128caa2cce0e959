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


@pytest.mark.skipif(libc() is None or not hasattr(libc(), "mallopt"), reason="needs glibc")
def test_arenas_are_capped_in_a_fresh_process() -> None:
    """Threads allocating at once each get an arena of their own unless capped."""
    import subprocess
    import sys

    probe = (
        "import ctypes, sys, threading\n"
        "from voicebot.heap import libc, limit_arenas\n"
        "if sys.argv[1] == 'cap': assert limit_arenas(2)\n"
        "c = libc(); c.malloc.restype = ctypes.c_void_p\n"
        "go = threading.Barrier(6)\n"
        "def work():\n"
        "    go.wait()\n"
        "    for _ in range(2000): c.malloc(64)\n"
        "ts = [threading.Thread(target=work) for _ in range(6)]\n"
        "[t.start() for t in ts]; [t.join() for t in ts]\n"
        "maps = open('/proc/self/maps').read().splitlines()\n"
        "print(sum(1 for m in maps if m.split()[1] == '---p' and m.endswith(' ')))\n"
    )
    env_free = {k: v for k, v in __import__("os").environ.items() if k != "MALLOC_ARENA_MAX"}
    counts = {mode: int(subprocess.run([sys.executable, "-c", probe, mode], env=env_free,
                                       capture_output=True, text=True, check=True).stdout)
              for mode in ("cap", "free")}
    assert counts["cap"] < counts["free"], counts

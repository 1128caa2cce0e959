"""The soak's memory probes: what backs resident memory, and which Python line grew."""

from __future__ import annotations

import sys
import tracemalloc

import numpy as np
import pytest

from voicebot.bench.memory import (
    MemoryWatch,
    c_heap_mb,
    mapping_group,
    process_counts,
    process_rss_mb,
    resident_by_mapping,
    rss_mb,
)

SMAPS = """\
55d0c0000000-55d0c0021000 rw-p 00000000 00:00 0                          [heap]
Size:                132 kB
Rss:                 100 kB
7f1200000000-7f1204000000 rw-p 00000000 00:00 0
Rss:                2048 kB
7f1300000000-7f1300100000 r--p 00000000 08:01 1234                       /usr/lib/libllama.so
Rss:                 512 kB
7f1400000000-7f1400100000 r--p 00000000 08:01 99  /home/u/.cache/voicebot/q.gguf (deleted)
Rss:                1024 kB
7f1500000000-7f1500100000 rw-p 00000000 00:00 0
Rss:                1024 kB
7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]
Rss:                  40 kB
"""


def test_resident_memory_is_summed_by_what_backs_it() -> None:
    groups = resident_by_mapping(SMAPS)
    assert groups == pytest.approx({"[heap]": 0.1024, "anonymous": 3.145728,
                                    "libllama.so": 0.524288, "q.gguf": 1.048576,
                                    "[stack]": 0.04096})


def test_mapping_groups() -> None:
    assert mapping_group("") == "anonymous"
    assert mapping_group("[anon:glibc malloc]") == "anonymous"
    assert mapping_group("[heap]") == "[heap]"
    assert mapping_group("/a/b/libc.so.6") == "libc.so.6"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and glibc: Linux only")
def test_a_probe_names_the_line_that_kept_memory() -> None:
    watch = MemoryWatch(trace_python=True)
    was_tracing = tracemalloc.is_tracing()
    watch.start()
    try:
        first = watch.probe("before")
        kept = [np.ones(250_000, dtype=np.float32) for _ in range(8)]  # 8 MB held
        second = watch.probe("after")
    finally:
        if not was_tracing:
            tracemalloc.stop()
    assert len(kept) == 8
    assert first.rss_mb > 0 and first.by_mapping
    assert second.python_mb is not None and first.python_mb is not None
    assert second.python_mb - first.python_mb == pytest.approx(8.0, abs=0.5)
    top = second.sites[0]
    assert "test_memory_probe.py" in top.where and top.grown_mb == pytest.approx(8.0, abs=0.1)
    heap = c_heap_mb()
    assert heap is not None and heap.in_use_mb > 0
    counts = process_counts()
    assert counts is not None and counts[0] >= 1 and counts[1] >= 3  # stdin, stdout, stderr


def test_another_process_memory_is_read_from_outside_or_not_at_all() -> None:
    import os
    import subprocess

    child = subprocess.Popen([sys.executable, "-c", "import time; print('up', flush=True); "
                              "time.sleep(30)"], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline() == "up\n"  # running
        alive = process_rss_mb(child.pid)
        assert alive is not None and 1 < alive < rss_mb()  # a bare interpreter, not us
    finally:
        child.kill()
        child.wait()
    assert process_rss_mb(child.pid) is None  # gone: no stand-in figure
    assert process_rss_mb(os.getpid()) == pytest.approx(rss_mb(), abs=50)

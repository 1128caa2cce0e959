"""Where a long session's memory goes: resident memory by mapping, the C heap, and the
Python allocation sites that grew.

A probe is taken at chosen turns of a soak. Each one records
- RSS, and RSS per mapping (/proc/self/smaps) grouped by what backs it: `[heap]` and
  anonymous memory (malloc arenas, numpy buffers, llama.cpp's KV cache), each shared
  library, each model file mapped from disk;
- glibc's own view of the C heap (mallinfo2): bytes in use vs free but still held, which
  tells a leak (in use grows) from fragmentation (free-but-held grows);
- tracemalloc's Python allocations, compared with the first probe and named by the line
  that allocated them (numpy arrays count too: numpy reports its buffers to tracemalloc).

Linux only for the mapping and C-heap figures; elsewhere they are left out.
"""

from __future__ import annotations

import ctypes
import os
import re
import sysconfig
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from voicebot.heap import libc

MB = 1e6
TOP_SITES = 8
TRACE_FRAMES = 6
_SMAPS_HEADER = re.compile(r"^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$")


@dataclass
class Site:
    """A line of Python that holds more memory than at the first probe."""

    where: str  # "file.py:123 (caller.py:45 …)"
    grown_mb: float
    grown_blocks: int


@dataclass
class MemoryProbe:
    label: str
    rss_mb: float
    by_mapping: dict[str, float] = field(default_factory=dict)  # MB resident per group
    heap: CHeap | None = None  # glibc's malloc: in use (arenas, mmapped) vs free but held
    threads: int | None = None
    fds: int | None = None
    python_mb: float | None = None  # tracemalloc: Python allocations traced now
    tracer_mb: float | None = None  # tracemalloc's own bookkeeping (counted in RSS too)
    sites: list[Site] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "rss_mb": self.rss_mb, "by_mapping": self.by_mapping,
                "heap": vars(self.heap) if self.heap else None, "threads": self.threads,
                "fds": self.fds, "python_mb": self.python_mb,
                "tracer_mb": self.tracer_mb,
                "sites": [vars(s) for s in self.sites]}


def rss_mb() -> float:
    """Resident memory of this process now, in MB (Linux /proc; else its peak so far)."""
    now = process_rss_mb("self")
    if now is not None:
        return now
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def process_rss_mb(pid: int | str) -> float | None:
    """Resident memory of process `pid` now, in MB; None where /proc cannot tell (it has
    gone, or this is not Linux): another process's memory has no stand-in."""
    try:
        with open(f"/proc/{pid}/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / MB
    except (OSError, ValueError, IndexError):
        return None


def mapping_group(pathname: str) -> str:
    """What backs a mapping, as a short name: `[heap]`, `anonymous`, or a file's name."""
    pathname = pathname.strip()
    if not pathname:
        return "anonymous"
    if pathname.startswith("[anon:") or pathname.startswith("[stack"):
        return "anonymous" if pathname.startswith("[anon:") else "[stack]"
    if pathname.startswith("["):
        return pathname
    return Path(pathname.replace(" (deleted)", "")).name


def resident_by_mapping(smaps_text: str) -> dict[str, float]:
    """Sum the `Rss:` of each mapping in /proc/PID/smaps text by `mapping_group`, in MB."""
    groups: dict[str, float] = {}
    current = "anonymous"
    for line in smaps_text.splitlines():
        header = _SMAPS_HEADER.match(line)
        if header:
            current = mapping_group(header.group(1))
        elif line.startswith("Rss:"):
            groups[current] = groups.get(current, 0.0) + int(line.split()[1]) * 1024 / MB
    return groups


def _read_smaps(pid: int | str = "self") -> dict[str, float]:
    try:
        return resident_by_mapping(Path(f"/proc/{pid}/smaps").read_text())
    except OSError:
        return {}


class _MallInfo2(ctypes.Structure):
    _fields_: ClassVar = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]


@dataclass(frozen=True)
class CHeap:
    """glibc's malloc over all arenas, in MB."""

    in_arenas_mb: float  # allocated from the arenas (blocks under the mmap threshold)
    mmapped_mb: float  # large blocks, each its own mapping (counted whole: the pages of a
    # calloc'd block are resident only once written)
    free_held_mb: float  # freed but not returned to the system

    @property
    def in_use_mb(self) -> float:
        return self.in_arenas_mb + self.mmapped_mb


def c_heap_mb() -> CHeap | None:
    """glibc's view of the C heap now; None off glibc."""
    c = libc()
    if c is None or not hasattr(c, "mallinfo2"):
        return None
    c.mallinfo2.restype = _MallInfo2
    info = c.mallinfo2()
    return CHeap(info.uordblks / MB, info.hblkhd / MB, info.fordblks / MB)


def process_counts(pid: int | str = "self") -> tuple[int, int] | None:
    """(threads, open file descriptors) of a process (Linux /proc); None elsewhere."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        threads = int(re.search(r"^Threads:\s+(\d+)", status, re.M).group(1))  # type: ignore[union-attr]
        return threads, len(os.listdir(f"/proc/{pid}/fd"))
    except (OSError, AttributeError, ValueError):
        return None


class MemoryWatch:
    """Takes probes; the first one starts tracemalloc's comparison baseline."""

    def __init__(self, trace_python: bool = True) -> None:
        self.trace_python = trace_python
        self.probes: list[MemoryProbe] = []
        self._baseline: tracemalloc.Snapshot | None = None

    def start(self) -> None:
        """Start tracing Python allocations (call at the start of the stretch to explain)."""
        if self.trace_python and not tracemalloc.is_tracing():
            tracemalloc.start(TRACE_FRAMES)

    def probe(self, label: str) -> MemoryProbe:
        threads, fds = process_counts() or (None, None)
        probe = MemoryProbe(label, rss_mb(), _read_smaps(), heap=c_heap_mb(),
                            threads=threads, fds=fds)
        if tracemalloc.is_tracing():
            self._python_figures(probe)
        self.probes.append(probe)
        return probe

    def _python_figures(self, probe: MemoryProbe) -> None:
        probe.python_mb = tracemalloc.get_traced_memory()[0] / MB  # before the snapshot's own
        probe.tracer_mb = tracemalloc.get_tracemalloc_memory() / MB
        snapshot = tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.Filter(False, tracemalloc.__file__)])
        if self._baseline is None:
            self._baseline = snapshot
            return
        grown = snapshot.compare_to(self._baseline, "traceback")
        grown.sort(key=lambda d: d.size_diff, reverse=True)
        probe.sites = [Site(_where(d.traceback), d.size_diff / MB, d.count_diff)
                       for d in grown[:TOP_SITES] if d.size_diff > 0]


def _where(traceback: tracemalloc.Traceback) -> str:
    """The allocating line, and the nearest lines of this program (not a library's) that
    led to it, innermost first."""
    frames = list(reversed(traceback))
    ours = [f"{_short(f.filename)}:{f.lineno}" for f in frames[1:] if not _library(f.filename)]
    where = f"{_short(frames[0].filename)}:{frames[0].lineno}"
    return where + (f" ({' ← '.join(ours[:2])})" if ours else "")


def _library(filename: str) -> bool:
    return "site-packages" in filename or filename.startswith(_STDLIB) or \
        filename.startswith("<")


_STDLIB = sysconfig.get_paths()["stdlib"]


def _short(filename: str) -> str:
    for marker in (f"{os.sep}voicebot{os.sep}", f"{os.sep}tests{os.sep}",
                   f"{os.sep}scripts{os.sep}"):
        if marker in filename and "site-packages" not in filename:
            return marker.strip(os.sep) + "/" + filename.rsplit(marker, 1)[1]
    return Path(filename).name

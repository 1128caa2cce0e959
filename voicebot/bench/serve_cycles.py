"""`voicebot bench serve --cycles N`: many sessions one after another, the way a shared
`voicebot serve` is used for an afternoon. Each cycle, `clients` browser-protocol clients
connect together, each asks one question at 1x, and all disconnect; after each cycle the
server's RSS, thread count and open descriptors are read from /proc once its sessions have
wound down. A session that leaves a thread, a socket or memory behind shows up here as a
count that does not come back, or RSS that climbs cycle after cycle.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from voicebot.bench.serve import Question, TurnResult, run_clients

SETTLE_TIMEOUT_S = 5.0
SETTLE_STEADY_S = 0.3


@dataclass(frozen=True)
class ServerFigures:
    rss_mb: float
    threads: int
    fds: int


@dataclass
class Cycle:
    index: int  # from 1
    answered: int
    asked: int
    figures: ServerFigures | None
    e2e: list[float]
    errors: list[str]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def read_server(pid: int) -> ServerFigures | None:
    """RSS, threads and open descriptors of process `pid` (None once it has gone)."""
    from voicebot.bench.memory import process_counts, process_rss_mb

    counts, rss = process_counts(pid), process_rss_mb(pid)
    return None if counts is None or rss is None else ServerFigures(rss, *counts)


def settled(read: Callable[[], ServerFigures | None], timeout: float = SETTLE_TIMEOUT_S,
            steady: float = SETTLE_STEADY_S, clock: Callable[[], float] = time.monotonic,
            sleep: Callable[[float], None] = time.sleep) -> ServerFigures | None:
    """The figures once thread and descriptor counts have stayed the same for `steady`
    seconds (a closed session's thread ends a moment after its socket), or the last read
    after `timeout`: a count that never settles is reported as it is, not waited out."""
    last = read()
    since = clock()
    deadline = since + timeout
    while last is not None and clock() < deadline:
        sleep(0.05)
        now = read()
        if now is None:
            return None
        if (now.threads, now.fds) != (last.threads, last.fds):
            since = clock()
        last = now
        if clock() - since >= steady:
            break
    return last


def run_cycles(url: str, questions: Sequence[Question], cycles: int, clients: int,
               read: Callable[[], ServerFigures | None],
               on_cycle: Callable[[Cycle], None] = lambda _: None) -> list[Cycle]:
    """`cycles` rounds of `clients` one-question sessions; question k of the set goes to
    the k-th session overall, so every question is asked in turn."""
    out = []
    asked = 0
    for index in range(1, cycles + 1):
        mine = [questions[(asked + i) % len(questions)] for i in range(clients)]
        asked += clients
        rows = run_clients(url, clients, mine, per_client=1)  # client i asks mine[i]
        cycle = _cycle(index, rows, settled(read))
        out.append(cycle)
        on_cycle(cycle)
    return out


def _cycle(index: int, rows: list[TurnResult], figures: ServerFigures | None) -> Cycle:
    ok = [r for r in rows if r.status == "ok"]
    return Cycle(index, len(ok), len(rows), figures,
                 [r.client_e2e for r in ok if r.client_e2e is not None],
                 [f"{r.status}: {r.error}" for r in rows if r.status != "ok"])

"""Which of llama.cpp's two engines takes a request (`llm.n_threads: adaptive`).

The wide engine (all cores) is fastest while nothing else runs; with another process busy,
a stolen core stalls its threads, so the narrow one (half the cores) takes the request.
But each engine keeps its own prompt cache, and the narrow one only hears the requests it
takes: after a stretch of idle turns its cache is far behind, and taking the next request
means evaluating every turn since on one thread. In a 200-turn soak that was a 35 s first
token (turn 138; the default 1.5B model evaluates ~20 prompt tokens a second on one core
here). So the narrow engine takes a busy-time request only while its cache is about as
current as the wide one's; otherwise the wide one, slowed by the other process, still has
only the new words to evaluate. The prefill at the end of that turn, off the reply's path,
then brings the narrow engine up to date, and the next busy-time request takes it, unless
the catch-up is still running (it cannot be stopped inside an evaluation), when the wide one
takes that request too.

Pure: the caller measures the load and says what each engine last evaluated.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping, Sequence

from voicebot.cpuload import IDLE_CORES
from voicebot.events import ChatMessage

STALE_CHARS = 256
"""How much more prompt (about 64 tokens, ~3 s on one core with the 1.5B model) the narrow
engine may have to evaluate than the wide one and still take a request while others are
busy."""


def missing_chars(cached: Sequence[ChatMessage], wanted: Sequence[ChatMessage],
                  shift: bool = False) -> int:
    """Characters of `wanted` that an engine which last evaluated `cached` has to evaluate:
    everything after the longest shared start (whole messages, then the shared start of the
    first message that differs, as a prefill of the words heard so far leaves it).

    `shift`: the engine reuses cached turns that moved up when older ones were dropped from
    the history (llama.cpp's cache shift, `llm.cache_reuse`), so after such a trim only the
    turns it never saw count. Without this, a trim made every engine look equally far
    behind, so on a busy machine that turn went to the narrow engine, whose cache may be
    long stale (evaluating the whole history on one thread), where the wide one would
    have shifted."""
    missing = _missing_after_shared_start(cached, wanted)
    if not shift:
        return missing
    shared = _shared_messages(cached, wanted)
    if shared >= len(wanted):
        return missing
    for moved in range(shared + 1, len(cached)):
        if cached[moved] == wanted[shared]:  # the turns after a dropped block
            kept = [*cached[:shared], *cached[moved:]]
            missing = min(missing, _missing_after_shared_start(kept, wanted))
    return missing


def _shared_messages(cached: Sequence[ChatMessage], wanted: Sequence[ChatMessage]) -> int:
    shared = 0
    for old, new in zip(cached, wanted, strict=False):
        if old != new:
            break
        shared += 1
    return shared


def _missing_after_shared_start(cached: Sequence[ChatMessage],
                                wanted: Sequence[ChatMessage]) -> int:
    shared = _shared_messages(cached, wanted)
    if shared >= min(len(cached), len(wanted)):
        return _chars(wanted[shared:])
    old, new = cached[shared], wanted[shared]
    common = len(os.path.commonprefix((old.content, new.content))) \
        if old.role == new.role else 0
    return len(new.content) - common + _chars(wanted[shared + 1:])


def choose_threads(missing: Mapping[int, int], others_cores: float | None,
                   allowance: float = STALE_CHARS,
                   prefilling: Collection[int] = ()) -> int:
    """The thread count of the engine for a request: the widest while the other processes
    are idle, else the narrowest unless its cache is more than `allowance` characters
    further behind, or it is still evaluating a prefill (`prefilling`) and the wide one is
    not. A prefill, which runs off the reply's path, passes an unbounded allowance: it
    brings the narrow engine up to date while others are busy, so a later request there
    finds it current."""
    narrow, wide = min(missing), max(missing)
    if others_cores is not None and others_cores < IDLE_CORES:
        return wide
    if narrow in prefilling and wide not in prefilling:
        return wide
    return wide if missing[narrow] > missing[wide] + allowance else narrow


def _chars(messages: Sequence[ChatMessage]) -> int:
    return sum(len(m.content) for m in messages)

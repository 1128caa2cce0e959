"""The load meter behind llm.n_threads: adaptive (cpuload.py), and the engine choice."""

from __future__ import annotations

import sys
import threading
import time

import pytest

from voicebot import cpuload
from voicebot.cpuload import OtherLoad, other_cores, read_cpu_ticks, read_own_ticks
from voicebot.events import ChatMessage
from voicebot.llm.llamacpp import LlamaCppLlm, LlamaCppParams

PROC_STAT = """cpu  900 0 300 5000 100 0 0 0 0 0
cpu0 400 0 100 2500 50 0 10 0 0 0
cpu1 500 0 200 2500 50 0 0 5 0 0
cpu2 7777 0 0 1 0 0 0 0 0 0
intr 12345 0 0
ctxt 999
"""


def test_cpu_ticks_count_only_our_cores_and_treat_iowait_as_idle() -> None:
    busy, total = read_cpu_ticks(PROC_STAT, {0, 1})
    assert total == (400 + 100 + 2500 + 50 + 10) + (500 + 200 + 2500 + 50 + 5)
    assert busy == (400 + 100 + 10) + (500 + 200 + 5)


def test_own_ticks_survive_a_command_name_with_spaces_and_parentheses() -> None:
    stat = "4242 (my (odd) prog) S 1 4242 4242 0 -1 4194560 100 0 0 0 37 5 0 0 20 0 3 0"
    assert read_own_ticks(stat) == 37 + 5


def test_other_cores_subtract_our_own_time() -> None:
    # 2 cores over 100 ticks each = 200 ticks; 150 busy, 50 of them ours: 1 other core
    assert other_cores((0, 0, 0), (150, 200, 50), cpus=2) == pytest.approx(1.0)
    assert other_cores((0, 0, 0), (40, 200, 60), cpus=2) == 0.0  # never negative
    assert other_cores((5, 5, 5), (5, 5, 5), cpus=2) == 0.0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads Linux /proc")
def test_the_meter_reports_after_its_first_period() -> None:
    meter = OtherLoad(period_s=0.05)
    deadline = time.monotonic() + 5.0
    while meter.cores() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    cores = meter.cores()
    meter.close()
    assert cores is not None and 0.0 <= cores <= 64


class StubMeter:
    def __init__(self, cores: float | None) -> None:
        self.value = cores

    def cores(self) -> float | None:
        return self.value


def _choice_only(meter: StubMeter) -> LlamaCppLlm:
    """An adaptive LlamaCppLlm with no model loaded: its engine choice only."""
    llm = LlamaCppLlm.__new__(LlamaCppLlm)
    llm.params = LlamaCppParams(n_threads="adaptive")
    llm._engines = {1: "narrow engine", 2: "wide engine"}
    llm._load_meter = meter  # type: ignore[assignment]
    llm._evaluated, llm._choice_lock, llm._prefilling = {}, threading.Lock(), set()
    return llm


@pytest.mark.parametrize(("others", "threads"), [(0.1, 2), (0.9, 1), (None, 1)])
def test_adaptive_takes_the_wide_engine_only_while_the_others_are_idle(
        others: float | None, threads: int) -> None:
    llm = _choice_only(StubMeter(others))
    engine = llm._engine([ChatMessage("user", "Hello.")])
    assert llm.threads_used == threads
    assert engine == ("wide engine" if threads == 2 else "narrow engine")


def test_the_load_meter_starts_on_first_use_reads_idle_and_closes() -> None:
    class Meter:
        def __init__(self, cores: float | None) -> None:
            self.value = cores
            self.closed = False

        def cores(self) -> float | None:
            return self.value

        def close(self) -> None:
            self.closed = True

    for cores, idle in ((None, True), (0.2, True), (0.5, False), (1.8, False)):
        meter = Meter(cores)
        starts: list[Meter] = []

        def start(meter: Meter = meter, starts: list[Meter] = starts) -> Meter:
            starts.append(meter)
            return meter

        load = cpuload.LoadMeter(start)
        assert starts == []  # no sampling thread until someone asks
        assert load.others_idle() is idle
        assert load.others_idle() is idle and len(starts) == 1
        load.close()
        assert meter.closed


def test_a_narrow_engine_far_behind_leaves_a_busy_time_request_to_the_wide_one() -> None:
    meter = StubMeter(0.1)
    llm = _choice_only(meter)
    history = [ChatMessage("system", "Be brief.")]
    for turn in range(8):  # idle turns: the wide engine takes them all
        history += [ChatMessage("user", f"Question {turn} about something or other?")]
        assert llm._engine(history) == "wide engine"
        history += [ChatMessage("assistant", "An answer of a sentence or two. " * 3)]
    meter.value = 1.0  # another process busy now: the narrow engine is eight turns behind
    history += [ChatMessage("user", "And one more?")]
    assert llm._engine(history) == "wide engine"
    assert llm.threads_used == 2
    # the prefill at the turn's end, off the reply's path, brings the narrow one up to date
    history += [ChatMessage("assistant", "Yes."), ChatMessage("user", "")]
    assert llm._choose(history, prefill=True) == 1
    assert llm._prefilling == {1}  # until the prefill is done a reply goes to the wide one
    history[-1] = ChatMessage("user", "Then what?")
    assert llm._engine(history) == "wide engine"
    llm._prefilling.clear()
    assert llm._engine(history) == "narrow engine"

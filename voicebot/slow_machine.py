"""Says once, on a machine too slow for the accurate default, that configs/fast.yaml exists.

The default LLM (Qwen2.5-Coder-1.5B) answers right where the small one is wrong a third of
the time, and on a 2-core x86 laptop-class CPU it still answers in under a second. A slower
machine (an old or throttled CPU, a small ARM board) can take twice that, and its user
should hear of the fast config from the program, not only from the README. Whether a
machine is too slow is judged from its own first turns (their median e2e latency), not from
its core count: cores say little about memory bandwidth, which bounds the LLM here.

The verdict is written to the data folder once it is known, so the line is said on the
first run only (and never for a config whose LLM is already the fast one).
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from voicebot.metrics import TurnRecord
from voicebot.view import ConversationView

SLOW_MEDIAN_S = 1.5
"""A median e2e above this (about twice the default's target of 0.8 s) is too slow."""
TURNS_TO_JUDGE = 3
FAST_CONFIG = "configs/fast.yaml"
FAST_MODEL = "smollm2-135m"


def slow_machine_line(e2e_s: list[float], threshold_s: float = SLOW_MEDIAN_S) -> str | None:
    """The one line to say for these first turns' e2e latencies, or None."""
    median = statistics.median(e2e_s)
    if median <= threshold_s:
        return None
    return (f"(This machine took {median:.1f} s to answer (median of {len(e2e_s)} turns); "
            f"for quicker but less accurate replies: --config {FAST_CONFIG})")


@dataclass
class SlowMachineCheck:
    """Collects the first turns' e2e latencies and judges once (see module doc)."""

    state_path: Path
    threshold_s: float = SLOW_MEDIAN_S
    turns_to_judge: int = TURNS_TO_JUDGE
    e2e_s: list[float] = field(default_factory=list)
    done: bool = False

    def __post_init__(self) -> None:
        self.done = self.state_path.is_file()

    def observe(self, turn: TurnRecord) -> str | None:
        """The line to say after this turn (at most once ever), or None."""
        e2e = turn.figures.get("e2e_latency")
        if self.done or turn.status != "ok" or e2e is None:
            return None
        self.e2e_s.append(e2e)
        if len(self.e2e_s) < self.turns_to_judge:
            return None
        self.done = True
        line = slow_machine_line(self.e2e_s, self.threshold_s)
        self._record(line is not None)
        return line

    def _record(self, slow: bool) -> None:
        state = {"median_e2e_s": round(statistics.median(self.e2e_s), 3), "slow": slow,
                 "threshold_s": self.threshold_s}
        try:
            self.state_path.parent.mkdir(parents=True, exist_ok=True)
            self.state_path.write_text(json.dumps(state) + "\n", encoding="utf-8")
        except OSError:
            pass  # then it is judged again next run: no harm


class SlowMachineView:
    """A View that passes everything on and adds the slow-machine line after a turn."""

    def __init__(self, inner: ConversationView, check: SlowMachineCheck) -> None:
        self.inner = inner
        self.check = check

    def partial(self, committed: str, partial: str) -> None:
        self.inner.partial(committed, partial)

    def user_said(self, text: str) -> None:
        self.inner.user_said(text)

    def reply_text(self, delta: str) -> None:
        self.inner.reply_text(delta)

    def turn_done(self, turn: TurnRecord) -> None:
        self.inner.turn_done(turn)
        line = self.check.observe(turn)
        if line is not None:
            self.inner.notice(line)

    def notice(self, message: str) -> None:
        self.inner.notice(message)


def checked_view(inner: ConversationView, llm_model: str | None) -> ConversationView:
    """`inner`, watched for a slow machine unless the LLM is already the fast one."""
    from voicebot.assets import data_dir

    if llm_model == FAST_MODEL:
        return inner
    return SlowMachineView(inner, SlowMachineCheck(data_dir() / "slow-machine.json"))

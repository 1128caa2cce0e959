"""Turn timelines -> per-stage latency figures; the per-turn table; the JSONL session log.

Marks are seconds on the orchestrator's clock since the session started. `llm_start` is
when the reply was requested: at `asr_final`, or earlier when the reply was started
speculatively in the pause before the endpoint. `speech_end` is the
true end of the user's speech (the VAD's last speech frame, mapped from audio time), so
`e2e_latency` = first reply audio out - speech_end, the figure users feel.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
from collections.abc import Collection, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

MARKS = (
    "speech_start",
    "speech_end",
    "endpoint",
    "asr_final",
    "llm_start",
    "llm_first_token",
    "first_sentence",
    "tts_first_audio",
    "playback_start",
    "playback_end",
    "turn_end",
)

# figure name -> (from mark, to mark); names follow pipecat / livekit-agents where they exist.
FIGURES: dict[str, tuple[str, str]] = {
    "end_of_turn_delay": ("speech_end", "endpoint"),
    "transcription_delay": ("endpoint", "asr_final"),
    "llm_ttft": ("llm_start", "llm_first_token"),
    "llm_ttfs": ("llm_start", "first_sentence"),
    "tts_ttfb": ("first_sentence", "tts_first_audio"),
    "e2e_latency": ("speech_end", "playback_start"),
}
FIGURE_LABELS = {
    "end_of_turn_delay": "end of turn (silence + detector)",
    "transcription_delay": "final transcript",
    "llm_ttft": "LLM first token",
    "llm_ttfs": "LLM first sentence",
    "tts_ttfb": "TTS first audio",
    "e2e_latency": "e2e latency",
}

LABEL_W = 34  # the per-turn table's label column

# The anchors every report compares with (OpenAI, GPT-4o announcement, May 2024).
VOICE_MODE_GPT35_S = 2.8
VOICE_MODE_GPT4_S = 5.4
GPT4O_S = 0.32


def mark_once(marks: dict[str, float], name: str, t: float,
              allowed: Collection[str] = MARKS) -> None:
    """Record mark `name` once (the first occurrence wins); a name not `allowed` is a bug."""
    if name not in allowed:
        raise ValueError(f"unknown mark {name!r}")
    marks.setdefault(name, t)


OVERLAP_MIN_S = 0.3
"""Voice under this while the reply plays is a click, a breath or a cough, not a cut-in."""

TurnStatus = Literal["ok", "failed", "truncated", "interrupted"]
"""truncated: the LLM stream broke off; interrupted: barge-in, Ctrl-C, a lost client."""


@dataclass
class PauseRecord:
    """The reply paused for the user's voice and went on (turn/interjection.py)."""

    at: float  # session time it paused
    paused_s: float  # how long it stayed paused
    heard: str  # what the voice said ("" for none)
    kind: str  # backchannel, echo, nothing (no words), or silence (no words by the timer)


@dataclass
class TurnRecord:
    """One finished (or failed, or interrupted) turn, as logged."""

    index: int
    status: TurnStatus = "ok"
    user_text: str = ""
    reply_text: str = ""
    partial_reply: str = ""  # what the LLM had generated when a turn failed or was cut
    error: str | None = None
    reply_audio_s: float = 0.0
    forced: bool = False  # the utterance hit max_utterance_s and was cut
    muted_speech_s: float = 0.0  # voice heard (and dropped) while the microphone was muted
    overlap_s: float = 0.0
    """The user's voice heard while the reply played (a cut-in: the reply began before they
    had finished). Half-duplex knows it only afterwards, from the muted input; on open
    speakers without echo cancellation the bot's own voice counts too."""
    stall_s: float = 0.0
    """Silence the reply's audio ran dry for between its chunks (the next one was late)."""
    measured_e2e: float | None = None
    """Benchmarks: the e2e measured from outside (input and time-aligned reply audio)."""
    measured_e2e_fixed: float | None = None
    """... the same with the user's speech ended by a plain fixed -40 dBFS threshold instead
    of the level rule (loud level and noise floor): where the two referees disagree."""
    llm_threads: int | None = None
    """The thread count of the LLM engine that answered, where the backend says (llama.cpp:
    with n_threads: adaptive it varies with the machine's load)."""
    pauses: list[PauseRecord] = field(default_factory=list)
    """Times the reply paused for the user's voice and then resumed (full duplex)."""
    continued_by: int | None = None
    """The user went on speaking in the reply's first seconds: this reply was dropped and
    turn `continued_by` answers the whole sentence once."""
    marks: dict[str, float] = field(default_factory=dict)

    def mark(self, name: str, t: float) -> None:
        mark_once(self.marks, name, t)

    @property
    def overlapped(self) -> bool:
        """The reply played over the user's speech for long enough to count (see
        OVERLAP_MIN_S): its e2e is not what the user heard, and the turn is not plain ok."""
        return self.overlap_s >= OVERLAP_MIN_S

    @property
    def figures(self) -> dict[str, float]:
        return compute_figures(self.marks)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["figures"] = {k: round(v, 4) for k, v in self.figures.items()}
        data["marks"] = {k: round(v, 4) for k, v in self.marks.items()}
        data["reply_audio_s"] = round(self.reply_audio_s, 3)
        data["muted_speech_s"] = round(self.muted_speech_s, 3)
        data["overlap_s"] = round(self.overlap_s, 3)
        data["overlapped"] = self.overlapped
        data["stall_s"] = round(self.stall_s, 3)
        for key in ("measured_e2e", "measured_e2e_fixed"):
            if data[key] is None:
                del data[key]
            else:
                data[key] = round(data[key], 4)
        return data


def compute_figures(marks: dict[str, float]) -> dict[str, float]:
    """Every figure whose two marks are present (missing marks give no figure)."""
    out = {}
    for name, (a, b) in FIGURES.items():
        if a in marks and b in marks:
            out[name] = marks[b] - marks[a]
    return out


def format_turn_table(turn: TurnRecord) -> str:
    """The per-turn latency table printed after each turn (plain text: works in a pipe)."""
    figures = turn.figures
    status = f"{turn.status}, overlapped" if turn.overlapped else turn.status
    lines = [f"── turn {turn.index} ({status}) " + "─" * 30]
    if turn.error:
        lines.append(f"  error: {turn.error}")
    for name in FIGURES:
        if name == "e2e_latency":
            continue
        value = figures.get(name)
        lines.append(f"  {FIGURE_LABELS[name]:<{LABEL_W}}{_ms(value):>8}")
    head_start = _head_start(turn.marks)
    if head_start >= 0.005:
        lines.append(f"  {'(reply began before endpoint)':<{LABEL_W}}{_ms(head_start):>8}")
    e2e = figures.get("e2e_latency")
    lines.append("  " + "─" * 36)
    lines.append(f"  {'e2e latency':<{LABEL_W}}{_ms(e2e):>8}   {_verdict(e2e)}")
    lines.append(
        f"  {'':<{LABEL_W}}{'':>8}   GPT-4o {GPT4O_S * 1000:.0f} ms · old Voice Mode "
        f"{VOICE_MODE_GPT35_S:.1f}–{VOICE_MODE_GPT4_S:.1f} s"
    )
    if turn.overlapped:
        lines.append(f"  the reply played over {turn.overlap_s:.1f} s of your speech: it "
                     "started before you had finished")
    if turn.reply_audio_s:
        lines.append(f"  {'reply audio':<{LABEL_W}}{turn.reply_audio_s:>7.1f}s")
    return "\n".join(lines)


def _head_start(marks: dict[str, float]) -> float:
    """How long before the endpoint a speculative reply was started (0 if it was not)."""
    if "llm_start" in marks and "endpoint" in marks:
        return max(0.0, marks["endpoint"] - marks["llm_start"])
    return 0.0


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value * 1000:.0f} ms"


def _verdict(e2e: float | None) -> str:
    if e2e is None:
        return ""
    if e2e <= GPT4O_S:
        return "as fast as GPT-4o"
    if e2e < VOICE_MODE_GPT35_S:
        return f"{VOICE_MODE_GPT35_S / e2e:.1f}x faster than Voice Mode (GPT-3.5)"
    return "slower than the old Voice Mode"


class SessionLog:
    """Append-only JSONL: one line per turn, flushed and fsynced as each turn ends, so a
    crash or Ctrl-C never loses a finished turn. The file is opened at once (a bad path is
    one line before the models load); a later write error (a full disk) is one warning line
    and the session goes on: `error` holds it, so the caller can exit non-zero."""

    def __init__(self, path: Path, session: dict[str, Any] | None = None) -> None:
        from voicebot.outputs import open_early

        self.path = path
        self.session = session or {}
        self.error: str | None = None
        open_early(path, "the session log")

    def append(self, turn: TurnRecord) -> None:
        self.append_record(turn.to_json())

    def append_record(self, data: dict[str, Any]) -> None:
        from voicebot.outputs import write_failure

        line = json.dumps({**self.session, **data}, ensure_ascii=False) + "\n"
        try:
            _append_whole(self.path, line.encode("utf-8"))
        except OSError as exc:
            if self.error is None:
                self.error = str(write_failure(self.path, "the session log", exc))
                print(f"voicebot: warning: {self.error}; the session goes on unlogged",
                      file=sys.stderr, flush=True)


def _append_whole(path: Path, data: bytes) -> None:
    """Append `data` with one write, then fsync. A Ctrl-C that lands during the append
    (the user stops right as a turn ends) still lets the line be written once."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        before = os.fstat(fd).st_size
        try:
            os.write(fd, data)
            os.fsync(fd)
        except KeyboardInterrupt:
            if os.fstat(fd).st_size == before:
                os.write(fd, data)
            raise
    finally:
        os.close(fd)


def read_log(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@dataclass(frozen=True)
class Summary:
    name: str
    count: int
    median: float
    p90: float
    max: float


def summarize(values: Sequence[float], name: str) -> Summary | None:
    if not values:
        return None
    ordered = sorted(values)
    return Summary(name, len(ordered), statistics.median(ordered), percentile(ordered, 90),
                   ordered[-1])


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile of `values` (q in 0..100)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    pos = (len(ordered) - 1) * q / 100.0
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def figure_values(turns: Iterable[TurnRecord], name: str) -> list[float]:
    return [t.figures[name] for t in turns if t.status == "ok" and name in t.figures]

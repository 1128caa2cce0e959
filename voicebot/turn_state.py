"""The turn in progress: its phase, decided on explicitly, and its timing, recorded only.

    listening --final transcript--> replying --first audible sample--> speaking
        ^  \\________________________________________________________/  |
        |   the user goes on before any reply audio: back to listening    v
                                                   done | interrupted | failed

`listening` covers the user's speech and the pause before the endpoint (where a
speculative reply may already be prepared: it is the reply handle's business). The
orchestrator reads the phase to decide; the timing marks are append-only records that no
code reads to decide anything, and the `TurnRecord` that the log and the report see is
produced from the state when the turn ends (`finish`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from voicebot.metrics import MARKS, TurnRecord, TurnStatus, mark_once
from voicebot.reply_handle import ReplyHandle

TurnPhase = Literal["listening", "replying", "speaking", "done", "interrupted", "failed"]
ENDING: dict[TurnStatus, TurnPhase] = {
    "ok": "done", "failed": "failed", "truncated": "failed", "interrupted": "interrupted",
}
_PART_MARKS = ("speech_end", "endpoint", "asr_final")


@dataclass
class Turn:
    """`record` gathers the turn's figures as they happen (user text, muted speech,
    overlap, pauses...); its marks are written by `finish`."""

    record: TurnRecord
    phase: TurnPhase = "listening"
    times: dict[str, float] = field(default_factory=dict)
    """This turn's own marks (speech_start, and speech_end, endpoint and asr_final of the
    part said last); the reply's are on its handle."""

    @classmethod
    def begin(cls, index: int, speech_start: float, user_text: str = "") -> Turn:
        turn = cls(TurnRecord(index=index, user_text=user_text))
        turn.mark("speech_start", speech_start)
        return turn

    @property
    def index(self) -> int:
        return self.record.index

    @property
    def forced(self) -> bool:
        """The utterance hit max_utterance_s and was cut, so the reply could start."""
        return self.record.forced

    def mark(self, name: str, t: float) -> None:
        mark_once(self.times, name, t)

    def user_went_on(self) -> None:
        """The user spoke again before any reply audio: the same turn, listening again; the
        next part's end of speech, endpoint and final are the ones that count."""
        self.phase = "listening"
        for name in _PART_MARKS:
            self.times.pop(name, None)

    def finish(self, reply: ReplyHandle | None, turn_end: float) -> TurnRecord:
        """The turn's record, with the marks of the turn and of the reply it ended with."""
        self.phase = ENDING[self.record.status]
        marks = {**self.times, **(reply.marks() if reply is not None else {}),
                 "turn_end": turn_end}
        self.record.marks = {name: marks[name] for name in MARKS if name in marks}
        return self.record

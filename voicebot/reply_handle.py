"""One reply of the bot, from its request to its last sample: a handle with an explicit state.

In the spirit of livekit-agents' `SpeechHandle`, the orchestrator decides from the handle's
state, never from timing marks:

    speculative --audio ready--> held --endpoint confirms--> playing <--> paused
         \\--endpoint confirms--> confirmed --first audible sample--/
    any live state --> dropped (nobody heard it) | interrupted (cut) | failed | done

A speculative reply is started in the pause before the endpoint on the text the listener
will most likely finalise; its audio is held until the final transcript confirms that text.
`generating` is separate: the LLM and TTS stream may still be producing while the reply
plays, and ends (False) before or after the first sample is heard.

The handle also keeps the reply's own timing marks (request, first token, first sentence,
first audio): a dropped reply takes them with it, so the turn's figures describe the reply
that was heard.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from voicebot.audio.sinks import Playback
from voicebot.metrics import mark_once
from voicebot.reply import AudioChunk, ReplyEvent
from voicebot.reply_worker import Pending

ReplyState = Literal[
    "speculative", "held", "confirmed", "playing", "paused",
    "done", "dropped", "interrupted", "failed",
]
ENDED: frozenset[ReplyState] = frozenset({"done", "dropped", "interrupted", "failed"})
REPLY_MARKS = ("llm_start", "llm_first_token", "first_sentence", "tts_first_audio")


@dataclass
class ReplyHandle:
    events: Iterator[ReplyEvent | Pending]
    cancel: threading.Event
    state: ReplyState = "confirmed"
    speculative_text: str | None = None
    """The user message a speculative reply was started on (None once confirmed)."""
    generating: bool = True
    text: str = ""
    sentences: list[str] = field(default_factory=list)
    starts: dict[int, Playback] = field(default_factory=dict)  # sentence -> its first audio
    held: list[AudioChunk] = field(default_factory=list)
    first_heard: tuple[Playback, float] | None = None  # first audible chunk, sample offset (s)
    audible_at: float | None = None
    """When its first audible sample was expected to be heard, at the time it was played."""
    ends_at: float | None = None
    """When its last sample plays (known once it has all been generated and released)."""
    times: dict[str, float] = field(default_factory=dict)

    @classmethod
    def start(cls, events: Iterator[ReplyEvent | Pending], cancel: threading.Event,
              speculative_text: str | None, at: float) -> ReplyHandle:
        handle = cls(events, cancel, speculative_text=speculative_text,
                     state="speculative" if speculative_text is not None else "confirmed")
        handle.mark("llm_start", at)
        return handle

    def mark(self, name: str, t: float) -> None:
        mark_once(self.times, name, t, REPLY_MARKS)

    # ---- state ----------------------------------------------------------------------
    @property
    def unconfirmed(self) -> bool:
        """Started speculatively; the endpoint's final transcript has not confirmed it."""
        return self.state in ("speculative", "held")

    @property
    def waiting(self) -> bool:
        """A speculative reply with audio ready waits for the endpoint: no more work."""
        return self.state == "held"

    @property
    def audible(self) -> bool:
        """The user has heard (or is hearing) it: it can be paused, cut or barged into."""
        return self.state in ("playing", "paused")

    @property
    def ended(self) -> bool:
        return self.state in ENDED

    def hold(self, chunk: AudioChunk) -> None:
        self.held.append(chunk)
        self.state = "held"

    def confirm(self) -> list[AudioChunk]:
        """The final transcript is the text it was started on: its held audio, to play."""
        self.speculative_text = None
        self.state = "confirmed"
        held, self.held = self.held, []
        return held

    def played(self, chunk: AudioChunk, playback: Playback, audible_offset: float | None) -> None:
        """A chunk went to the sink; `audible_offset` is where its first audible sample is
        (None: silent throughout)."""
        self.starts.setdefault(chunk.sentence_index, playback)
        if self.first_heard is None and audible_offset is not None:
            self.first_heard = (playback, audible_offset)
            self.audible_at = playback.start + audible_offset
            self.state = "playing"

    def pause(self) -> None:
        self.state = "paused"

    def resume(self) -> None:
        self.state = "playing"

    def end(self, state: ReplyState) -> None:
        """Stop producing: `state` is how it ended."""
        self.cancel.set()
        close = getattr(self.events, "close", None)
        if close is not None:
            close()
        self.state = state

    # ---- what was heard -------------------------------------------------------------
    def heard_by(self, t: float) -> str:
        """The sentences whose playback had started by elapsed time `t` (what the user
        heard, at least in part, when a reply is cut)."""
        return " ".join(s for i, s in enumerate(self.sentences)
                        if i in self.starts and self.starts[i].start < t)

    def heard_from(self) -> float | None:
        """When the first audible sample of the reply was (or will be) heard: the device's
        own figure once it has played it, else the expected time."""
        if self.first_heard is None:
            return None
        playback, offset = self.first_heard
        return playback.start + offset

    def marks(self) -> dict[str, float]:
        """Its timing marks for the turn's record, the device's figure for playback_start."""
        marks = dict(self.times)
        if (heard := self.heard_from()) is not None:
            marks["playback_start"] = heard
        if self.ends_at is not None:
            marks["playback_end"] = self.ends_at
        return marks

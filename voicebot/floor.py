"""Who has the floor while the bot speaks (full duplex): pause, resume, or give it up.

With barge-in, the user's voice over a playing reply pauses it at the voice's onset; what
the voice says decides (turn/interjection.py): a backchannel, the bot's own words or no
words resume the reply; real words take the floor and become the next turn. Said in the
reply's first `continue_within_s` they continue the user's turn instead: the reply is
dropped and the whole sentence is answered once. A voice that stays quiet for
`resume_after_s` with no real words in any decode resumes the reply on a timer (LiveKit's
agents do the same); its final, if it then has words, still takes the floor late.

`Floor` is the state and the policy, pure and driven by the times it is given; the
orchestrator (pipeline.py) does what it says to the sink, the reply and the turn.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

from voicebot.turn.interjection import asks_to_stop


@dataclass
class Pause:
    """The reply paused at `at` (session time) for the user's voice that began at `onset`
    (audio time); `quiet_since` is when that voice last went quiet (None while it goes on)."""

    at: float
    onset: float
    quiet_since: float | None = None
    speech_end: float | None = None  # the interjection's end of speech and endpoint, kept
    endpoint: float | None = None  # for the turn it becomes if it takes the floor
    words_heard: bool = False  # a decode of it had real words: wait for its final


FloorStep = Literal["pause again", "resume"]


class Floor:
    def __init__(self, resume_after_s: float, continue_within_s: float) -> None:
        self.resume_after_s = resume_after_s
        self.continue_within_s = continue_within_s
        self.pause: Pause | None = None
        """The reply is paused for this voice."""
        self.resumed: Pause | None = None
        """The timer resumed the reply, but this voice's utterance is still open."""

    @property
    def voice_over_reply(self) -> Pause | None:
        """The voice heard over the reply whose utterance is not judged yet."""
        return self.pause or self.resumed

    @property
    def pauses_on_voice(self) -> bool:
        """A voice over the reply pauses it (else it stops the reply at once)."""
        return self.resume_after_s > 0

    def paused(self, at: float, onset: float) -> None:
        self.pause = Pause(at=at, onset=onset)

    def voice_ended(self, speech_end: float, endpoint: float) -> None:
        over = self.voice_over_reply
        assert over is not None
        over.speech_end, over.endpoint = speech_end, endpoint

    def words_decoded(self) -> None:
        """A decode of the voice had real words: it is speech, so the timer waits for the
        final (a turn detector may hold an unfinished phrase for 2 s)."""
        if (over := self.voice_over_reply) is not None:
            over.words_heard = True

    def follow(self, voice: bool, now: float) -> FloorStep | None:
        """Each pass of the loop, with whether the voice is sounding: resume once it has
        been quiet `resume_after_s` and no decode of it had real words; a voice the timer
        gave up on that speaks again pauses the reply again (the same utterance: no new
        onset comes)."""
        if self.pause is None:
            if self.resumed is not None and voice:
                self.pause = dataclasses.replace(self.resumed, at=now, quiet_since=None)
                self.resumed = None
                return "pause again"
            return None
        pause = self.pause
        if voice:
            pause.quiet_since = None
        elif pause.quiet_since is None:
            pause.quiet_since = now
        elif now - pause.quiet_since >= self.resume_after_s and not pause.words_heard:
            return "resume"
        return None

    def resume(self, utterance_open: bool) -> Pause:
        """The reply goes on; the voice's utterance, if still open, is judged when final."""
        pause, self.pause = self.pause, None
        assert pause is not None
        if utterance_open:
            self.resumed = pause
        return pause

    def is_late_final(self, speech_start: float) -> bool:
        return self.resumed is not None and speech_start == self.resumed.onset

    def late_final(self, now: float | None) -> Pause:
        """The final of a voice the timer gave up on; `now` if it pauses the reply again
        (its words take the floor), None if it only goes in the log."""
        pause, self.resumed = self.resumed, None
        assert pause is not None
        if now is not None:
            pause.at = now
            self.pause = pause
        return pause

    def give_up(self, heard_from: float | None, text: str) -> tuple[Pause, bool]:
        """Real words over the reply take the floor: the pause, and whether they continue
        the user's turn (said within `continue_within_s` of the reply's first audible
        sample, and not a request to stop)."""
        pause, self.pause = self.pause, None
        assert pause is not None
        start = heard_from if heard_from is not None else pause.at
        continues = pause.at - start < self.continue_within_s and not asks_to_stop(text)
        return pause, continues

    def clear(self) -> None:
        self.pause = self.resumed = None

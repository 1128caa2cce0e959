"""What the user's speech over a reply was: words that take the floor, or not.

In full duplex a reply pauses the moment the user's voice starts (audio/echo.py keeps the
bot's own voice out). Whether it resumes depends on what that voice said: a backchannel
("mm-hm", "yeah", "okay"), a cough or a breath with no words, or the bot's own words come
back through the room (an echo the canceller let through) do not take the floor, and the
reply goes on where it paused. Anything else does. LiveKit's agents do the same with a
timer; here the words decide, and the timer (`conversation.resume_after_s`) only covers the
case where no words come at all.

Pure functions of text: the orchestrator (pipeline.py) calls them.
"""

from __future__ import annotations

import re
from typing import Literal

Interjection = Literal["words", "backchannel", "echo", "nothing"]

BACKCHANNELS = frozenset({
    "mm", "mhm", "mmhm", "mm-hm", "mm-hmm", "hmm", "hm", "uh-huh", "uhhuh", "uh", "um",
    "ah", "oh", "yeah", "yes", "yep", "yup", "ok", "okay", "right", "sure", "alright",
    "i see", "wow", "cool", "nice", "great", "got it", "uh huh", "mm hm", "oh okay",
    "oh yeah", "yeah yeah", "okay okay", "right right", "i see i see",
})
"""Whole interjections that only say "go on". A longer one ("yeah, but what about...") has
other words and takes the floor."""
STOCK_CLOSINGS = ("thank you", "thank you very much", "thanks", "thanks for watching",
                  "thank you for watching", "bye")
"""Whisper's stock hallucinations on the silence after speech. After a backchannel they do
not make it words: on the real sound server tiny.en wrote "Okay. Thank you." for a lone
"Okay." said over a reply in 3 of 6 runs (the turn detector held the endpoint ~1 s, and the
decodes of that silence wrote the closing), and the reply was cut. A user who really
says "okay, thank you" over a reply is acknowledging it, so it going on is right too."""
ECHO_SHARE = 0.6
ECHO_LEAST_WORDS = 2
"""At least this share of the interjection's words, and this many, are a run of the
reply's own words: the room gave the bot's voice back and the canceller let some through
(a leak is a stretch of the reply, so the run must be unbroken; a user who says "Paris?"
over a reply about Paris is heard)."""
STOP_WORDS = frozenset({"stop", "wait", "enough", "cancel", "quiet", "shut", "hold",
                        "pause", "nevermind"})
"""Words that ask the bot to stop talking: said over a reply they stop it, and never count
as the end of the user's last sentence."""
_WORD = re.compile(r"[a-z0-9']+(?:-[a-z0-9']+)*")


def words_of(text: str) -> list[str]:
    """Lower-case words, punctuation dropped ("Mm-hm." -> ["mm-hm"])."""
    return _WORD.findall(text.lower())


def asks_to_stop(text: str) -> bool:
    """"Stop", "wait", "never mind", "hold on"...: a request, not more of a question."""
    words = words_of(text)
    return bool(STOP_WORDS.intersection(words)) or "never mind" in " ".join(words)


def classify(text: str, reply_text: str, *, echo_possible: bool) -> Interjection:
    """`text`: what the user said over the reply; `reply_text`: what the reply had said
    around then. `echo_possible`: the bot's voice can reach the microphone (open speakers)."""
    words = words_of(text)
    if not words:
        return "nothing"
    if _is_backchannel(words):
        return "backchannel"
    if echo_possible and _is_echo(words, words_of(reply_text)):
        return "echo"
    return "words"


def _is_backchannel(words: list[str]) -> bool:
    said = " ".join(words)
    if said in BACKCHANNELS:
        return True
    for closing in STOCK_CLOSINGS:
        if said.endswith(" " + closing) and said[: -len(closing) - 1] in BACKCHANNELS:
            return True
    return False


def _is_echo(words: list[str], reply: list[str]) -> bool:
    run = _longest_common_run(words, reply)
    return run >= ECHO_LEAST_WORDS and run >= ECHO_SHARE * len(words)


def _longest_common_run(a: list[str], b: list[str]) -> int:
    """The longest stretch of words that `a` and `b` share, unbroken in both."""
    best = 0
    previous = [0] * (len(b) + 1)
    for word in a:
        current = [0] * (len(b) + 1)
        for j, other in enumerate(b):
            if word == other:
                current[j + 1] = previous[j] + 1
                best = max(best, current[j + 1])
        previous = current
    return best

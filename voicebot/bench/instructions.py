"""What people say to a voice assistant besides questions of fact, each with a judged rule.

A reply is judged on what the voice says (the spoken text, within the spoken-length
budget). Each rule is a few checks in code, written so that it can fail: a joke must be
short, speakable and not a refusal or a question back; "Stop." and "Never mind." allow a few
words and no question; "Say that again." must repeat most content words of the previous
reply. A check returns why the reply fails ('' when it passes), so the report can say it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from voicebot.bench.speakable import unspeakable

Judge = Callable[[str, str], str]
"""(spoken reply, previous assistant reply or '') -> why it fails, '' when it passes."""

REFUSAL = re.compile(r"\b(?:i can(?:no|')?t|i(?: am|'m) (?:not able|unable|not sure)|"
                     r"i do(?: not|n't) (?:know|have)|sorry)\b", re.IGNORECASE)
NO_VOICE = re.compile(r"\b(?:text[- ]based|can(?:no|')?t (?:speak|talk|change my|control)|"
                      r"do(?: not|n't) have a (?:voice|mouth))\b", re.IGNORECASE)
STOPWORDS = frozenset(("a", "an", "the", "is", "are", "was", "were", "be", "of", "to", "in", "on",
                       "at", "for", "and", "or", "but", "it", "its", "it's", "this", "that",
                       "with", "as", "by", "from", "about", "i", "you", "me", "my", "your", "we",
                       "our", "so", "do", "does", "did", "just", "very"))


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def too_long(limit: int) -> Judge:
    return lambda reply, _: (f"{len(reply.split())} words (at most {limit})"
                             if len(reply.split()) > limit else "")


def too_short(least: int) -> Judge:
    return lambda reply, _: (f"{len(reply.split())} words (at least {least})"
                             if len(reply.split()) < least else "")


def lacks(pattern: str, what: str) -> Judge:
    found = re.compile(pattern, re.IGNORECASE)
    return lambda reply, _: "" if found.search(reply) else f"no {what}"


def says(pattern: re.Pattern[str], what: str) -> Judge:
    return lambda reply, _: what if pattern.search(reply) else ""


def not_speakable(reply: str, _: str) -> str:
    why = unspeakable(reply)
    return f"unspeakable ({why})" if why else ""


def asks(reply: str, _: str) -> str:
    return "asks a question" if "?" in reply else ""


def only_asks_back(reply: str, _: str) -> str:
    """A reply whose every sentence is a question answers nothing ("What kind of joke?");
    a riddle joke ("Why ...? Because ...") has a statement after its question."""
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", reply.strip()) if s]
    return "only asks back" if sentences and all(s.endswith("?") for s in sentences) else ""


def empty(reply: str, _: str) -> str:
    return "says nothing" if not reply.strip() else ""


def restates(share: float) -> Judge:
    """At least `share` of the previous reply's content words are said again."""
    def judge(reply: str, previous: str) -> str:
        wanted = {w for w in words(previous) if w not in STOPWORDS}
        said = wanted & set(words(reply))
        if wanted and len(said) < share * len(wanted):
            return f"repeats {len(said)} of {len(wanted)} content words of the previous reply"
        return ""
    return judge


def all_of(*checks: Judge) -> Judge:
    """The first failing check's reason, '' when all pass."""
    return lambda reply, previous: next(
        (why for check in checks if (why := check(reply, previous))), "")


GREETING = r"\b(?:hello|hi|hey|greetings|good (?:morning|afternoon|evening)|welcome)\b"
AGREES = (r"\b(?:(?<!not )(?<!make )sure|of course|certainly|absolutely|okay|ok|yes|alright|"
          r"all right|no problem|i will|i'll|will do|happy to|i can (?:do|try|slow))\b")
THANKS_BACK = (r"\b(?:welcome|glad|pleasure|any ?time|no problem|happy to help|no worries|"
               r"of course|sure thing)\b")
HOW_I_AM = r"\b(?:good|well|great|fine|doing|thanks|thank you|ready|happy)\b"
ABILITIES = r"\b(?:i can|help|answer|assist)\w*"


@dataclass(frozen=True)
class Instruction:
    prompt: str
    rule: str
    """What a good reply does, in words, for the report."""
    judge: Judge
    previous: tuple[str, str] | None = None
    """An earlier exchange (user, assistant) the prompt refers to, scripted so every model
    is judged against the same previous reply."""


_BRIEF = all_of(too_long(8), asks)
_PREVIOUS = ("How far away is the moon?",
             "The moon is about 384,000 kilometers away from Earth.")

INSTRUCTIONS: tuple[Instruction, ...] = (
    Instruction("Tell me a joke.", "a joke: speakable, 6 to 40 words, no refusal, not "
                "just a question back",
                all_of(not_speakable, too_short(6), too_long(40), says(REFUSAL, "refuses"),
                       only_asks_back)),
    Instruction("Say that again.", "repeats at least 60% of the previous reply's content words",
                all_of(empty, too_long(40), restates(0.6)), previous=_PREVIOUS),
    Instruction("Stop.", "at most 8 words, no question, nothing new", _BRIEF),
    Instruction("Never mind.", "at most 8 words, no question, nothing new", _BRIEF),
    Instruction("Thank you.", "at most 15 words, a reply to thanks (you're welcome...)",
                all_of(empty, too_long(15), lacks(THANKS_BACK, "reply to thanks"))),
    Instruction("Can you speak more slowly?", "at most 25 words, agrees, does not claim to "
                "have no voice", all_of(empty, not_speakable, too_long(25),
                                        says(NO_VOICE, "claims it has no voice"),
                                        lacks(AGREES, "agreement"))),
    Instruction("What can you do?", "at most 40 words, speakable, says what it can help with",
                all_of(empty, not_speakable, too_long(40), lacks(ABILITIES, "abilities"))),
    Instruction("Hello!", "at most 15 words, a greeting",
                all_of(empty, not_speakable, too_long(15), lacks(GREETING, "greeting"))),
    Instruction("Tell me something interesting.", "6 to 40 words, speakable, no refusal, "
                "not just a question back",
                all_of(not_speakable, too_short(6), too_long(40), says(REFUSAL, "refuses"),
                       only_asks_back)),
    Instruction("How are you?", "at most 20 words, speakable, says how it is or thanks",
                all_of(empty, not_speakable, too_long(20), lacks(HOW_I_AM, "answer"))),
)

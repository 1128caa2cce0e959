"""A cheap second opinion on the transcript: a turn that ends on a word that cannot end an
English sentence (an article, a preposition, a conjunction, an auxiliary verb) is not finished,
whatever the audio says; one that ends with a question mark is finished (no model call)."""

from __future__ import annotations

import re

UNFINISHED_ENDINGS = frozenset({
    # articles and determiners that need a noun ("that", "this", "his", "some" can end one)
    "a", "an", "the", "my", "your", "its", "our", "their", "every",
    # prepositions that rarely end a sentence ("in", "on", "about", "over" often do)
    "of", "to", "for", "from", "with", "at", "by", "into", "onto", "between", "during",
    "without", "than", "via", "per",
    # conjunctions
    "and", "or", "but", "nor", "because", "if", "when", "while", "although", "though",
    "unless", "whether",
    # auxiliaries and modals ("Yes, it is." ends on one, rarely in a question to an assistant)
    "is", "are", "was", "were", "be", "been", "am", "do", "does", "did", "have", "has", "had",
    "will", "would", "shall", "should", "can", "could", "may", "might", "must",
    # subjects waiting for their verb ("you", "it" often end a sentence: not listed)
    "i", "he", "she", "we", "they", "it's", "i'm", "you're", "we're", "they're", "there's",
    "let's",
})


def ends_question(text: str) -> bool:
    """Whisper closed the transcript with a question mark: a finished question (it writes one
    only when the intonation and the words make a question)."""
    return text.rstrip().endswith("?")


def ends_unfinished(text: str) -> bool:
    """True when the last word of `text` (punctuation aside) cannot end a sentence. A final
    '?' or '!' means Whisper heard an ending; a final '.' does not (Whisper closes a
    transcript that stops at a pause with one: "I went to the.")."""
    stripped = text.strip()
    if not stripped or stripped[-1] in "?!":
        return False
    words = re.findall(r"[a-z']+", stripped.lower())
    return bool(words) and words[-1] in UNFINISHED_ENDINGS

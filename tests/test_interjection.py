"""What the user's voice over a reply was (turn/interjection.py)."""

from __future__ import annotations

import pytest

from voicebot.turn.interjection import asks_to_stop, classify, words_of

REPLY = "The capital of France is Paris. It is known for the Eiffel Tower."


@pytest.mark.parametrize("text", ["Mm-hm.", "yeah", "Okay.", "uh huh", "Right, right.",
                                  "I see."])
def test_backchannels_do_not_take_the_floor(text: str) -> None:
    assert classify(text, REPLY, echo_possible=True) == "backchannel"


@pytest.mark.parametrize("text", ["Okay Thank you.", "Okay? Okay? Thank you.", "Mm-hm. Bye.",
                                  "Yeah, thanks."])
def test_whispers_stock_closing_after_a_backchannel_is_still_a_backchannel(text: str) -> None:
    # tiny.en writes "Thank you." on the silence after a lone "Okay." (live, 3 of 6 runs)
    assert classify(text, REPLY, echo_possible=True) == "backchannel"


@pytest.mark.parametrize("text", ["Thank you.", "Okay, thank you, but why?",
                                  "Stop, thank you.", "Thanks for the story."])
def test_a_closing_alone_or_with_other_words_takes_the_floor(text: str) -> None:
    assert classify(text, REPLY, echo_possible=True) == "words"


@pytest.mark.parametrize("text", ["", "  ", "...", "-"])
def test_no_words_is_nothing(text: str) -> None:
    assert classify(text, REPLY, echo_possible=True) == "nothing"


@pytest.mark.parametrize("text", ["Stop.", "Wait, what about Spain?", "Yeah, but why?",
                                  "No.", "Tell me more about the tower please."])
def test_real_words_take_the_floor(text: str) -> None:
    assert classify(text, REPLY, echo_possible=True) == "words"


def test_the_bots_own_words_are_echo_only_where_its_voice_can_reach_the_microphone() -> None:
    assert classify("capital of France is Paris", REPLY, echo_possible=True) == "echo"
    assert classify("known for the tower", REPLY, echo_possible=True) == "echo"
    assert classify("capital of France is Paris", REPLY, echo_possible=False) == "words"
    # the reply's words out of order, or mostly new ones, are the user's
    assert classify("Paris is the capital", REPLY, echo_possible=True) == "words"
    assert classify("what about the capital of Spain", REPLY, echo_possible=True) == "words"


def test_words_are_lower_case_without_punctuation() -> None:
    assert words_of("Mm-hm. Don't STOP!") == ["mm-hm", "don't", "stop"]


def test_stop_requests_are_told_from_more_of_a_question() -> None:
    for text in ("Stop.", "Wait, stop please.", "Never mind.", "Hold on.", "OK, enough."):
        assert asks_to_stop(text), text
    for text in ("And what about Spain?", "in the morning", "Mm-hm."):
        assert not asks_to_stop(text), text

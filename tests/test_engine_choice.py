"""Which llama.cpp engine takes a request under `n_threads: adaptive` (llm/engine_choice.py)."""

from __future__ import annotations

import pytest

from voicebot.events import ChatMessage
from voicebot.llm.engine_choice import STALE_CHARS, choose_threads, missing_chars

SYSTEM = ChatMessage("system", "You are a helpful voice assistant.")
ASK = ChatMessage("user", "What is the capital of France?")
ANSWER = ChatMessage("assistant", "The capital of France is Paris.")
MORE = ChatMessage("user", "And of Spain?")


def test_missing_is_what_follows_the_shared_messages() -> None:
    assert missing_chars([SYSTEM, ASK], [SYSTEM, ASK]) == 0
    assert missing_chars([SYSTEM, ASK], [SYSTEM, ASK, ANSWER, MORE]) == \
        len(ANSWER.content) + len(MORE.content)
    assert missing_chars([], [SYSTEM, ASK]) == len(SYSTEM.content) + len(ASK.content)


def test_a_prefill_of_the_words_so_far_counts_as_their_shared_start() -> None:
    heard_so_far = ChatMessage("user", "What is the cap")
    assert missing_chars([SYSTEM, heard_so_far], [SYSTEM, ASK]) == \
        len(ASK.content) - len(heard_so_far.content)


def test_an_older_history_shares_only_its_start() -> None:
    dropped = [SYSTEM, MORE, ANSWER]  # what followed the system prompt was different
    assert missing_chars(dropped, [SYSTEM, ASK, ANSWER]) == \
        len(ASK.content) + len(ANSWER.content)


@pytest.mark.parametrize(("others", "narrow_missing", "threads"), [
    (0.1, 0, 4),  # idle: the wide engine
    (1.0, 20, 2),  # busy, both current: the narrow one
    (None, 20, 2),  # load not known yet: as busy
    (1.0, 20 + STALE_CHARS, 2),  # just within the allowance
    (1.0, 21 + STALE_CHARS, 4),  # far behind: the wide one, slowed, has less to do
])
def test_choice(others: float | None, narrow_missing: int, threads: int) -> None:
    assert choose_threads({2: narrow_missing, 4: 20}, others) == threads


def test_a_prefill_brings_the_narrow_engine_up_to_date_however_far_behind() -> None:
    import math

    assert choose_threads({2: 100_000, 4: 20}, 1.0, allowance=math.inf) == 2
    assert choose_threads({2: 100_000, 4: 20}, 0.1, allowance=math.inf) == 4  # idle: wide


def test_a_reply_does_not_wait_behind_the_narrow_engines_catch_up() -> None:
    assert choose_threads({2: 0, 4: 20}, 1.0, prefilling={2}) == 4
    assert choose_threads({2: 0, 4: 20}, 1.0, prefilling={2, 4}) == 2  # both busy: as ever


def test_after_old_turns_are_dropped_the_turns_that_moved_up_are_reused_by_a_shift() -> None:
    first = [ChatMessage("user", "Hello there."), ChatMessage("assistant", "Hi!")]
    kept = [ASK, ANSWER, MORE]
    evaluated = [SYSTEM, *first, *kept]
    trimmed = [SYSTEM, *kept, ChatMessage("assistant", "Madrid."), ASK]
    new = len("Madrid.") + len(ASK.content)
    assert missing_chars(evaluated, trimmed, shift=True) == new
    # without the shift everything after the system prompt is evaluated again
    assert missing_chars(evaluated, trimmed) == new + sum(len(m.content) for m in kept)
    # an engine that never saw the kept turns still has them all to evaluate
    assert missing_chars([SYSTEM, *first], trimmed, shift=True) == \
        missing_chars([SYSTEM, *first], trimmed)


def test_a_trim_on_a_busy_machine_goes_to_the_engine_that_can_shift() -> None:
    first = [ChatMessage("user", "Hello there."), ChatMessage("assistant", "Hi!")]
    kept = [ASK, ANSWER, MORE, ChatMessage("assistant", "Madrid.")]
    trimmed = [SYSTEM, *kept, ChatMessage("user", "And of Italy?")]
    wide = missing_chars([SYSTEM, *first, *kept], trimmed, shift=True)
    narrow = missing_chars([SYSTEM], trimmed, shift=True)  # last used at the warm-up
    assert choose_threads({2: narrow, 4: wide}, others_cores=1.0, allowance=10) == 4

"""ChatHistory: trimming oldest turn first, never the system prompt or the newest question."""

from __future__ import annotations

import pytest

from voicebot.config import ConversationConfig
from voicebot.events import ChatMessage
from voicebot.llm.history import MESSAGE_OVERHEAD, ChatHistory


def words(text: str) -> int:
    return len(text.split())


def history(budget: int = 1000, system: str = "be brief") -> ChatHistory:
    # keep_fraction=1: trim to exactly what fits (block trimming: tests/reliability)
    return ChatHistory(system, budget, words, keep_fraction=1.0)


def cost(text: str) -> int:
    return words(text) + MESSAGE_OVERHEAD


def test_messages_in_order_with_system_first() -> None:
    h = history()
    h.add_user("hello there")
    h.add_assistant("hi, how can I help")
    h.add_user("what time is it")
    assert h.messages() == [
        ChatMessage("system", "be brief"),
        ChatMessage("user", "hello there"),
        ChatMessage("assistant", "hi, how can I help"),
        ChatMessage("user", "what time is it"),
    ]


def test_trims_oldest_turns_first_to_fit_budget() -> None:
    h_all = history()
    turns = [("one one one", "a a a"), ("two two two", "b b b"), ("three three", "c c c")]
    for user, reply in turns:
        h_all.add_user(user)
        h_all.add_assistant(reply)
    h_all.add_user("newest question")
    # room for system + newest + exactly the last full turn
    budget = cost("be brief") + cost("newest question") + cost("three three") + cost("c c c")
    h = history(budget)
    for user, reply in turns:
        h.add_user(user)
        h.add_assistant(reply)
    h.add_user("newest question")
    contents = [m.content for m in h.messages()]
    assert contents == ["be brief", "three three", "c c c", "newest question"]
    assert h.token_count() <= budget
    # one token less: that turn goes too
    h.budget_tokens = budget - 1
    assert [m.content for m in h.messages()] == ["be brief", "newest question"]


def test_never_drops_system_or_newest_user_even_over_budget() -> None:
    h = history(budget=3)
    h.add_user("first question here")
    h.add_assistant("first answer")
    h.add_user("a very long newest question that is far over the budget")
    messages = h.messages()
    assert messages[0] == ChatMessage("system", "be brief")
    assert messages[-1].content.startswith("a very long newest")
    assert len(messages) == 2


def test_whole_turns_are_dropped_never_half() -> None:
    h = history(budget=cost("be brief") + cost("q2") + cost("q1") + 1)
    h.add_user("q1")
    h.add_assistant("a long answer that does not fit in the budget at all")
    h.add_user("q2")
    roles = [m.role for m in h.messages()]
    assert roles == ["system", "user"]


def test_interrupted_reply_is_kept_as_spoken() -> None:
    h = history()
    h.add_user("tell me a story")
    h.add_assistant("Once upon a time there", interrupted=True)
    h.add_user("stop, what is two plus two")
    messages = h.messages()
    assert messages[2] == ChatMessage("assistant", "Once upon a time there")
    assert h.interrupted_replies() == 1


def test_unanswered_user_turn_is_merged_to_keep_roles_alternating() -> None:
    h = history()
    h.add_user("first")
    h.add_assistant("", interrupted=True)  # cut before any word was spoken
    h.add_user("second")
    assert [(m.role, m.content) for m in h.messages()] == [
        ("system", "be brief"), ("user", "first\nsecond")]


def test_empty_user_text_and_orphan_reply_are_ignored() -> None:
    h = history()
    h.add_user("   ")
    h.add_assistant("nobody asked")
    assert h.messages() == [ChatMessage("system", "be brief")]
    assert len(h) == 0


def test_counts_each_message_once() -> None:
    calls: list[str] = []

    def counting(text: str) -> int:
        calls.append(text)
        return len(text)

    h = ChatHistory("sys", 100, counting)
    h.add_user("hello")
    for _ in range(3):
        h.messages()
    assert calls == ["sys", "hello"]


def test_budget_must_be_positive() -> None:
    with pytest.raises(ValueError):
        ChatHistory("sys", 0, words)


def test_default_system_prompt_asks_for_spoken_style() -> None:
    prompt = ConversationConfig().system_prompt.lower()
    assert "short" in prompt and "markdown" in prompt and "lists" in prompt


def test_messages_with_user_is_what_add_user_would_make_without_adding_it() -> None:
    h = history()
    h.add_user("hello")
    h.add_assistant("hi")
    assert h.messages_with_user(" what time ") == [*h.messages(), ChatMessage("user", "what time")]
    h.add_user("wait")  # a part of the turn said before a pause: the next part merges
    merged = h.messages_with_user("what time is it")
    h.add_user("what time is it")
    assert merged == h.messages() and merged[-1] == ChatMessage("user", "wait\nwhat time is it")

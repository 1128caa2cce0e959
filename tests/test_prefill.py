"""The prompt prefiller (llm/prefill.py): newest offer wins, cancel drops, errors turn it off."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from voicebot.events import ChatMessage
from voicebot.llm.prefill import Prefiller


def user(text: str) -> list[ChatMessage]:
    return [ChatMessage("system", "s"), ChatMessage("user", text)]


class GatedBackend:
    """prefill() blocks until the test opens the gate, so offers pile up meanwhile."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.started = threading.Event()
        self.seen: list[str] = []

    def prefill(self, messages: Sequence[ChatMessage]) -> None:
        self.started.set()
        assert self.gate.wait(5.0)
        self.seen.append(messages[-1].content)


def test_offers_made_while_busy_collapse_to_the_newest() -> None:
    backend = GatedBackend()
    prefiller = Prefiller(backend.prefill, on_error=lambda exc: None)
    prefiller.offer(user("what"))
    assert backend.started.wait(5.0)
    for text in ("what is", "what is the", "what is the capital"):
        prefiller.offer(user(text))
    backend.gate.set()
    deadline = time.monotonic() + 5.0
    while len(backend.seen) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    prefiller.close()
    assert backend.seen == ["what", "what is the capital"]


def test_cancel_drops_the_waiting_offer_and_close_stops_the_thread() -> None:
    backend = GatedBackend()
    prefiller = Prefiller(backend.prefill, on_error=lambda exc: None)
    prefiller.offer(user("one"))
    assert backend.started.wait(5.0)
    prefiller.offer(user("one two"))
    prefiller.cancel()  # a reply starts: "one two" must not hold it up
    backend.gate.set()
    prefiller.close()
    assert backend.seen == ["one"]
    assert prefiller._thread is not None and not prefiller._thread.is_alive()


def test_the_same_prompt_twice_is_evaluated_once_unless_a_reply_came_between() -> None:
    seen: list[str] = []
    prefiller = Prefiller(lambda m: seen.append(m[-1].content), lambda exc: None,
                          threaded=False)
    prefiller.offer(user("hello"))
    prefiller.offer(user("hello"))
    assert seen == ["hello"]
    prefiller.cancel()  # the reply replaced the cache's prompt
    prefiller.offer(user("hello"))
    assert seen == ["hello", "hello"]


def test_an_error_is_reported_once_and_turns_prefill_off() -> None:
    errors: list[BaseException] = []
    calls: list[str] = []

    def failing(messages: Sequence[ChatMessage]) -> None:
        calls.append(messages[-1].content)
        raise RuntimeError("engine gone")

    prefiller = Prefiller(failing, errors.append, threaded=False)
    prefiller.offer(user("a"))
    prefiller.offer(user("a b"))
    assert calls == ["a"] and [str(e) for e in errors] == ["engine gone"]

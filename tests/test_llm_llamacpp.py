"""llama.cpp backend with the real built-in model (SmolLM2-135M): replies, cancellation,
no thread left behind, tokenizer, warm-up."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from voicebot.config import SPOKEN_SYSTEM_PROMPT
from voicebot.errors import ModelNotFoundError
from voicebot.events import ChatMessage
from voicebot.llm.llamacpp import LlamaCppLlm, LlamaCppParams
from voicebot.testing.fakes import leftover_threads

pytestmark = pytest.mark.slow

STORY = [ChatMessage("system", "You tell long stories."),
         ChatMessage("user", "Tell me a very long story about a dragon and a knight.")]


@pytest.fixture(scope="module")
def llm() -> Iterator[LlamaCppLlm]:
    backend = LlamaCppLlm(LlamaCppParams(max_tokens=60))
    yield backend
    backend.close()


def test_capital_of_france_mentions_paris(llm: LlamaCppLlm) -> None:
    llm.warmup()
    messages = [ChatMessage("system", SPOKEN_SYSTEM_PROMPT),
                ChatMessage("user", "What is the capital of France?")]
    deltas = list(llm.stream(messages, cancel=threading.Event()))
    assert len(deltas) > 1, "the reply should arrive as several deltas"
    assert "paris" in "".join(deltas).lower()
    assert leftover_threads() == []


def test_cancel_stops_generation_and_leaves_no_thread(llm: LlamaCppLlm) -> None:
    before = threading.active_count()
    cancel = threading.Event()
    received = []
    for delta in llm.stream(STORY, cancel=cancel):
        received.append(delta)
        if len(received) == 3:
            cancel.set()
    assert len(received) == 3, "nothing may be yielded after cancel"
    assert leftover_threads() == []
    assert threading.active_count() == before
    # the engine is free again: the next request completes normally
    again = list(llm.stream([ChatMessage("user", "Say hello.")], cancel=threading.Event()))
    assert "".join(again).strip()


def test_closing_the_generator_stops_it(llm: LlamaCppLlm) -> None:
    stream = llm.stream(STORY, cancel=threading.Event())
    first = next(stream)
    assert isinstance(first, str) and first
    stream.close()
    assert leftover_threads() == []


def test_cancel_before_start_yields_nothing(llm: LlamaCppLlm) -> None:
    cancel = threading.Event()
    cancel.set()
    assert list(llm.stream(STORY, cancel=cancel)) == []
    assert leftover_threads() == []


def test_max_tokens_bounds_the_reply(llm: LlamaCppLlm) -> None:
    text = "".join(llm.stream(STORY, cancel=threading.Event()))
    assert 0 < llm.count_tokens(text) <= 60 + 2


def test_count_tokens_uses_the_model_tokenizer(llm: LlamaCppLlm) -> None:
    assert llm.count_tokens("Hello world, how are you?") == 7  # SmolLM2's BPE
    assert llm.count_tokens("") == 0


def test_missing_model_path_is_model_not_found(tmp_path: object) -> None:
    with pytest.raises(ModelNotFoundError, match=r"no-such\.gguf"):
        LlamaCppLlm(LlamaCppParams(model=f"{tmp_path}/no-such.gguf"))


def test_prefill_leaves_the_question_so_far_in_the_prompt_cache(llm: LlamaCppLlm) -> None:
    system = ChatMessage("system", SPOKEN_SYSTEM_PROMPT)
    elsewhere = [ChatMessage("system", "Something else."), ChatMessage("user", "Hi.")]

    def cached_tokens(question: str) -> int:
        """Tokens of the prompt the engine found cached (its slot, or its RAM prompt cache)."""
        request = llm.request([system, ChatMessage("user", question)], max_tokens=1)
        result = llm._server.handle_chat_completions(request)
        return int(result["usage"]["prompt_tokens_details"]["cached_tokens"])

    llm.prefill(elsewhere)
    cold = cached_tokens("Name a large spider.")  # only the system prompt was seen before
    llm.prefill(elsewhere)
    llm.prefill([system, ChatMessage("user", "What colour is a")])  # the user still speaking
    warm = cached_tokens("What colour is a ripe banana?")
    said_so_far = llm.count_tokens("What colour is a")
    assert warm - cold >= said_so_far - 1, (cold, warm, said_so_far)


def test_prefill_leaves_the_last_message_open(llm: LlamaCppLlm) -> None:
    """The prefilled prompt ends right after the user's words, before the template closes
    the message: the next prefill (more words) evaluates only the new words."""
    system = ChatMessage("system", SPOKEN_SYSTEM_PROMPT)
    prompt = llm._open_prompt([system, ChatMessage("user", "What colour is a")])
    assert prompt is not None and prompt.endswith("What colour is a")
    assert SPOKEN_SYSTEM_PROMPT in prompt
    closed = llm._post("/apply-template", {"messages": [
        {"role": "system", "content": SPOKEN_SYSTEM_PROMPT},
        {"role": "user", "content": "What colour is a"}]})["prompt"]
    assert closed.startswith(prompt) and len(closed) > len(prompt)


def test_adaptive_threads_load_a_narrow_and_a_wide_engine_that_both_answer() -> None:
    from voicebot.threads import usable_cores

    cores = usable_cores()
    backend = LlamaCppLlm(LlamaCppParams(n_threads="adaptive", max_tokens=8))
    try:
        assert sorted(backend._engines) == sorted({max(1, cores // 2), cores})
        messages = [ChatMessage("system", SPOKEN_SYSTEM_PROMPT),
                    ChatMessage("user", "What is the capital of France?")]
        for threads, engine in backend._engines.items():  # each engine on its own
            reply = "".join(engine_stream(backend, engine, messages))
            assert reply.strip(), f"the {threads}-thread engine said nothing"
    finally:
        backend.close()


def engine_stream(backend: LlamaCppLlm, engine: object, messages: list[ChatMessage]) -> list[str]:
    """A reply from one given engine (the load meter would pick one by the machine's load)."""
    backend._engine = lambda _messages: engine  # type: ignore[method-assign]
    return list(backend.stream(messages, cancel=threading.Event()))


def test_a_paused_reply_goes_on_as_if_it_had_never_stopped() -> None:
    """Greedy decoding: the reply paused after a few words (generation stops, the engine is
    idle) and continued by a second request is word for word the reply never paused. A
    continuation that started a new message, or lost or repeated the text before the pause,
    would differ."""
    backend = LlamaCppLlm(LlamaCppParams(temperature=0.0, max_tokens=30))
    try:
        messages = [ChatMessage("system", SPOKEN_SYSTEM_PROMPT),
                    ChatMessage("user", "Why is the sky blue?")]
        whole = "".join(backend.stream(messages, cancel=threading.Event()))
        stream = backend.stream(messages, cancel=threading.Event())
        head = [next(stream) for _ in range(4)]
        stream.pause()
        time.sleep(0.3)  # ~10 tokens' time: an engine that went on would fill the queue
        assert stream._items.qsize() <= 3, "generation went on during the pause"
        rest = list(stream)
        assert stream._count == 2  # the continuation was a request of its own
        assert "".join(head + rest) == whole
        assert leftover_threads() == []
    finally:
        backend.close()


def long_history(turns: int) -> list[ChatMessage]:
    history = [ChatMessage("system", "You are a helpful voice assistant. Answer briefly.")]
    for i in range(turns):
        history += [ChatMessage("user", f"Question {i}: what is the capital of country {i}?"),
                    ChatMessage("assistant", f"The capital of country {i} is City {i}.")]
    return [*history, ChatMessage("user", "And the last one?")]


GROWTH_PROBE = """
import sys
from voicebot.bench.memory import rss_mb
from voicebot.llm.llamacpp import LlamaCppLlm, LlamaCppParams
from tests.test_llm_llamacpp import long_history
backend = LlamaCppLlm(LlamaCppParams(n_ubatch=int(sys.argv[1]), n_threads=1))
backend.warmup()
before = rss_mb()
backend._evaluate(backend._server, long_history(16))  # ~600 tokens
print(rss_mb() - before)
"""


def growth_after_a_long_prompt(n_ubatch: int) -> float:
    """RSS growth (MB) in a fresh process: in this one, memory freed by earlier tests is
    handed out again already resident, and hides the growth."""
    import subprocess
    import sys
    from pathlib import Path

    done = subprocess.run([sys.executable, "-c", GROWTH_PROBE, str(n_ubatch)],
                          capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).resolve().parents[1], check=True)
    return float(done.stdout.strip().splitlines()[-1])


def test_a_long_prompt_after_the_warm_up_makes_no_more_memory_resident() -> None:
    # llama.cpp's scratch memory for one evaluation step becomes resident only as a step
    # fills it: with 512-token steps the first long prompt, mid-session, added megabytes
    # (59 MB an engine with the default 1.5B model); with 64 the warm-up touched it all.
    grown = {n_ubatch: growth_after_a_long_prompt(n_ubatch) for n_ubatch in (512, 64)}
    assert grown[64] < 4.0, grown
    assert grown[512] > grown[64] + 4.0, grown  # the check can tell the two apart

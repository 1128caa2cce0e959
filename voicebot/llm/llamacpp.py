"""llama.cpp backend (registry name "llama.cpp") on the `xllamacpp` binding.

Why xllamacpp and not llama-cpp-python: llama-cpp-python ships only an sdist on PyPI for
this platform, and building it from source took 22 minutes on a 2-core machine; xllamacpp
is a prebuilt 34 MB abi3 wheel that installs in about a second and runs the same llama.cpp
code at the same speed. Its API is llama.cpp's own server engine, called in process:
`Server(CommonParams)` loads the model; `handle_chat_completions(request, callback)` applies
the chat template embedded in the GGUF and calls `callback(chunk)` for each OpenAI-style
stream chunk on the calling thread; the callback returning True stops generation (the
server then cancels the task).

Latency notes:
- `cache_prompt` (on by default) keeps the KV cache of the last prompt in the single slot,
  so a new turn only evaluates what is new after the shared prefix (system prompt and the
  previous turns): measured 34 prompt tokens -> 1 evaluated, TTFT 140 ms -> 12 ms.
- `warmup()` evaluates the system prompt once at load, so the first turn already hits it.

The engine also listens on a random loopback port (it cannot be turned off); an API key
generated per process guards it, and `count_tokens` uses its `/tokenize` route.
"""

from __future__ import annotations

import json
import math
import secrets
import threading
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from voicebot.cpuload import OtherLoad
from voicebot.errors import BackendError
from voicebot.events import ChatMessage
from voicebot.llm.base import warmup_messages
from voicebot.llm.engine_choice import STALE_CHARS, choose_threads, missing_chars
from voicebot.llm.llamacpp_params import LlamaCppParams
from voicebot.llm.llamacpp_stream import LlamaCppStream, chunk_error
from voicebot.llm.models import resolve_gguf
from voicebot.progress import say
from voicebot.threads import resolve_threads, usable_cores

TOKEN_CACHE_SIZE = 1024
OPEN_MARK = "\u2063voicebot-open\u2063"
"""Appended to the last message to find where its text ends in the rendered prompt."""


def _load_mode(xllamacpp: Any, load: str, model_path: Path) -> Any:
    """llama.cpp's load mode for the `load` parameter; mlock falls back to mmap, with a
    warning, where the memory-lock limit is smaller than the model."""
    modes = xllamacpp.llama_load_mode
    if load == "memory":
        return modes.LLAMA_LOAD_MODE_NONE
    if load == "mlock":
        import resource

        limit, _ = resource.getrlimit(resource.RLIMIT_MEMLOCK)
        size = model_path.stat().st_size
        if limit != resource.RLIM_INFINITY and limit < size:
            say(f"llm.load: mlock needs {size >> 20} MiB of locked memory but the limit "
                f"(ulimit -l) is {limit >> 20} MiB; using mmap (or set llm.load: memory)")
            return modes.LLAMA_LOAD_MODE_MMAP
        return modes.LLAMA_LOAD_MODE_MMAP_MLOCK
    return modes.LLAMA_LOAD_MODE_MMAP


class LlamaCppLlm:
    """Streams chat replies from a GGUF model with llama.cpp, in process."""

    Params = LlamaCppParams

    def __init__(self, params: LlamaCppParams) -> None:
        self.params = params
        self.model_path = resolve_gguf(params.model)
        self._api_key = secrets.token_hex(16)
        self._engines = {threads: self._load(threads) for threads in self._thread_counts()}
        self._server = next(iter(self._engines.values()))
        self._load_meter = OtherLoad() if len(self._engines) > 1 else None
        self._evaluated: dict[int, tuple[ChatMessage, ...]] = {}
        """What each engine's prompt cache last took in (see llm/engine_choice.py)."""
        self._choice_lock = threading.Lock()
        self._prefilling: set[int] = set()
        """Engines evaluating a prefill now (it cannot be stopped inside the evaluation)."""
        self.threads_used = min(self._engines)
        """The thread count of the engine that took the last request."""
        self._token_counts: dict[str, int] = {}

    def _thread_counts(self) -> list[int]:
        if self.params.n_threads != "adaptive":
            return [resolve_threads(self.params.n_threads)]
        narrow, wide = resolve_threads("auto"), usable_cores()
        return [narrow, wide] if wide > narrow else [narrow]

    def _engine(self, messages: Sequence[ChatMessage]) -> Any:
        """The engine for a reply to `messages` now (see `_choose`)."""
        return self._engines[self._choose(messages, prefill=False)]

    def _choose(self, messages: Sequence[ChatMessage], *, prefill: bool) -> int:
        """The thread count of the engine for a request of `messages` now: with
        `adaptive`, the wide one while the other processes leave its cores free, else the
        narrow one unless this is a reply and its prompt cache is far behind or busy with
        a prefill (llm/engine_choice.py). A prefill's engine is marked busy here, under
        the same lock; the prefill clears the mark when it is done."""
        with self._choice_lock:  # requests come from two threads (reply and prefill)
            threads = min(self._engines)
            if self._load_meter is not None:
                missing = {t: missing_chars(self._evaluated.get(t, ()), messages,
                                            shift=self.params.cache_reuse > 0)
                           for t in self._engines}
                allowance = math.inf if prefill else STALE_CHARS
                busy = set() if prefill else set(self._prefilling)
                threads = choose_threads(missing, self._load_meter.cores(), allowance, busy)
            self._evaluated[threads] = tuple(messages)
            if prefill:
                self._prefilling.add(threads)
            self.threads_used = threads  # a report only
            return threads

    def _load(self, threads: int) -> Any:
        import xllamacpp

        p = self.params
        cp = xllamacpp.CommonParams()
        cp.model.path = str(self.model_path)
        cp.n_ctx = p.n_ctx
        cp.n_ubatch = p.n_ubatch
        cp.n_parallel = 1  # one conversation: one slot, whose KV cache is the prompt cache
        cp.n_gpu_layers = p.n_gpu_layers
        cp.cpuparams.n_threads = threads
        cp.cpuparams_batch.n_threads = threads
        cp.cpuparams.poll = cp.cpuparams_batch.poll = p.poll
        cp.load_mode = _load_mode(xllamacpp, p.load, self.model_path)
        cp.n_threads_http = 1
        cp.cache_prompt = p.cache_prompt
        cp.cache_ram_mib = p.ram_cache_mib
        cp.n_cache_reuse = p.cache_reuse
        cp.verbosity = 1  # errors only; the default prints every slot event
        cp.api_keys = [self._api_key]
        cp.sampling.seed = p.seed
        try:
            return xllamacpp.Server(cp)
        except RuntimeError as exc:
            from voicebot.assets import explain_damage

            hint = explain_damage(self.model_path) or "is it a GGUF model file?"
            raise BackendError(
                f"llama.cpp could not load {self.model_path}: {hint} ({exc})"
            ) from None

    def request(self, messages: Sequence[ChatMessage], max_tokens: int | None = None) -> dict:
        """The chat completion request (OpenAI fields plus llama.cpp's own)."""
        return {
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            **self._sampling(max_tokens),
        }

    def _sampling(self, max_tokens: int | None = None) -> dict:
        p = self.params
        return {
            "max_tokens": max_tokens or p.max_tokens,
            "temperature": p.temperature,
            "top_p": p.top_p,
            "top_k": p.top_k,
            "repeat_penalty": p.repeat_penalty,
            "seed": p.seed,
            "cache_prompt": p.cache_prompt,
        }

    def stream(
        self, messages: Sequence[ChatMessage], *, cancel: threading.Event
    ) -> LlamaCppStream:
        """Yield text deltas (from a worker thread: the engine calls back on the thread that
        asked); cancel or close() stops it at the next token and joins it. The engine cannot
        be stopped inside a prompt evaluation: a cancel then waits for it to finish, which
        the prompt cache keeps to a few new tokens. The stream can pause for the TTS (see
        llamacpp_stream.py)."""
        return LlamaCppStream(self._engine(messages), {**self.request(messages), "stream": True},
                              cancel)

    def warmup(self, system_prompt: str | None = None) -> None:
        """Evaluate the system prompt once, so the first turn reuses its KV cache."""
        messages = warmup_messages(system_prompt)
        for threads, server in self._engines.items():
            self._evaluate(server, messages)
            self._evaluated[threads] = tuple(messages)

    def prefill(self, messages: Sequence[ChatMessage]) -> None:
        """Evaluate `messages` into the prompt cache (blocking; one token is generated and
        dropped): a request that shares their prefix evaluates only the rest. Nothing
        without the prompt cache.

        The last message is left open: the prompt ends right after its text, before the
        chat template closes it. A prefill runs again at every decode while the user
        speaks, and a closed message would make each one evaluate the template's tail
        (5 tokens for Qwen's `<|im_end|>\n<|im_start|>assistant\n`) after the new words,
        only to drop it at the next: with the 1.5B model on 2 cores every prompt token costs
        ~25 ms, so an open prefill of 2-3 new words took 65-95 ms where a closed one took
        170-380 ms. Where the template cannot be rendered, the closed form is used."""
        if not self.params.cache_prompt:
            return
        threads = self._choose(messages, prefill=True)  # marked busy until it is done
        engine = self._engines[threads]
        try:
            prompt = self._open_prompt(messages)
            if prompt is None:
                self._evaluate(engine, messages)
                return
            result = engine.handle_completions({**self._sampling(1), "prompt": prompt})
        finally:
            self._prefilling.discard(threads)
        if isinstance(result, dict) and chunk_error(result):
            raise BackendError(f"llama.cpp prompt evaluation failed: {chunk_error(result)}")

    def _open_prompt(self, messages: Sequence[ChatMessage]) -> str | None:
        """The chat template's rendering of `messages` cut right after the last message's
        text (found by rendering it with a marker appended), or None when the engine
        cannot render it."""
        if not messages:
            return None
        marked = [*messages[:-1], ChatMessage(messages[-1].role,
                                              messages[-1].content + OPEN_MARK)]
        body = {"messages": [{"role": m.role, "content": m.content} for m in marked]}
        try:
            rendered = self._post("/apply-template", body)["prompt"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        cut = rendered.find(OPEN_MARK) if isinstance(rendered, str) else -1
        return rendered[:cut] if cut > 0 else None

    def _evaluate(self, server: Any, messages: Sequence[ChatMessage]) -> None:
        result = server.handle_chat_completions(self.request(messages, max_tokens=1))
        if isinstance(result, dict) and chunk_error(result):
            raise BackendError(f"llama.cpp prompt evaluation failed: {chunk_error(result)}")

    def count_tokens(self, text: str) -> int:
        """Tokens of `text` with the model's own tokenizer (cached), else about len/4."""
        known = self._token_counts.get(text)
        if known is not None:
            return known
        try:
            count = len(self._post("/tokenize", {"content": text, "add_special": False})["tokens"])
        except (OSError, ValueError, KeyError, TypeError):
            return max(1, len(text) // 4)
        if len(self._token_counts) >= TOKEN_CACHE_SIZE:
            self._token_counts.clear()
        self._token_counts[text] = count
        return count

    def _post(self, route: str, body: dict) -> Any:
        request = urllib.request.Request(
            self._server.listening_address + route,
            data=json.dumps(body).encode("utf-8"),
            headers={"Content-Type": "application/json",
                     "Authorization": f"Bearer {self._api_key}"},
        )
        with urllib.request.urlopen(request, timeout=5.0) as response:
            return json.loads(response.read())

    def close(self) -> None:
        """Free the model now (otherwise when the object is collected)."""
        if self._load_meter is not None:
            self._load_meter.close()
        self._engines.clear()
        self._server = None


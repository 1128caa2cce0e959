"""Which llama.cpp settings make Qwen2.5-Coder-1.5B answer sooner on this CPU?

Each lever is one engine configuration, loaded alone and asked the same short factual
questions (system prompt cached, as after `warmup()`), one after another:
- ttft: request -> first token, the question not prefilled (its ~15 prompt tokens are read);
- after prefill: the question prefilled open (llm/llamacpp.py), then asked: what a turn
  costs when the talk loop's prefill kept up with the speech;
- 4th token: request -> 4th token (a 2-3-word first chunk), after the prefill;
- tok/s: generation rate over the reply.
Medians over the questions. Levers, as the issue lists them: speculative decoding with the
0.5B model as the draft (and the draft-free n-gram kind), the Q4_0 copy (repacked for the
CPU's matrix kernels) vs the packaged Q4_K_M, repacking off, prompt vs generation threads,
busy-wait polling, KV-cache type, context size.

    .venv/bin/python scripts/llm_levers.py [--questions 8] [--only NAME ...]

Run it on a quiet machine: each row is seconds of work, and a busy core changes everything.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from voicebot.bench.facts import FACTS
from voicebot.config import SPOKEN_SYSTEM_PROMPT
from voicebot.llm.models import resolve_gguf

Lever = dict[str, Any]
LEVERS: dict[str, Lever] = {
    "Q4_K_M as packaged, 2 threads": {},
    "Q4_0 copy (default)": {"model": "qwen2.5-1.5b-q4_0"},
    "Q4_K_M, repacking off": {"no_extra_bufts": True},
    "Q4_K_M + draft 0.5B, n_max 8, p_min 0.75": {"draft": 8},
    "Q4_K_M + draft 0.5B, n_max 4, p_min 0.5": {"draft": 4, "p_min": 0.5},
    "Q4_K_M + n-gram speculation": {"ngram": True},
    "Q4_0 + n-gram speculation": {"model": "qwen2.5-1.5b-q4_0", "ngram": True},
    "Q4_0, prompt 1 thread, generation 2": {"model": "qwen2.5-1.5b-q4_0", "batch_threads": 1},
    "Q4_0, 1 thread": {"model": "qwen2.5-1.5b-q4_0", "threads": 1},
    "Q4_0, no busy-wait (poll 0)": {"model": "qwen2.5-1.5b-q4_0", "poll": 0},
    "Q4_0, KV cache q8_0": {"model": "qwen2.5-1.5b-q4_0", "kv": "q8_0"},
    "Q4_0, context 4096": {"model": "qwen2.5-1.5b-q4_0", "n_ctx": 4096},
    "Q4_0, context 1024": {"model": "qwen2.5-1.5b-q4_0", "n_ctx": 1024},
}


def engine(lever: Lever) -> Any:
    import xllamacpp as x

    cp = x.CommonParams()
    cp.model.path = str(resolve_gguf(lever.get("model", "qwen2.5-1.5b")))
    cp.n_ctx = lever.get("n_ctx", 2048)
    cp.n_parallel = 1
    threads = lever.get("threads", 2)
    cp.cpuparams.n_threads = threads
    cp.cpuparams_batch.n_threads = lever.get("batch_threads", threads)
    if "poll" in lever:
        cp.cpuparams.poll = cp.cpuparams_batch.poll = lever["poll"]
    cp.load_mode = x.llama_load_mode.LLAMA_LOAD_MODE_NONE
    cp.n_threads_http = 1
    cp.cache_prompt = True
    cp.cache_ram_mib = 128
    cp.verbosity = 1
    cp.api_keys = [secrets.token_hex(8)]
    cp.no_extra_bufts = bool(lever.get("no_extra_bufts"))
    if "kv" in lever:
        kinds = {"q8_0": x.ggml_type.GGML_TYPE_Q8_0}
        cp.cache_type_k = cp.cache_type_v = kinds[lever["kv"]]
    _speculation(cp, lever, threads, x)
    return x.Server(cp)


def _speculation(cp: Any, lever: Lever, threads: int, x: Any) -> None:
    kinds = x.common_speculative_type
    if "draft" in lever:
        cp.speculative.types = [kinds.COMMON_SPECULATIVE_TYPE_DRAFT_SIMPLE]
        draft = cp.speculative.draft
        draft.mparams.path = str(resolve_gguf("qwen2.5-0.5b"))
        draft.n_max, draft.n_min = lever["draft"], 0
        draft.p_min = lever.get("p_min", 0.75)
        draft.cpuparams.n_threads = draft.cpuparams_batch.n_threads = threads
    elif lever.get("ngram"):
        cp.speculative.types = [kinds.COMMON_SPECULATIVE_TYPE_NGRAM_SIMPLE]


def messages(question: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": SPOKEN_SYSTEM_PROMPT},
            {"role": "user", "content": question}]


def ask(server: Any, question: str, max_tokens: int = 40) -> list[float]:
    """Seconds from the request to each streamed text delta."""
    arrivals: list[float] = []
    start = time.monotonic()

    def on_chunk(chunk: Any) -> bool:
        for choice in chunk.get("choices", []) if isinstance(chunk, dict) else []:
            if choice.get("delta", {}).get("content"):
                arrivals.append(time.monotonic() - start)
        return False

    request = {"messages": messages(question), "max_tokens": max_tokens, "temperature": 0.2,
               "top_p": 0.9, "top_k": 40, "repeat_penalty": 1.1, "seed": 0,
               "cache_prompt": True, "stream": True}
    server.handle_chat_completions(request, on_chunk)
    return arrivals or [float("nan")]


def prefill_open(server: Any, question: str) -> None:
    """The prompt up to the end of the question, left open (as llm/llamacpp.py does)."""
    prompt = (f"<|im_start|>system\n{SPOKEN_SYSTEM_PROMPT}<|im_end|>\n"
              f"<|im_start|>user\n{question}")
    server.handle_completions({"prompt": prompt, "max_tokens": 1, "cache_prompt": True})


def measure(lever: Lever, questions: list[str]) -> dict[str, float]:
    began = time.monotonic()
    server = engine(lever)
    load_s = time.monotonic() - began
    ask(server, "Hello.", 4)
    cold, warm, fourth, rate = [], [], [], []
    for question in questions:
        cold.append(ask(server, question)[0])
        ask(server, "Hello.", 1)  # another prompt in the cache
        prefill_open(server, question)
        arrivals = ask(server, question)
        warm.append(arrivals[0])
        fourth.append(arrivals[min(3, len(arrivals) - 1)])
        if len(arrivals) > 2:
            rate.append((len(arrivals) - 1) / (arrivals[-1] - arrivals[0]))
    med: Callable[[list[float]], float] = statistics.median
    return {"load_s": load_s, "ttft": med(cold), "warm": med(warm), "fourth": med(fourth),
            "tok_s": med(rate) if rate else float("nan")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=8)
    parser.add_argument("--only", nargs="*", help="lever names (default: all)")
    parser.add_argument("--reverse", action="store_true",
                        help="in reverse order (a second pass shows what the order did)")
    args = parser.parse_args()
    questions = [f.question for f in FACTS[: args.questions]]
    print("| lever | ttft (not prefilled) | ttft after prefill | 4th token after prefill "
          "| tokens/s | load |")
    print("|---|---:|---:|---:|---:|---:|")
    names = list(reversed(LEVERS)) if args.reverse else list(LEVERS)
    for name in names:
        lever = LEVERS[name]
        if args.only and name not in args.only:
            continue
        r = measure(lever, questions)
        print(f"| {name} | {r['ttft'] * 1000:.0f} ms | {r['warm'] * 1000:.0f} ms | "
              f"{r['fourth'] * 1000:.0f} ms | {r['tok_s']:.1f} | {r['load_s']:.1f} s |",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

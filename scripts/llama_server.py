"""Serve a GGUF model over llama.cpp's own OpenAI-compatible HTTP server (via xllamacpp).

For the `openai` LLM backend, and for its tests:

    .venv/bin/python scripts/llama_server.py --model smollm2-135m --port 8080

then point `llm.base_url` at http://127.0.0.1:8080/v1. The first line on stdout is the
address it listens on (useful with --port 0, a free port). Stops on SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from voicebot.llm.models import resolve_gguf
from voicebot.threads import Threads, resolve_threads


def _threads(text: str) -> Threads:
    if text == "auto":
        return "auto"
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number or auto, got {text!r}")
    return int(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m",
                        help="built-in name (smollm2-135m, qwen2.5-0.5b) or a .gguf path")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="0 = any free port")
    parser.add_argument("--n-ctx", type=int, default=2048, help="context per slot")
    parser.add_argument("--parallel", type=int, default=1,
                        help="slots: requests decoded at once, batched (one per conversation "
                        "of `voicebot serve`); each gets --n-ctx of context")
    parser.add_argument("--threads", default="auto", type=_threads,
                        help="a number, or auto (default): half the usable cores, as the "
                        "configs' `auto` (a stolen core stalls llama.cpp's threads)")
    parser.add_argument("--api-key", help="require this bearer token")
    args = parser.parse_args()

    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(resolve_gguf(args.model))
    params.hostnames = [args.host]
    params.port = args.port
    params.n_ctx = args.n_ctx * args.parallel  # llama.cpp splits the context between slots
    params.n_parallel = args.parallel
    threads = resolve_threads(args.threads)
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.verbosity = 1
    if args.api_key:
        params.api_keys = [args.api_key]
    server = xllamacpp.Server(params)
    print(server.listening_address, flush=True)

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass
    del server
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`llm.n_threads: adaptive` when another process turns busy mid-conversation: the engine
choice that ignores the narrow engine's stale prompt cache (`--rule load`, as before) against
the one that weighs it (`--rule cache`, llm/engine_choice.py), side by side in one run.

Each rule gets a fresh LLM from the config: IDLE typed turns on a quiet machine (the wide
engine takes them), then one busy process (a Python spin loop) for the remaining turns.
After each reply the conversation's turn-end prefill (the history, an empty user message
open) starts on its own thread, and the next question comes GAP seconds later, as a user
would ask it. Prints each turn's first-token time and the engine that took it.

    .venv/bin/python scripts/adaptive_engines.py --rule load --rule cache
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from typing import Any

QUESTIONS = ["What is the capital of France?", "How many legs does a spider have?",
             "Who wrote Romeo and Juliet?", "What is twelve plus fifteen?",
             "Why is the sky blue?", "What is the largest planet?", "How far is the moon?",
             "What do bees make?", "What is the boiling point of water?",
             "Who painted the Mona Lisa?", "What is the tallest mountain?",
             "How many days are in a leap year?", "What language is spoken in Brazil?"]


def load_only(missing: Mapping[int, int], others: float | None, allowance: float = 0,
              prefilling: Any = ()) -> int:
    """The choice before llm/engine_choice.py: by the load alone."""
    from voicebot.cpuload import IDLE_CORES

    return max(missing) if others is not None and others < IDLE_CORES else min(missing)


def run(rule: str, config: str, idle: int, gap: float) -> list[tuple[int, bool, int, float]]:
    import voicebot.llm.llamacpp as llamacpp
    from voicebot.config import load_config
    from voicebot.events import ChatMessage
    from voicebot.llm import engine_choice

    chooser = load_only if rule == "load" else engine_choice.choose_threads
    llamacpp.choose_threads = chooser  # type: ignore[assignment]
    cfg = load_config(config)
    llm = llamacpp.LlamaCppLlm(cfg.llm.params)
    llm.warmup(cfg.conversation.system_prompt)
    history = [ChatMessage("system", cfg.conversation.system_prompt)]
    busy: subprocess.Popen[bytes] | None = None
    prefill: threading.Thread | None = None
    rows = []
    time.sleep(3.5)  # the load meter's window: 3 s
    for index, question in enumerate(QUESTIONS, 1):
        if index == idle + 1:
            busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
            time.sleep(3.5)
        history.append(ChatMessage("user", question))
        started, first, text = time.monotonic(), None, ""
        for delta in llm.stream(history, cancel=threading.Event()):
            first = time.monotonic() - started if first is None else first
            text += delta
        rows.append((index, busy is not None, llm.threads_used, first or 0.0))
        print(f"{rule}: turn {index} {'busy' if busy else 'idle'}, engine "
              f"{llm.threads_used} threads, first token {(first or 0) * 1000:.0f} ms", flush=True)
        history.append(ChatMessage("assistant", text.strip()))
        if prefill is not None:
            prefill.join()
        open_turn = [*history, ChatMessage("user", "")]
        prefill = threading.Thread(target=llm.prefill, args=(open_turn,))
        prefill.start()
        time.sleep(gap)
    if prefill is not None:
        prefill.join()
    if busy is not None:
        busy.kill()
    llm.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rule", action="append", choices=("load", "cache"))
    parser.add_argument("--config", default="configs/default.yaml")
    parser.add_argument("--idle", type=int, default=8, help="quiet turns first (default 8)")
    parser.add_argument("--gap", type=float, default=3.0,
                        help="seconds from a reply to the next question (default 3)")
    args = parser.parse_args()
    results = {rule: run(rule, args.config, args.idle, args.gap)
               for rule in args.rule or ("load", "cache")}
    for rule, rows in results.items():
        busy = [first for _, is_busy, _, first in rows if is_busy]
        print(f"{rule}: busy-turn first tokens (ms) {[round(b * 1000) for b in busy]}, "
              f"median {statistics.median(busy) * 1000:.0f}, worst {max(busy) * 1000:.0f}")


if __name__ == "__main__":
    main()

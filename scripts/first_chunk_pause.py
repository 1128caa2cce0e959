"""The reply path's first chunk with and without the LLM pausing while it is synthesized.

    .venv/bin/python scripts/first_chunk_pause.py [--config configs/default.yaml] [--rounds 3]

For each question (prompt prefilled first, as in a turn) it runs `reply_events` once with the
pause and once without (alternating), and prints the medians of: the first chunk's text
ready, its synthesis, and its first audio, all from the request. Run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from pathlib import Path
from typing import Any

import voicebot.reply as reply
from voicebot.config import SPOKEN_SYSTEM_PROMPT, load_config
from voicebot.events import ChatMessage
from voicebot.loading import load_llm, load_tts

QUESTIONS = ["What is the capital of France?", "Why is the sky blue?",
             "Tell me a fun fact about octopuses.", "What should I cook for dinner tonight?",
             "How many legs does a spider have?", "Can you recommend a good book to read?",
             "He could wait no longer.", "Has never been surpassed."]


def first_chunk(llm: Any, tts: Any, cfg: Any, question: str) -> tuple[float, float]:
    """(first chunk's text ready, its first audio), seconds from the request."""
    messages = [ChatMessage("system", SPOKEN_SYSTEM_PROMPT), ChatMessage("user", question)]
    llm.prefill(messages)
    start = time.perf_counter()
    ready = None
    for event in reply.reply_events(llm, tts, cfg.text, messages, threading.Event()):
        if isinstance(event, reply.SentenceReady) and ready is None:
            ready = time.perf_counter() - start
        if isinstance(event, reply.AudioChunk):
            assert ready is not None
            return ready, time.perf_counter() - start
    raise RuntimeError(f"no audio for {question!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    cfg = load_config(args.config)
    llm, tts = load_llm(cfg), load_tts(cfg)
    llm.warmup()
    list(tts.synthesize("Warm up."))
    pausing = reply._pause
    results: dict[str, list[tuple[float, float]]] = {"paused": [], "generating": []}
    for _ in range(args.rounds):
        for question in QUESTIONS:
            for name, pause in (("paused", pausing), ("generating", lambda tokens: None)):
                reply._pause = pause
                results[name].append(first_chunk(llm, tts, cfg, question))
    reply._pause = pausing
    for name, runs in results.items():
        text = statistics.median(r[0] for r in runs)
        synth = statistics.median(r[1] - r[0] for r in runs)
        audio = statistics.median(r[1] for r in runs)
        print(f"LLM {name:10s}: chunk text {text:.3f} s, its synthesis {synth:.3f} s, "
              f"first audio {audio:.3f} s (medians of {len(runs)})")


if __name__ == "__main__":
    main()

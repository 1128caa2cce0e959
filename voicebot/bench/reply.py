"""`voicebot bench reply`: how fast the reply side is, per backend and model.

LLM (one short spoken-style conversation per backend, the history growing turn by turn as
in `voicebot talk`): time to first token, decode tokens/s, and the time from the first
token to the first speakable chunk (sentence splitter with the early first cut, and
without it: the first full sentence). The llama.cpp prompt cache is measured on and off.
TTS: time to first audio and real-time factor per backend. Medians over the turns.

Everything runs in this process, one backend at a time, on the same machine: the figures
compare backends; their absolute values move 2-9x with the machine's load (shown).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from voicebot.bench.reply_report import plot, write_report

HELP = "LLM time to first token and tokens/s, first-sentence delay, TTS first audio and RTF"
REPO = Path(__file__).resolve().parents[2]
QUESTIONS = (
    "What is the capital of France?",
    "Why is the sky blue?",
    "Can you suggest a quick idea for dinner tonight?",
    "How far away is the moon?",
    "What should I pack for a day at the beach?",
)
TTS_TEXTS = (
    "Sure.",
    "The capital of France is Paris.",
    "The sky looks blue because air scatters blue sunlight more than red light.",
    "You could make a quick pasta with garlic, olive oil and some fresh tomatoes, "
    "which takes about fifteen minutes.",
)
HISTORY_TOKENS = 1024


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("bench-out/reply"),
                        help="folder for report.md and reply.png (default bench-out/reply)")
    parser.add_argument("--quick", action="store_true",
                        help="skip the slow transformers backend (about 15-30 s to load)")
    parser.add_argument("--quality", action="store_true",
                        help="only the answer-quality report of the built-in llama.cpp models "
                             "(factual questions per category, instructions, speakability, "
                             "TTFT)")
    parser.add_argument("--configs", type=Path, nargs="+", metavar="CONFIG.yaml",
                        help="--quality with one row per config file (its whole llm section, "
                             "system prompt and reply budget) instead of the built-in models")
    parser.add_argument("--set", dest="fact_set", choices=("48", "new", "all"), default="all",
                        help="--quality: the 48 questions, the new set or both (default all)")
    parser.add_argument("--instructions", action=argparse.BooleanOptionalAction, default=True,
                        help="--quality: also the instructions and small talk (default on)")
    parser.add_argument("--llm-threads", type=int,
                        help="llama.cpp threads for --quality (default: the config's)")


@dataclass
class LlmRun:
    label: str
    load_s: float = 0.0
    load_avg: float = field(default_factory=lambda: os.getloadavg()[0])
    ttft: list[float] = field(default_factory=list)
    tok_s: list[float] = field(default_factory=list)
    first_chunk: list[float] = field(default_factory=list)
    first_sentence: list[float] = field(default_factory=list)
    total: list[float] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
    error: str = ""


@dataclass
class TtsRun:
    label: str
    load_s: float = 0.0
    first_audio: list[float] = field(default_factory=list)
    rtf: list[float] = field(default_factory=list)
    error: str = ""


def run(args: argparse.Namespace) -> int:
    from voicebot.progress import say

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    if args.quality or args.configs:
        return run_quality(out, load_before, args)
    llm_runs = bench_llms(quick=args.quick)
    tts_runs = [bench_tts(name) for name in ("piper", "espeak")]
    report = write_report(llm_runs, tts_runs, out, load_before)
    plot(llm_runs, tts_runs, out / "reply.png")
    say(f"Report: {report}")
    return 0


def run_quality(out: Path, load_before: float, args: argparse.Namespace) -> int:
    """The answer-quality report (bench/quality_report.py) instead of the speed tables."""
    from voicebot.bench import quality_report
    from voicebot.bench.quality import Plan

    sets = ("48", "new") if args.fact_set == "all" else (args.fact_set,)
    plan = Plan(sets=sets, instructions=args.instructions)
    quality_report.run_quality(out, load_before, args.llm_threads, args.configs or (), plan)
    return 0


# -- LLM --------------------------------------------------------------------------------


def bench_llms(quick: bool) -> list[LlmRun]:
    from voicebot.llm.llamacpp import LlamaCppLlm
    from voicebot.llm.llamacpp_params import LlamaCppParams

    runs: list[LlmRun] = []
    counter: Callable[[str], int] | None = None
    specs: list[tuple[str, Callable[[], Any]]] = [
        ("llama.cpp smollm2-135m", lambda: LlamaCppLlm(LlamaCppParams())),
        ("llama.cpp smollm2-135m, no prompt cache",
         lambda: LlamaCppLlm(LlamaCppParams(cache_prompt=False))),
        ("llama.cpp qwen2.5-0.5b", lambda: LlamaCppLlm(LlamaCppParams(model="qwen2.5-0.5b"))),
    ]
    if not quick:
        specs.append(("transformers smollm2-135m", _transformers))
    for label, make in specs:
        llm, result = _load(label, make)
        if llm is not None:
            counter = counter or llm.count_tokens
            converse(llm, result, counter)
            del llm
        runs.append(result)
    runs.append(bench_openai(counter or (lambda text: max(1, len(text) // 4))))
    return runs


def _transformers() -> Any:
    from voicebot.llm.transformers_llm import TransformersLlm, TransformersParams

    return TransformersLlm(TransformersParams())


def _load(label: str, make: Callable[[], Any]) -> tuple[Any, LlmRun]:
    from voicebot.errors import VoicebotError
    from voicebot.progress import step

    result = LlmRun(label)
    began = time.monotonic()
    try:
        with step(f"Loading {label}"):
            llm = make()
            warmup = getattr(llm, "warmup", None)
            if callable(warmup):
                warmup()
    except (VoicebotError, ImportError, OSError, RuntimeError) as exc:
        result.error = str(exc).splitlines()[0]
        return None, result
    result.load_s = time.monotonic() - began
    return llm, result


def converse(llm: Any, result: LlmRun, count_tokens: Callable[[str], int]) -> None:
    """Ask QUESTIONS as one conversation (history kept, as in `voicebot talk`)."""
    from voicebot.config import ConversationConfig
    from voicebot.errors import VoicebotError
    from voicebot.llm.history import ChatHistory
    from voicebot.progress import say

    history = ChatHistory(ConversationConfig().system_prompt, HISTORY_TOKENS, count_tokens)
    for question in QUESTIONS:
        history.add_user(question)
        try:
            reply = timed_reply(llm, history.messages(), result, count_tokens)
        except VoicebotError as exc:
            result.error = str(exc)
            return
        history.add_assistant(reply)
        result.replies.append(reply)
        say(f"  {result.label}: {question} -> {reply[:70]!r}")


def timed_reply(llm: Any, messages: list[Any], result: LlmRun,
                count_tokens: Callable[[str], int]) -> str:
    from voicebot.config import TextConfig
    from voicebot.text.splitter import SentenceSplitter

    early = SentenceSplitter(TextConfig())
    whole = SentenceSplitter(TextConfig(early_first_chunk=False))
    marks: dict[str, float] = {}
    text = ""
    began = time.monotonic()
    for delta in llm.stream(messages, cancel=threading.Event()):
        now = time.monotonic()
        marks.setdefault("first", now)
        text += delta
        if early.push(delta):
            marks.setdefault("chunk", now)
        if whole.push(delta):
            marks.setdefault("sentence", now)
    end = time.monotonic()
    if "first" not in marks:
        return ""
    # a reply with no sentence end is spoken whole, when the stream ends (flush)
    marks.setdefault("chunk", end)
    marks.setdefault("sentence", end)
    result.ttft.append(marks["first"] - began)
    result.first_chunk.append(marks["chunk"] - marks["first"])
    result.first_sentence.append(marks["sentence"] - marks["first"])
    result.total.append(end - began)
    tokens = count_tokens(text)
    if tokens > 1 and end > marks["first"]:
        result.tok_s.append((tokens - 1) / (end - marks["first"]))
    return text


def bench_openai(count_tokens: Callable[[str], int]) -> LlmRun:
    """The OpenAI-compatible client against llama.cpp's HTTP server (smollm2) on loopback."""
    from voicebot.llm.openai_http import OpenAICompatibleLlm, OpenAIParams

    label = "openai -> local llama.cpp server, smollm2-135m"
    began = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "scripts" / "llama_server.py"), "--port", "0"],
        stdout=subprocess.PIPE, text=True)
    try:
        address = (proc.stdout.readline() if proc.stdout else "").strip()
        if not address:
            return LlmRun(label, error="the local llama.cpp server did not start")
        llm = OpenAICompatibleLlm(OpenAIParams(base_url=f"{address}/v1"))
        result = LlmRun(label, load_s=time.monotonic() - began)
        converse(llm, result, count_tokens)
        return result
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# -- TTS --------------------------------------------------------------------------------


def bench_tts(name: str) -> TtsRun:
    from voicebot import registry
    from voicebot.capabilities import SupportsWarmup
    from voicebot.errors import VoicebotError
    from voicebot.progress import step
    from voicebot.tts.base import Tts

    result = TtsRun(name)
    began = time.monotonic()
    try:
        with step(f"Loading TTS {name}"):
            tts = cast(Tts, registry.create("tts", name, registry.params_class("tts", name)()))
            if isinstance(tts, SupportsWarmup):
                tts.warmup()
        result.load_s = time.monotonic() - began
        for text in TTS_TEXTS:
            start = time.monotonic()
            first = None
            samples = 0
            for chunk in tts.synthesize(text):
                first = first if first is not None else time.monotonic() - start
                samples += len(chunk)
            took = time.monotonic() - start
            if first is not None and samples:
                result.first_audio.append(first)
                result.rtf.append(took / (samples / tts.sample_rate))
    except (VoicebotError, ImportError, OSError, RuntimeError) as exc:
        result.error = str(exc).splitlines()[0]
    return result


# -- report -----------------------------------------------------------------------------

"""Could the reply LLM hear that a sentence is unfinished? P(the sentence ends here) from the
conversation model itself, on finished and unfinished things people say.

    .venv/bin/python scripts/semantic_eou.py [--model smollm2-135m]

A LiveKit-style semantic end of turn: the chat prompt up to the user's words (the closing
punctuation Whisper adds at a pause taken off, the end-of-message token not yet written),
and the model's next-token probability of ending there: its end-of-message token or a
token starting with '.', '?' or '!'. A turn detector would hold the turn when that is low.

Four sets: things a person says to an assistant, finished and cut off mid-thought (written
for this script, not from any recording), and, from the dev recordings, what tiny.en heard
for the finished questions of `bench talk` and at the turns `bench turns` closed too early.
Prints, per threshold, how many of each set a hold below it would keep open: a hold that
keeps a finished turn open costs that turn the recheck (1 s more).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

from voicebot.config import SPOKEN_SYSTEM_PROMPT
from voicebot.llm.llamacpp import LlamaCppLlm, LlamaCppParams

FINISHED = [
    "What's the weather like tomorrow", "Set a timer for ten minutes", "Tell me a joke",
    "How far away is the moon", "Who wrote Pride and Prejudice",
    "Turn off the lights in the kitchen", "What time is it in Tokyo",
    "Can you help me plan a trip to Spain", "I need a recipe for pancakes",
    "Explain how a rainbow forms", "Thanks, that's all", "No", "Yes please",
    "What's two plus two", "Remind me to call my mother at six", "Play some jazz",
    "How do I boil an egg", "I'm feeling a bit tired today", "What does photosynthesis mean",
    "Give me three ideas for a birthday present", "Translate good morning into German",
    "Is it going to rain this weekend", "Okay, thank you very much",
    "What's the tallest mountain in Europe", "Summarize the plot of Hamlet in two sentences",
    "My name is Anna", "I think I'll go for a walk", "Stop", "That sounds good",
    "Why do cats purr",
]
UNFINISHED = [
    "What's the weather like in", "Can you tell me how to", "I want to know whether the",
    "So my question is", "How many people live in the capital of", "Set a timer for",
    "Remind me to call my", "I was wondering if you could",
    "Tell me something about the history of", "What's the difference between a",
    "My favourite book is", "Could you explain why the", "And so my friend",
    "Well, the thing is", "When I was young, I used to", "If it rains tomorrow",
    "The problem with my car is that", "Okay so first", "I need to buy some",
    "Who was the first person to", "What would happen if we", "Because I think",
    "Yesterday, after work", "The reason I ask is", "So, um, basically",
    "Let me think, I want a recipe with chicken and", "Can you compare Paris with",
    "In the morning, when I wake up", "What I really want to know", "Play the song by",
]
DEV_FINISHED = [  # tiny.en on the 10 finished questions of `bench talk`
    "What is the capital of France?", "How many legs does a spider have?",
    "Why is the sky blue?", "Can you recommend a good book to read?",
    "What should I cook for dinner tonight?", "Tell me a fun fact about octopuses.",
    "Has never been surpassed.", "In being comparatively modern.", "He could wait no longer.",
    "She had your dark suit in greasy wash water all year.",
]
DEV_EARLY = [  # tiny.en at the turns `bench turns` (smart-turn) closed before the resume
    "No", "For a full hour he had paced up and down, waiting.", "And so my fellow Americans.",
    "If the reader will excuse me, I will say nothing of my antecedents.",
    "the letter which wasn't.", "The Middle Ages brought calligraphy to perfection.",
]
SETS = {"finished (written)": FINISHED, "unfinished (written)": UNFINISHED,
        "dev: finished questions": DEV_FINISHED, "dev: closed too early": DEV_EARLY}
THRESHOLDS = (0.02, 0.05, 0.1, 0.2)


class SentenceEnd:
    """P(the user's message ends here) from a llama.cpp chat model."""

    def __init__(self, model: str) -> None:
        self.llm = LlamaCppLlm(LlamaCppParams(model=model, n_threads=2))
        rendered = self.llm._post("/apply-template", {"messages": [
            {"role": "system", "content": SPOKEN_SYSTEM_PROMPT},
            {"role": "user", "content": "\x00"}]})["prompt"]
        self.prefix = rendered[: rendered.index("\x00")]

    def p_end(self, text: str) -> float:
        words = text.strip().rstrip(".,!?")
        engine = self.llm._server
        result = engine.handle_completions({"prompt": self.prefix + words, "n_predict": 1,
                                            "n_probs": 50, "temperature": 0.0})
        top = result["choices"][0]["logprobs"]["content"][0]["top_logprobs"]
        return sum(math.exp(t["logprob"]) for t in top
                   if t["token"] == "" or t["token"].strip()[:1] in (".", "?", "!"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m", help="built-in name or .gguf path")
    args = parser.parse_args()
    judge = SentenceEnd(args.model)
    scores: dict[str, list[float]] = {}
    started, calls = time.perf_counter(), 0
    for name, texts in SETS.items():
        scores[name] = [judge.p_end(t) for t in texts]
        calls += len(texts)
    per_call = (time.perf_counter() - started) / calls
    print(f"{args.model}: {per_call * 1000:.0f} ms a call (whole prompt, no cache)")
    for name, values in scores.items():
        held = ", ".join(f"< {t}: {sum(v < t for v in values)}" for t in THRESHOLDS)
        print(f"  {name:26s} n={len(values):2d}  median P {statistics.median(values):.3f}  "
              f"held {held}")
    for name in ("dev: finished questions", "dev: closed too early"):
        for text, p in zip(SETS[name], scores[name], strict=True):
            print(f"  {p:.3f}  {name}: {text}")
    lowest = sorted(zip(scores["finished (written)"], FINISHED, strict=True))[:5]
    print("  finished (written), lowest P:", "; ".join(f"{t} {p:.3f}" for p, t in lowest))


if __name__ == "__main__":
    main()

"""`voicebot bench NAME`: run one benchmark (asr, reply, talk) and write its report."""

from __future__ import annotations

import argparse

from voicebot.cli import available_modules

HELP = ("benchmarks: asr (streaming WER and lag), reply (LLM/TTS speed), talk (end to end), "
        "duplex (echo cancellation and barge-in), "
        "turns (end of turn: cut-ins vs latency), soak (a long session), serve (many sessions), "
        "parity (serve with one client vs talk)")
BENCHMARKS = ("talk", "turns", "asr", "reply", "soak", "serve", "parity", "duplex")


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="benchmark", metavar="NAME")
    for name, module in available_modules("voicebot.bench", BENCHMARKS):
        bench = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.register(bench)
        bench.set_defaults(bench_handler=module.run)


def run(args: argparse.Namespace) -> int:
    handler = getattr(args, "bench_handler", None)
    if handler is None:
        print("usage: voicebot bench {" + ",".join(BENCHMARKS) + "} [options]; see --help")
        return 2
    return int(handler(args) or 0)

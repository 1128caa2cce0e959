"""`voicebot bench serve`: N concurrent clients (N = 1, 2, 4, 8) talk to one `voicebot serve`
over loopback, streaming real questions at 1x, with the LLM on llama.cpp's server
(scripts/llama_server.py) with one parallel slot per client.

Both servers run as subprocesses, as they would be deployed; the clients run here, each on
its own thread, and measure e2e themselves: from sending the last speech sample of a
question to receiving the first reply audio. Each client asks its questions one after the
other in one conversation, keeping its "microphone" open (silence at 1x) while it waits;
clients start a fraction of a second apart, so they do not speak in lockstep.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from voicebot.bench.server_process import ServerProcess, first_http_line, serving_url
from voicebot.bench.speech_set import DEFAULT_SPEECH_DIR

HELP = "many sessions: N concurrent clients at 1x, LLM on llama.cpp's server; e2e per N"

REPO = Path(__file__).resolve().parents[2]
LEAD_SILENCE_S = 0.5
STAGGER_S = 0.37  # client i starts i * STAGGER_S after the first
TURN_TIMEOUT_S = 30.0
AFTER_TURN_S = 0.3  # silence after a reply's turn event before the next question


@dataclass
class TurnResult:
    clients: int
    client: int
    question: str
    status: str  # ok | failed | interrupted | timeout | refused | skipped
    client_e2e: float | None = None
    server_e2e: float | None = None
    error: str = ""


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path,
                        help="base YAML config (default: configs/default.yaml); its LLM is "
                        "replaced by the llama.cpp server")
    parser.add_argument("--out", type=Path, default=Path("bench-out/serve"),
                        help="folder for report.md, serve.png and turns.jsonl")
    parser.add_argument("--clients", default=None,
                        help="comma-separated concurrency levels (default 1,2,4,8); with "
                        "--cycles, the clients per cycle (default 2)")
    parser.add_argument("--questions", type=int, default=2,
                        help="questions each client asks in its conversation (default 2)")
    parser.add_argument("--speech-dir", type=Path, default=DEFAULT_SPEECH_DIR,
                        help="real speech with manifest.tsv (synthesized questions only "
                        "when absent)")
    parser.add_argument("--llm-model", default=None,
                        help="GGUF for the llama.cpp server (default: the config's llama.cpp "
                        "model, else smollm2-135m)")
    parser.add_argument("--cycles", type=int, default=0,
                        help="sessions one after another instead: this many cycles of "
                        "--clients clients that connect, ask one question and disconnect, "
                        "against a serve on the config's own engines; server RSS, threads "
                        "and open descriptors after each cycle")


def run(args: argparse.Namespace) -> int:
    from voicebot.bench.serve_report import write_report
    from voicebot.config import load_config
    from voicebot.errors import VoicebotError
    from voicebot.progress import say

    levels = _levels(args.clients or ("2" if args.cycles else "1,2,4,8"))
    if args.cycles < 0 or (args.cycles and len(levels) != 1):
        raise VoicebotError(f"--cycles {args.cycles} with --clients {args.clients}: expected "
                            "a positive number of cycles and one number of clients")
    cfg = load_config(args.config)
    questions = question_set(cfg, args.speech_dir)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.cycles:
        return run_cycles_bench(cfg, questions, args.cycles, levels[0], args.out)
    model = args.llm_model or (
        cfg.llm.params.model if cfg.llm.backend == "llama.cpp" else "smollm2-135m")
    signal.signal(signal.SIGTERM, _interrupt)  # stop the servers on `timeout`/kill too
    results: list[TurnResult] = []
    load_before = os.getloadavg()[0]
    with ServerProcess.start([sys.executable, str(REPO / "scripts" / "llama_server.py"), "--port",
                        "0", "--model", str(model), "--parallel", str(levels[-1])],
                       args.out / "llama-server.log", first_http_line) as llm:
        config_path = _serve_config(cfg.source, llm.address + "/v1", args.out)
        with ServerProcess.start([sys.executable, "-m", "voicebot", "serve", "--config",
                            str(config_path), "--port", "0", "--max-sessions",
                            str(levels[-1]), "--log-dir", str(args.out / "sessions")],
                           args.out / "voicebot-serve.log", serving_url) as server:
            for n in levels:
                say(f"{n} client(s) × {args.questions} question(s)…")
                round_results = run_clients(server.address, n, questions, args.questions)
                results += round_results
                say("    " + _round_line(round_results))
    load = (load_before, os.getloadavg()[0])
    report = write_report(results, levels, questions, cfg, model, args.out, load)
    say(f"Report: {report}")
    return 0


def _levels(text: str) -> list[int]:
    from voicebot.errors import VoicebotError

    try:
        levels = sorted({int(n) for n in text.split(",") if n.strip()})
    except ValueError:
        levels = []
    if not levels or levels[0] < 1:
        raise VoicebotError(f"--clients: expected positive numbers such as 1,2,4,8, "
                            f"got {text!r}")
    return levels


def run_cycles_bench(cfg: Any, questions: list[Question], cycles: int, clients: int,
                     out: Path) -> int:
    """`--cycles`: one serve on the config's own engines (what users run), sessions one
    after another; see voicebot/bench/serve_cycles.py."""
    from voicebot.bench.serve_cycles import read_server, run_cycles
    from voicebot.bench.serve_cycles_report import write_cycles_report
    from voicebot.progress import say

    signal.signal(signal.SIGTERM, _interrupt)
    load_before = os.getloadavg()[0]
    with ServerProcess.start([sys.executable, "-m", "voicebot", "serve", "--config",
                        str(cfg.source), "--port", "0", "--max-sessions", str(clients),
                        "--log-dir", str(out / "sessions")],
                       out / "voicebot-serve.log", serving_url) as server:
        pid = server.proc.pid
        say(f"{cycles} cycles of {clients} client(s), one question each…")

        def progress(cycle: Any) -> None:
            fig = cycle.figures
            say(f"cycle {cycle.index}: {cycle.answered}/{cycle.asked} answered"
                + (f", server rss {fig.rss_mb:.0f} MB, {fig.threads} threads, {fig.fds} "
                   "open descriptors" if fig else ", server gone"))

        done = run_cycles(server.address, questions, cycles, clients,
                          lambda: read_server(pid), progress)
    report = write_cycles_report(done, clients, cfg.source.name, out,
                                 (load_before, os.getloadavg()[0]))
    say(f"Report: {report}")
    return 0 if all(c.answered == c.asked for c in done) else 1


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


@dataclass(frozen=True)
class Question:
    label: str
    audio: np.ndarray  # 16 kHz, lead silence included
    speech_end: float  # seconds into `audio`


def question_set(cfg: Any, speech_dir: Path) -> list[Question]:
    """The six synthesized questions of `bench talk` and the four shortest real
    recordings, each with half a second of silence before it."""
    from voicebot.bench.talk import QUESTIONS, real_turns, synthesized_turns
    from voicebot.loading import load_tts
    from voicebot.serve.client import speech_end
    from voicebot.serve.protocol import INPUT_SAMPLE_RATE

    tts = load_tts(cfg)
    turns = synthesized_turns(tts, cfg, len(QUESTIONS)) + real_turns(speech_dir,
                                                                      INPUT_SAMPLE_RATE, 4)
    lead = np.zeros(round(LEAD_SILENCE_S * INPUT_SAMPLE_RATE), dtype=np.float32)
    out = []
    for turn in turns:
        audio = np.concatenate([lead, turn.audio])
        out.append(Question(turn.label, audio, speech_end(audio)))
    return out


def run_clients(url: str, n: int, questions: list[Question], per_client: int
                ) -> list[TurnResult]:
    results: list[list[TurnResult]] = [[] for _ in range(n)]
    threads = []
    for i in range(n):
        mine = [questions[(i * per_client + k) % len(questions)] for k in range(per_client)]
        thread = threading.Thread(target=_client, args=(url, n, i, mine, results[i]),
                                  name=f"bench-client-{i}")
        threads.append(thread)
    for i, thread in enumerate(threads):
        if i:
            time.sleep(STAGGER_S)
        thread.start()
    for thread in threads:
        thread.join()
    return [r for rs in results for r in rs]


def _client(url: str, n: int, index: int, questions: list[Question],
            out: list[TurnResult]) -> None:
    from voicebot.serve.client import ClientSession, ServerRefused

    try:
        client = ClientSession(url)
    except (ServerRefused, OSError) as exc:
        out += [TurnResult(n, index, q.label, "refused", error=str(exc)) for q in questions]
        return
    try:
        for question in questions:
            result = _ask(client, n, index, question)
            out.append(result)
            if result.status == "timeout":  # its late turn would be taken for the next one
                out += [TurnResult(n, index, q.label, "skipped",
                                   error="not asked: the previous question timed out")
                        for q in questions[len(out):]]
                break
        client.end(timeout=TURN_TIMEOUT_S)
    except Exception as exc:  # a broken connection fails the rest, not the bench
        out += [TurnResult(n, index, q.label, "failed", error=f"{type(exc).__name__}: {exc}")
                for q in questions[len(out):]]
    finally:
        client.close()


def _ask(client: Any, n: int, index: int, question: Question) -> TurnResult:
    before = len(client.received.of_type("turn"))
    t0 = client.stream(question.audio)
    answered = client.stream_silence_until(
        lambda r: len(r.of_type("turn")) > before, timeout=TURN_TIMEOUT_S)
    if not answered:
        return TurnResult(n, index, question.label, "timeout",
                          error=f"no turn within {TURN_TIMEOUT_S:g} s")
    client.stream(np.zeros(round(AFTER_TURN_S * 16000), dtype=np.float32))
    turn = client.received.of_type("turn")[before]
    end_sent = t0 + question.speech_end
    first_audio = client.received.first_audio_after(end_sent)
    return TurnResult(
        n, index, question.label, str(turn["status"]),
        client_e2e=None if first_audio is None or turn["status"] != "ok"
        else first_audio - end_sent,
        server_e2e=turn["figures"].get("e2e_latency"), error=turn.get("error") or "",
    )


def _round_line(results: list[TurnResult]) -> str:
    from voicebot.metrics import summarize

    ok = [r.client_e2e for r in results if r.client_e2e is not None]
    summary = summarize(ok, "e2e")
    failed = sum(1 for r in results if r.status != "ok")
    if summary is None:
        return f"no answered turn; {failed} failed"
    return (f"e2e median {summary.median:.2f} s, p90 {summary.p90:.2f} s over {len(ok)} "
            f"turn(s); {failed} failed")


def _serve_config(base: Path, base_url: str, out: Path) -> Path:
    path = out / "serve-config.yaml"
    path.write_text(
        f"# written by voicebot bench serve: {base.name} with the LLM on llama.cpp's server\n"
        f"extends: {base.resolve()}\n"
        f"llm:\n  backend: openai\n  base_url: {base_url}\n  model: default\n"
        "  api_key_env: null\n", encoding="utf-8")
    return path

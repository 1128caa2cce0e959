"""`voicebot chat`: type a line, hear the streamed reply sentence by sentence."""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path
from typing import Any

HELP = "text in, spoken reply out: the reply path (LLM -> sentences -> TTS) on its own"


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="YAML config (default: configs/default.yaml)")
    parser.add_argument(
        "-o", "--output", type=Path,
        help="write the spoken replies (one after another) to this WAV instead of the speaker",
    )
    parser.add_argument(
        "-m", "--message", action="append",
        help="say this instead of reading lines from the terminal/stdin (repeatable)",
    )


def run(args: argparse.Namespace) -> int:
    from voicebot.config import load_config
    from voicebot.llm.history import ChatHistory
    from voicebot.loading import load_llm, load_tts

    cfg = load_config(args.config)
    if args.message is not None and not any(m.strip() for m in args.message):
        from voicebot.errors import VoicebotError

        raise VoicebotError('nothing to say: -m needs some text, e.g. -m "Hello there."')
    sink = _open_sink(args, cfg)
    llm = load_llm(cfg)
    tts = load_tts(cfg)
    history = ChatHistory(
        cfg.conversation.system_prompt, cfg.conversation.history_tokens, llm.count_tokens
    )
    from voicebot.clock import MonotonicClock

    clock = MonotonicClock()
    session_t0 = clock.now()
    failed = 0
    try:
        for line in _lines(args):
            error = _checked_turn(line, llm, tts, cfg, history, sink, clock, session_t0)
            if error:  # one line, and the conversation goes on
                print(f"voicebot: error: {error}", file=sys.stderr, flush=True)
                failed += 1
    except KeyboardInterrupt:
        print("\nStopped.", file=sys.stderr)
        return 130
    finally:
        sink.close()
    return 1 if failed else 0


def _checked_turn(
    text: str, llm: Any, tts: Any, cfg: Any, history: Any, sink: Any, clock: Any,
    session_t0: float,
) -> str | None:
    """Run one exchange; returns the one-line reason it failed, or None."""
    from voicebot.errors import BackendError
    from voicebot.reply import StageFailure

    if not history.fits(text):
        return (f"message too long: about {llm.count_tokens(text)} tokens, but the "
                f"conversation holds {history.budget_tokens} (conversation.history_tokens); "
                "shorten it")
    try:
        _one_turn(text, llm, tts, cfg, history, sink, clock, session_t0)
    except (StageFailure, BackendError) as exc:
        print()
        history.add_assistant("")
        return str(exc)
    return None


def _open_sink(args: argparse.Namespace, cfg: Any) -> Any:
    from voicebot.audio.sinks import SpeakerSink
    from voicebot.audio.wav_sink import WavSink

    if args.output is not None:
        return WavSink(args.output)
    return SpeakerSink(cfg.audio.output_device)


def _lines(args: argparse.Namespace) -> Any:
    if args.message:
        yield from (m.strip() for m in args.message if m.strip())
        return
    interactive = sys.stdin.isatty()
    while True:
        if interactive:
            print("you> ", end="", flush=True)
        line = sys.stdin.readline()
        if not line:
            return
        if line.strip():
            yield line.strip()


def _one_turn(
    text: str, llm: Any, tts: Any, cfg: Any, history: Any, sink: Any, clock: Any,
    session_t0: float,
) -> None:
    """One exchange. Speaker output is scheduled on the session clock; a WAV output gets
    the replies back to back (handed over as the previous one ends, so the sink can write
    out and forget what came before)."""
    from voicebot.audio.sinks import SpeakerSink
    from voicebot.errors import BackendError
    from voicebot.heap import release_free_heap
    from voicebot.reply import AudioChunk, FirstToken, SentenceReady, TextDelta, reply_events

    live = isinstance(sink, SpeakerSink)
    history.add_user(text)
    t0 = clock.now()
    marks: dict[str, float] = {}
    spoken: list[str] = []
    audio_s = 0.0
    print("bot> ", end="", flush=True)
    for event in reply_events(llm, tts, cfg.text, history.messages(), threading.Event()):
        now = clock.now() - t0
        if isinstance(event, FirstToken):
            marks.setdefault("llm_first_token", now)
        elif isinstance(event, TextDelta):
            print(event.text, end="", flush=True)
        elif isinstance(event, SentenceReady):
            marks.setdefault("first_sentence", now)
            spoken.append(event.text)
        elif isinstance(event, AudioChunk):
            marks.setdefault("tts_first_audio", now)
            at = clock.now() - session_t0 if live else sink.busy_until()
            sink.play(event.samples, event.sample_rate, at)
            audio_s += event.duration
    print()
    if not spoken:
        history.add_assistant("")
        raise BackendError("the model returned an empty reply")
    history.add_assistant(" ".join(spoken))
    total = clock.now() - t0
    release_free_heap()  # the reply's freed native memory back (voicebot/heap.py)
    print(_timings(marks, total, audio_s), file=sys.stderr)
    if live:  # let the reply finish before the next prompt
        clock.sleep(sink.busy_until() - (clock.now() - session_t0))


def _timings(marks: dict[str, float], total: float, audio_s: float) -> str:
    def ms(name: str) -> str:
        return f"{marks[name] * 1000:.0f} ms" if name in marks else "—"

    return (
        f"  LLM first token {ms('llm_first_token')} · first sentence {ms('first_sentence')} · "
        f"TTS first audio {ms('tts_first_audio')} · total {total * 1000:.0f} ms "
        f"for {audio_s:.1f} s of speech"
    )

"""`voicebot talk`: the conversation loop, live or replayed from a WAV at real time."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from voicebot.config import Config
    from voicebot.engines import Engines
    from voicebot.metrics import SessionLog
    from voicebot.pipeline import Conversation

HELP = "talk to the assistant (microphone and speaker, or a WAV replayed at real time)"

DEMO_QUESTIONS = ("What is the capital of France?",)


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="YAML config (default: configs/default.yaml)")
    parser.add_argument(
        "-i", "--input", type=Path,
        help="replay this WAV at real time as if spoken into the microphone "
        "(it may hold several questions separated by pauses)",
    )
    parser.add_argument(
        "-o", "--output", type=Path,
        help="write the bot's voice, time-aligned with the input, to this WAV "
        "instead of the speaker",
    )
    parser.add_argument(
        "--log", type=Path,
        help="JSONL session log (default: <data dir>/voicebot/sessions/<time>.jsonl)",
    )
    parser.add_argument(
        "--barge-in", action="store_true",
        help="let your speech interrupt the reply even without echo cancellation (then use "
        "headphones, or the bot hears itself); with echo cancellation it is on already",
    )
    parser.add_argument(
        "--echo-cancellation", choices=("auto", "on", "off"),
        help="WebRTC echo cancellation in front of the VAD, so the bot can listen while it "
        "talks on open speakers (default: the config's audio.echo_cancellation, auto: on "
        "with a microphone and a speaker)",
    )
    parser.add_argument(
        "--echo-recording", type=Path, metavar="WAV",
        help="write what the echo canceller saw to this 4-channel WAV (microphone, what the "
        "speaker played on the same time base, what went on to the VAD, what went on to the "
        "recognizer), to find out why an echo got through",
    )
    parser.add_argument(
        "--no-table", action="store_true", help="do not print the latency table per turn"
    )
    parser.add_argument(
        "--demo-without-devices", action="store_true",
        help="if there is no microphone or speaker, say so and demonstrate the loop on a "
        "question synthesized locally (what `make run` does)",
    )


def run(args: argparse.Namespace) -> int:
    from voicebot.config import load_config

    cfg = load_config(args.config)
    if args.barge_in:
        cfg.conversation.barge_in = True
    if args.echo_cancellation:
        cfg.audio.echo_cancellation = args.echo_cancellation
    demo = _needs_demo(args, cfg)
    # Open the input and outputs before loading models: a bad file, a missing device or an
    # unwritable log or WAV is reported in a second, not after the models load.
    log = _open_log(args, cfg)
    source = None if demo else _open_source(args, cfg)
    sink = None if demo else _open_sink(args, cfg, source)
    from voicebot.engines import load_engines

    engines = load_engines(cfg)
    try:
        if demo:
            args.input, args.output = _make_demo_question(engines.tts, cfg)
            source = _open_source(args, cfg)
            sink = _open_sink(args, cfg, source)
        return _converse(args, cfg, engines, source, sink, log)
    finally:
        engines.close()


def _needs_demo(args: argparse.Namespace, cfg: Any) -> bool:
    """True when `--demo-without-devices` is set and there is no microphone or speaker."""
    from voicebot.audio.devices import require_input_device, require_output_device
    from voicebot.errors import AudioDeviceError
    from voicebot.progress import say

    if args.input is not None or not args.demo_without_devices:
        return False
    try:
        require_input_device(cfg.audio.input_device)
        if args.output is None:
            require_output_device(cfg.audio.output_device)
    except AudioDeviceError as exc:
        say(f"No audio device here: {exc}")
        say("Demonstrating the talk loop instead on a question spoken by the local TTS, "
            "replayed at real time; the reply goes to a WAV file.")
        return True
    return False


def _make_demo_question(tts: Any, cfg: Any) -> tuple[Path, Path]:
    import numpy as np

    from voicebot.audio.resample import resample
    from voicebot.audio.wav import write_wav
    from voicebot.progress import say

    rate = cfg.audio.sample_rate
    pause = np.zeros(rate, dtype=np.float32)
    parts = [pause]
    for question in DEMO_QUESTIONS:
        audio = np.concatenate(list(tts.synthesize(question)))
        parts += [resample(audio, tts.sample_rate, rate), pause]
    out_dir = Path("out")
    out_dir.mkdir(exist_ok=True)
    question_wav = out_dir / "demo-question.wav"
    write_wav(question_wav, np.concatenate(parts), rate)
    say(f"Question: {' '.join(DEMO_QUESTIONS)!r} -> {question_wav}")
    return question_wav, out_dir / "demo-reply.wav"


def _open_source(args: argparse.Namespace, cfg: Any) -> Any:
    from voicebot.audio.sources import MicrophoneSource, WavReplaySource

    rate = cfg.audio.sample_rate
    block = rate * cfg.audio.frame_ms // 1000
    if args.input is not None:
        tail = cfg.endpoint.end_ms / 1000 + 1.0  # lets the endpoint fire after the last word
        return WavReplaySource.from_file(
            args.input, sample_rate=rate, block_ms=cfg.audio.frame_ms, speed=1.0,
            tail_silence_s=tail,
        )
    return MicrophoneSource(cfg.audio.input_device, rate, block)


def _open_sink(args: argparse.Namespace, cfg: Any, source: Any) -> Any:
    from voicebot.audio.sinks import SpeakerSink
    from voicebot.audio.wav_sink import WavSink

    if args.output is not None:
        sink = WavSink(args.output)
        # the reply WAV lines up with the input: as long as it even when nobody answered
        sink.min_length_s = float(getattr(source, "duration", 0.0))
        return sink
    return SpeakerSink(cfg.audio.output_device)


def _open_log(args: argparse.Namespace, cfg: Any) -> Any:
    from voicebot.metrics import SessionLog

    return SessionLog(_log_path(args, cfg),
                      {"config": str(cfg.source), "input": str(args.input or "mic")})


def _log_path(args: argparse.Namespace, cfg: Any) -> Path:
    from voicebot.assets import data_dir

    if args.log is not None:
        return Path(args.log)
    folder = Path(cfg.conversation.log_dir) if cfg.conversation.log_dir else (
        data_dir() / "sessions"
    )
    return folder / f"{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}.jsonl"


def talk_conversation(args: argparse.Namespace, cfg: Config, engines: Engines,
                      log: SessionLog) -> Conversation:
    """The conversation `voicebot talk` runs (the builder's; its one override only records
    what the echo canceller saw, when asked to)."""
    from voicebot.assembly import Overrides, build_conversation
    from voicebot.clock import MonotonicClock
    from voicebot.slow_machine import checked_view
    from voicebot.view import TerminalView

    view = checked_view(TerminalView(show_table=not args.no_table), _llm_model(cfg))
    return build_conversation(cfg, engines, clock=MonotonicClock(), view=view, log=log,
                              overrides=Overrides(echo_recording=args.echo_recording))


def _converse(
    args: argparse.Namespace, cfg: Config, engines: Engines, source: Any, sink: Any,
    log: SessionLog,
) -> int:
    from voicebot.errors import AudioDeviceError, VoicebotError
    from voicebot.metrics import figure_values, summarize
    from voicebot.progress import say

    log_path = log.path
    conversation = talk_conversation(args, cfg, engines, log)
    say("Listening… (Ctrl-C to stop)" if args.input is None else f"Replaying {args.input}…")
    status = 0
    lost: VoicebotError | None = None
    try:
        conversation.run(source, sink)
    except KeyboardInterrupt:
        say("\nStopped.")
        status = 130
    except AudioDeviceError as exc:  # a device went away: still say what was logged
        lost = exc
    finally:
        source.close()
        sink.close()
    turns = conversation.turns
    e2e = summarize(figure_values(turns, "e2e_latency"), "e2e_latency")
    line = f"{len(turns)} turn(s)"
    if e2e is not None:
        line += f", median e2e latency {e2e.median * 1000:.0f} ms"
    logged = f"Log: {log_path}" if turns else "Nothing to log"
    if not turns and log_path.is_file() and log_path.stat().st_size == 0:
        log_path.unlink()  # opened early to check it can be written; nothing came of it
    if log.error:
        logged = f"Log not written: {log.error}"
    say(f"{line}. {logged}" + (f". Reply audio: {args.output}" if args.output else ""))
    if lost is not None:
        raise lost
    return status or _exit_status(turns, log)


def _llm_model(cfg: Any) -> str | None:
    model = getattr(cfg.llm.params, "model", None)
    return model if isinstance(model, str) else None


def _exit_status(turns: list[Any], log: Any) -> int:
    """1 when the session log could not be written or every turn failed (a script must be
    able to tell a session where nothing worked); else 0."""
    if log.error:
        return 1
    if turns and all(t.status in ("failed", "truncated") for t in turns):
        from voicebot.progress import say

        say("voicebot: error: every turn failed (see the errors above)")
        return 1
    return 0

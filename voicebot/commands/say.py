"""`voicebot say "TEXT"`: speak text (or write it to a WAV) through the configured TTS.

The text goes through the same sentence splitter and clean-up as an LLM reply, so what you
hear is what the assistant would say (chunk by chunk, joined as a reply joins them); the
command prints time to first audio, the audio duration and the real-time factor.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

HELP = "speak TEXT with the configured TTS, or write it to a WAV (-o); prints TTS speed"


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("text", help="what to say (quote it)")
    parser.add_argument("-o", "--output", type=Path, help="write a WAV here instead of playing")
    parser.add_argument("--config", type=Path, help="YAML config (default: configs/default.yaml)")
    parser.add_argument("--backend", help="TTS backend instead of the config's (piper, espeak, "
                        "coqui; with its default parameters)")


def run(args: argparse.Namespace) -> int:
    from voicebot.config import load_config
    from voicebot.errors import VoicebotError
    from voicebot.text.splitter import SentenceSplitter

    if not args.text.strip():
        raise VoicebotError("nothing to say: give some TEXT, e.g. voicebot say \"Hello there.\"")
    cfg = load_config(args.config)
    if args.backend:
        cfg.tts = _stage_for(args.backend, cfg)
    splitter = SentenceSplitter(cfg.text)
    chunks = splitter.push(args.text) + splitter.flush()
    if not chunks:
        raise VoicebotError(f"nothing speakable in {args.text!r} (only markup or symbols)")
    if args.output:  # a bad path or a full disk is one line now, not after synthesis
        from voicebot.audio.wav import open_wav_early

        open_wav_early(args.output, "the reply audio", 22050)
    sink = None if args.output else _open_speaker(cfg)
    try:
        from voicebot.loading import load_tts

        tts = load_tts(cfg)
        audio, first, took = _synthesize(tts, chunks, sink)
        if args.output:
            from voicebot.audio.wav import write_wav

            write_wav(args.output, audio, tts.sample_rate)
        elif sink is not None:
            _wait_until_played(sink, took)
    finally:
        if sink is not None:
            sink.close()
    duration = len(audio) / tts.sample_rate
    print(report_line(first, duration, took, args.output))
    return 0


def report_line(first: float | None, duration: float, took: float, out: Path | None) -> str:
    rtf = took / duration if duration > 0 else float("nan")
    where = f"wrote {out}" if out else "played"
    first_s = f"{first:.3f} s" if first is not None else "n/a"
    return (f"{where}: first audio after {first_s}, {duration:.2f} s of audio, "
            f"synthesis {took:.2f} s (real-time factor {rtf:.3f})")


def _stage_for(backend: str, cfg: Any) -> Any:
    """The config's TTS section when it names `backend`, else that backend's defaults."""
    from voicebot import registry
    from voicebot.config import StageConfig, build_dataclass

    if backend == cfg.tts.backend:
        return cfg.tts
    params_cls = registry.params_class("tts", backend)  # unknown names list the allowed ones
    params: Any = build_dataclass(params_cls, {}, Path("--backend"), "tts")
    return StageConfig(backend=backend, params=params)


def _open_speaker(cfg: Any) -> Any:
    from voicebot.audio.sinks import SpeakerSink
    from voicebot.errors import AudioDeviceError

    try:
        return SpeakerSink(cfg.audio.output_device)
    except AudioDeviceError as exc:
        raise AudioDeviceError(f"{exc} (for example: voicebot say \"TEXT\" -o out.wav)") from None


def _synthesize(tts: Any, chunks: list[str], sink: Any) -> tuple[np.ndarray, float | None, float]:
    """Synthesize chunk by chunk, handing each piece to the speaker as soon as it exists.
    Returns (all audio, seconds to the first audio, seconds of synthesis)."""
    import threading

    from voicebot.clock import MonotonicClock
    from voicebot.reply import AudioChunk, speak

    clock = MonotonicClock()
    t0 = clock.now()
    first: float | None = None
    pieces: list[np.ndarray] = []
    for index, chunk in enumerate(chunks):  # as a reply speaks them (joins, leading silence)
        for event in speak(tts, chunk, index, threading.Event()):
            if not isinstance(event, AudioChunk):
                continue
            piece = event.samples.reshape(-1)
            if first is None:
                first = clock.now() - t0
            if sink is not None:
                sink.play(piece, tts.sample_rate, clock.now() - t0)
            pieces.append(piece)
    took = clock.now() - t0
    audio = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
    return audio, first, took


def _wait_until_played(sink: Any, elapsed: float) -> None:
    from voicebot.clock import MonotonicClock

    MonotonicClock().sleep(sink.busy_until() - elapsed)

"""`voicebot transcribe`: streaming speech-to-text of a WAV file or the microphone.

The same loop as the conversation's listening half (VAD -> endpointing -> LocalAgreement
Whisper), without the LLM: it shows what the assistant would hear and when each word was
committed. The loop here is an orchestrator, so it reads the clock; the bench reuses it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from voicebot.events import EmittedWord, TranscriptUpdate, UtteranceFinal, Word

HELP = "streaming speech-to-text of a WAV file or the microphone (no LLM)"
DESCRIPTION = """Streaming speech-to-text of a WAV file (any rate, width or channel count) or
the microphone, through the same VAD, endpointing and LocalAgreement streaming Whisper as
`voicebot talk`. Each committed word is stamped with `emitted`: when it appeared, in seconds
since the stream started.

Timing modes for a file: with --realtime the file is replayed at 1x and `emitted` is
wall-clock time. Without it the file runs as fast as the machine goes, on a
computation-aware simulated clock (as in whisper_streaming's offline simulation): audio
"arrives" at its own pace on the simulated clock, and each decode advances the clock by its
measured compute time, so the audio that accumulated meanwhile is what the next decode sees.
The transcript and the `emitted` times then match a 1x replay on an idle machine."""

DIM = "\033[2m"
RESET = "\033[0m"
CLEAR_LINE = "\r\033[K"


def register(parser: argparse.ArgumentParser) -> None:
    parser.description = DESCRIPTION
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("file", nargs="?", type=Path, help="audio file (WAV, FLAC, ...)")
    parser.add_argument("--mic", action="store_true", help="transcribe the microphone")
    parser.add_argument("--config", type=Path, help="YAML config (default: configs/default.yaml)")
    parser.add_argument("--realtime", action="store_true",
                        help="replay the file at 1x on the wall clock (default: simulated time)")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object (text, words with start/end/emitted, ...)")


@dataclass
class StreamResult:
    """What a streamed transcription produced, with when each word was committed."""

    words: list[EmittedWord] = field(default_factory=list)
    finals: list[tuple[UtteranceFinal, float]] = field(default_factory=list)
    duration: float = 0.0
    compute_s: float = 0.0
    decodes: int = 0
    time: TimeBase | None = field(default=None, repr=False)

    @property
    def text(self) -> str:
        return " ".join(f.text for f, _ in self.finals if f.text).strip()


class TimeBase:
    """Stream time for the loop: the wall clock (realtime), or simulated time that advances
    with the audio and with each decode's measured compute time."""

    def __init__(self, realtime: bool) -> None:
        from voicebot.clock import MonotonicClock

        self.realtime = realtime
        self.clock = MonotonicClock()
        self._t0 = self.clock.now()
        self._sim = 0.0

    def elapsed(self) -> float:
        return self.clock.now() - self._t0 if self.realtime else self._sim

    def wait(self, seconds: float) -> None:
        if self.realtime:
            self.clock.sleep(min(seconds, 0.05))
        else:
            self._sim += max(seconds, 0.0)

    def timed(self, fn: Callable[[], Any]) -> tuple[Any, float]:
        began = self.clock.now()
        out = fn()
        took = self.clock.now() - began
        if not self.realtime:
            self._sim += took
        return out, took


Callback = Callable[[TranscriptUpdate | UtteranceFinal, float], None]


def stream_transcribe(
    listener: Any,
    source: Any,
    realtime: bool,
    on_result: Callback | None = None,
    result: StreamResult | None = None,
) -> StreamResult:
    """Feed `source` to `listener`, decoding whenever it has work, until the input ends.

    Pass the `result` of an interrupted run (after closing the source) to finish the
    utterance in progress into it."""
    result = result if result is not None else StreamResult()
    if result.time is None:
        result.time = TimeBase(realtime)
    time = result.time
    seen: set[Word] = {e.word for e in result.words}
    ended = False
    source.start()
    while True:
        for frame in source.read_available(time.elapsed()):
            listener.push_audio(frame)
            result.duration = max(result.duration, frame.end)
        if listener.has_work():
            out, took = time.timed(listener.work)
            result.compute_s += took
            result.decodes += 1
            _collect(out, time.elapsed(), result, seen)
            if on_result is not None:
                on_result(out, time.elapsed())
        elif source.finished:
            if ended:
                return result
            listener.end_of_input()
            ended = True
        else:
            time.wait(source.seconds_until_next(time.elapsed()))


def _collect(out: Any, now: float, result: StreamResult, seen: set[Word]) -> None:
    words = out.committed if isinstance(out, TranscriptUpdate) else out.words
    for word in words:
        if word not in seen:
            seen.add(word)
            result.words.append(EmittedWord(word, now))
    if isinstance(out, UtteranceFinal):
        result.finals.append((out, now))


class LiveView:
    """TTY: committed text plus a dim partial redrawn in place; pipe: a line per utterance."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.tty = out.isatty()
        self._committed: list[str] = []

    def __call__(self, result: TranscriptUpdate | UtteranceFinal, now: float) -> None:
        if isinstance(result, UtteranceFinal):
            self._committed = []
            if self.tty:
                self.out.write(CLEAR_LINE)
            if result.text:
                self.out.write(result.text + "\n")
            self.out.flush()
            return
        self._committed += [w.text for w in result.committed]
        if self.tty:
            text = " ".join(self._committed)[-90:]
            tail = " ".join(w.text for w in result.partial)[: max(0, 110 - len(text))]
            self.out.write(f"{CLEAR_LINE}{text} {DIM}{tail}{RESET}")
            self.out.flush()


def run(args: argparse.Namespace) -> int:
    from voicebot.config import load_config
    from voicebot.errors import VoicebotError

    if args.mic == (args.file is not None):
        raise VoicebotError("give one audio FILE or --mic (see voicebot transcribe --help)")
    cfg = load_config(args.config)
    if args.mic:  # fail before the model loads when there is no microphone
        from voicebot.audio.devices import require_input_device

        require_input_device(cfg.audio.input_device)
    source = _open_file(args.file, cfg) if args.file else None
    listener = _build_listener(cfg)
    if source is None:
        source = _open_mic(cfg)
    view = None if args.json else LiveView(sys.stdout)
    result = StreamResult()
    if args.mic:
        _close_on_ctrl_c(source)
    try:
        stream_transcribe(listener, source, args.realtime or args.mic, view, result)
    except KeyboardInterrupt:
        if not args.mic:
            raise
        source.close()  # Ctrl-C ends a microphone session: finish what was said
        stream_transcribe(listener, source, True, view, result)
    finally:
        source.close()
    if args.json:
        print(json.dumps(to_json(result, cfg, args.realtime or args.mic), ensure_ascii=False))
    return 0


def _close_on_ctrl_c(source: Any) -> None:
    """The first Ctrl-C of a microphone session closes the microphone and lets the loop
    finish what was said; a KeyboardInterrupt raised in the middle of the final decode
    would lose the utterance. A second Ctrl-C interrupts at once."""
    import signal

    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        return  # started with Ctrl-C ignored (a background job): keep it that way

    def first(signum: int, frame: Any) -> None:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        source.close()

    signal.signal(signal.SIGINT, first)


def _open_file(path: Path, cfg: Any) -> Any:
    from voicebot.audio.sources import WavReplaySource

    return WavReplaySource.from_file(path, cfg.audio.sample_rate, cfg.audio.frame_ms, speed=1.0)


def _open_mic(cfg: Any) -> Any:
    from voicebot.audio.sources import MicrophoneSource
    from voicebot.progress import say

    rate = cfg.audio.sample_rate
    source = MicrophoneSource(cfg.audio.input_device, rate, rate * cfg.audio.frame_ms // 1000)
    say("Listening… (Ctrl-C to stop)")
    return source


def _build_listener(cfg: Any) -> Any:
    from voicebot.assembly import Overrides, build_listener
    from voicebot.loading import load_asr, load_turn, load_vad

    # verdicts inline: a transcript does not depend on when the turn detector answers
    return build_listener(cfg, load_vad(cfg), load_asr(cfg), load_turn(cfg),
                          Overrides(inline=True))


def to_json(result: StreamResult, cfg: Any, realtime: bool) -> dict[str, Any]:
    from voicebot.loading import describe

    def r(x: float) -> float:
        return round(x, 3)

    return {
        "text": result.text,
        "words": [{"text": e.word.text, "start": r(e.word.start), "end": r(e.word.end),
                   "emitted": r(e.emitted)} for e in result.words],
        "duration": r(result.duration),
        "utterances": [{"text": f.text, "speech_start": r(f.speech_start),
                        "last_speech": r(f.last_speech), "endpoint": r(f.endpoint),
                        "emitted": r(at), "forced": f.forced} for f, at in result.finals],
        "rtf": r(result.compute_s / result.duration) if result.duration else None,
        "decodes": result.decodes,
        "model": describe("asr", cfg),
        "timing": "realtime" if realtime else "simulated",
    }

"""The bot's side of a turn: request the reply, pull its stream, play it, pause, resume, cut.

The loop (pipeline.py) calls `step` for ONE event of the reply stream at a time (a token,
a sentence, an audio chunk), or gets `Pending` at once while the stream computes on its
worker thread (workers.py), and goes back to the microphone in between. Audio chunks go to
the sink as they come, except those of a speculative reply, which the handle holds until
the endpoint confirms its text (reply_handle.py). The figures of the turn that only the
reply knows (stalls, audio length, the LLM's threads, the reply text) are written on the
turn's record as they happen.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence

from voicebot.audio.levels import first_audible
from voicebot.audio.sinks import AudioSink
from voicebot.capabilities import SupportsPause
from voicebot.config import TextConfig
from voicebot.events import ChatMessage
from voicebot.llm.base import Llm
from voicebot.reply import AudioChunk, FirstToken, ReplyEvent, SentenceReady, TextDelta
from voicebot.reply_handle import ReplyHandle, ReplyState
from voicebot.reply_worker import Pending
from voicebot.tts.base import Tts
from voicebot.turn_state import Turn
from voicebot.view import ConversationView
from voicebot.workers import Workers

ReplyFn = Callable[
    [Llm, Tts, TextConfig, Sequence[ChatMessage], threading.Event], Iterator[ReplyEvent]
]


class Replying:
    def __init__(self, llm: Llm, tts: Tts, text_cfg: TextConfig, reply_fn: ReplyFn,
                 workers: Workers, view: ConversationView,
                 elapsed: Callable[[], float]) -> None:
        """`elapsed`: the orchestrator's session clock (read after each pull, which may
        have blocked on an inline stream)."""
        self.llm = llm
        self.tts = tts
        self.text_cfg = text_cfg
        self.reply_fn = reply_fn
        self.workers = workers
        self.view = view
        self.elapsed = elapsed
        self.current: ReplyHandle | None = None
        self.sink: AudioSink | None = None

    def start(self, messages: Sequence[ChatMessage], speculative: str | None) -> ReplyHandle:
        cancel = threading.Event()
        events = self.reply_fn(self.llm, self.tts, self.text_cfg, messages, cancel)
        self.current = ReplyHandle.start(self.workers.reply(events, cancel), cancel,
                                         speculative, self.elapsed())
        return self.current

    def step(self, turn: Turn) -> bool:
        """Take the stream's next event; False once it has ended (StageFailure is raised)."""
        reply = self.current
        assert reply is not None
        try:
            event = next(reply.events)
        except StopIteration:
            reply.generating = False
            turn.record.reply_text = " ".join(reply.sentences)
            return False
        if isinstance(event, Pending):
            return True  # computing on the worker: back to the microphone
        now = self.elapsed()
        if isinstance(event, FirstToken):
            reply.mark("llm_first_token", now)
            turn.record.llm_threads = getattr(self.llm, "threads_used", None)
        elif isinstance(event, TextDelta):
            reply.text += event.text
            if not reply.unconfirmed:  # a speculative reply shows once confirmed
                self.view.reply_text(event.text)
        elif isinstance(event, SentenceReady):
            reply.mark("first_sentence", now)
            reply.sentences.append(event.text)
        elif isinstance(event, AudioChunk):
            reply.mark("tts_first_audio", now)
            if reply.unconfirmed:
                reply.hold(event)  # played once the endpoint confirms the text
            else:
                self.play(event, turn, now)
        return True

    def play(self, chunk: AudioChunk, turn: Turn, now: float) -> None:
        reply, sink, record = self.current, self.sink, turn.record
        assert reply is not None and sink is not None
        if reply.starts and reply.state != "paused" and (late := now - sink.busy_until()) > 0:
            record.stall_s += late  # the reply had started and ran dry: a gap in its audio
        playback = sink.play(chunk.samples, chunk.sample_rate, now)
        record.reply_audio_s += chunk.duration
        audible = first_audible(chunk.samples)
        reply.played(chunk, playback, None if audible is None else audible / chunk.sample_rate)
        if reply.audible:
            turn.phase = "speaking"

    def confirm(self, turn: Turn, now: float) -> None:
        """The final transcript is the text the speculative reply was started on."""
        reply, sink = self.current, self.sink
        assert reply is not None and sink is not None
        turn.phase = "replying"
        if reply.text:
            self.view.reply_text(reply.text)
        for chunk in reply.confirm():
            self.play(chunk, turn, now)
        if not reply.generating:
            reply.ends_at = sink.busy_until()

    def pause(self, at: float) -> None:
        if isinstance(self.sink, SupportsPause) and self.current is not None:
            self.sink.pause(at)
            self.current.pause()

    def resume(self, at: float) -> None:
        reply, sink = self.current, self.sink
        assert reply is not None and isinstance(sink, SupportsPause)
        sink.resume(at)
        reply.resume()
        if not reply.generating:
            reply.ends_at = sink.busy_until()

    def end(self, state: ReplyState) -> ReplyHandle | None:
        """Stop producing (the sink keeps what it has, see `stop`); the reply that ended."""
        reply, self.current = self.current, None
        if reply is not None and not reply.ended:
            reply.end(state)
        return reply

    def stop(self, state: ReplyState, at: float) -> ReplyHandle | None:
        """End the reply and silence the sink at once."""
        reply = self.end(state)
        if reply is not None and self.sink is not None:
            self.sink.stop(at)
        return reply

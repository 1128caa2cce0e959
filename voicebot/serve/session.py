"""One conversation of the server: the talk loop (voicebot/pipeline.py) on a worker thread,
fed by the socket and talking back through it.

The session owns everything per conversation (listener and VAD state, chat history, reply,
session log); the models are the server's shared engines. The asyncio side only pushes
audio in (`feed`, `end`, `abort`) and takes messages out through `post`, a callback that
hands them to the event loop thread-safely; nothing here blocks the event loop.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from voicebot.engines import Engines
from voicebot.heap import release_free_heap
from voicebot.metrics import SessionLog, TurnRecord
from voicebot.serve.audio_io import SessionClosed, SocketSink, SocketSource, WakeableClock
from voicebot.serve.protocol import INPUT_SAMPLE_RATE, ProtocolError, event

if TYPE_CHECKING:
    from voicebot.pipeline import Conversation

log = logging.getLogger("voicebot.serve")

Post = Callable[[bytes | str], None]


class SocketView:
    """The ConversationView of a remote client: each update becomes a JSON event."""

    def __init__(self, post: Post) -> None:
        self.post = post

    def partial(self, committed: str, partial: str) -> None:
        self.post(event("partial", committed=committed, partial=partial))

    def user_said(self, text: str) -> None:
        self.post(event("final", text=text))

    def reply_text(self, delta: str) -> None:
        self.post(event("reply_text", text=delta))

    def turn_done(self, turn: TurnRecord) -> None:
        self.post(event("turn", **turn.to_json()))

    def notice(self, message: str) -> None:
        self.post(event("notice", message=message))


class Session:
    """Runs one conversation on its own thread, started by the first audio (so the loop's
    clock and the audio time start together) or by `end`."""

    def __init__(
        self,
        session_id: str,
        engines: Engines,
        cfg: Any,
        post: Post,
        on_done: Callable[[], None],
        log_path: Path | None,
    ) -> None:
        self.id = session_id
        self.engines = engines
        self.cfg = cfg
        self.post = post
        self.on_done = on_done
        self.log_path = log_path
        block = INPUT_SAMPLE_RATE * cfg.audio.frame_ms // 1000
        self.source = SocketSource(INPUT_SAMPLE_RATE, block)
        self.sink = SocketSink(post, engines.reply_sample_rate)
        self.turns: list[TurnRecord] = []
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # ---- from the event loop ----------------------------------------------------------
    def feed(self, samples: np.ndarray) -> None:
        self.source.push(samples)
        self._start()

    def end(self) -> None:
        """No more audio: answer what was said, then finish."""
        self.source.end()
        self._start()

    def abort(self) -> None:
        """The client is gone: stop at the next step, dropping the reply in progress."""
        self.source.abort()
        with self._lock:
            if self._thread is None:  # never started: nothing to wait for
                self._thread = threading.Thread(target=lambda: None)
                self._finish()

    def declare_live(self) -> None:
        """The client's audio is a live microphone beside the speaker that plays the
        replies: the conversation cancels echo and takes barge-in (audio_io.py)."""
        if self.started:
            raise ProtocolError('"live" must come before the first audio')
        self.source.live = self.sink.live = True

    @property
    def started(self) -> bool:
        return self._thread is not None

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(
                target=self._run, name=f"voicebot-session-{self.id}", daemon=True)
            self._thread.start()

    # ---- on the worker thread ---------------------------------------------------------
    def _run(self) -> None:
        try:
            self._converse()
        except Exception as exc:  # a bug must end this session only, and say so
            log.exception("session %s failed", self.id)
            self.post(event("error", message=f"the session failed: {type(exc).__name__}: {exc}"))
        finally:
            # The conversation's objects sit in reference cycles, which wait for the
            # garbage collector's next full pass: in 100 sessions RSS climbed ~15 MB a
            # session until one came. Free them now, then hand the memory back.
            gc.collect()
            release_free_heap()  # voicebot/heap.py
            self._finish()

    def _finish(self) -> None:
        with contextlib.suppress(RuntimeError):  # the event loop is closed (shutdown)
            self.on_done()

    def build(self) -> Conversation:
        """This session's conversation: the builder's, at the wire's sample rate, with the
        prompt prefill off (the sessions share one LLM: a prefill would evict another
        session's prompt cache and hold its reply up)."""
        from voicebot.assembly import Overrides, build_conversation

        cfg = dataclasses.replace(self.cfg, audio=dataclasses.replace(
            self.cfg.audio, sample_rate=INPUT_SAMPLE_RATE))
        session_log = None
        if self.log_path is not None:
            session_log = SessionLog(self.log_path, {"config": str(cfg.source),
                                                     "input": f"websocket {self.id}"})
        return build_conversation(cfg, self.engines, clock=WakeableClock(self.source.wake),
                                  view=SocketView(self.post), log=session_log,
                                  overrides=Overrides(prefill=False))

    def _converse(self) -> None:
        conversation = self.build()
        self.turns = conversation.turns
        try:
            conversation.run(self.source, self.sink)
        except SessionClosed:
            # Cancel the reply in progress (LLM request, synthesis) and log its turn as
            # interrupted, as Ctrl-C does in `voicebot talk`.
            conversation.interrupt(self.sink, "the client disconnected")
        finally:
            path = self.log_path
            if path is not None and path.is_file() and path.stat().st_size == 0:
                path.unlink()  # opened early; no turn was finished

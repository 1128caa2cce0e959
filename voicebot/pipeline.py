"""The talk loop's orchestrator: one thread, cooperative steps, the only reader of the clock.

Each pass of the loop takes the input frames that have arrived (VAD and endpointing are
cheap), then does ONE unit of expensive work: a Whisper decode while the user speaks, or one
LLM token / TTS chunk while the bot replies. Playback runs on the audio device's thread, so
the LLM keeps generating while a sentence plays. Because every step is pulled from here, a
FakeClock makes whole conversations exact and repeatable in tests.

With a microphone and a speaker in one room, an echo canceller (audio/echo.py) removes the
bot's voice from the input, the microphone stays open while the bot talks, and the user's
speech over a reply (barge-in) cancels the LLM and TTS and cuts playback; it becomes the next
turn. Without one (or with `barge_in: false`) the loop is half-duplex: while the bot is
replying or playing, the microphone is muted (its frames are replaced by silence, so audio
time stays continuous).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from voicebot.audio.clockmap import AudioClockMap
from voicebot.audio.echo import (
    EchoCancellation,
    EchoCanceller,
    EchoMode,
    EchoTap,
    WebRtcEchoCanceller,
    echo_wanted,
)
from voicebot.audio.levels import first_audible, rms_dbfs
from voicebot.audio.sinks import AudioSink, Playback
from voicebot.audio.sources import AudioSource
from voicebot.capabilities import LiveInput, RecordsPlayback, SupportsPause, SupportsPrefill
from voicebot.clock import Clock
from voicebot.config import ConversationConfig, TextConfig
from voicebot.errors import AudioDeviceError
from voicebot.events import (
    AudioFrame,
    ChatMessage,
    EmittedWord,
    SpeechEnded,
    SpeechStarted,
    TranscriptUpdate,
    UtteranceFinal,
)
from voicebot.heap import release_free_heap
from voicebot.listener import Listener
from voicebot.llm.base import Llm
from voicebot.llm.history import ChatHistory
from voicebot.llm.prefill import Prefiller
from voicebot.metrics import PauseRecord, SessionLog, TurnRecord, TurnStatus
from voicebot.reply import (
    AudioChunk,
    FirstToken,
    ReplyEvent,
    SentenceReady,
    StageFailure,
    TextDelta,
    reply_events,
)
from voicebot.reply_worker import Pending, ReplyWorker
from voicebot.tts.base import Tts
from voicebot.turn.interjection import asks_to_stop, classify
from voicebot.view import ConversationView

WORKER_JOIN_TIMEOUT_S = 30.0  # a prompt evaluation cannot be stopped; it ends within this
MUTED_NOTICE_S = 0.3  # voice while muted below this is a click or a breath: logged only
MUTED_VOICE_DBFS = -40.0  # quieter input while muted is not counted as speech


REPLY_MARKS = ("llm_start", "llm_first_token", "first_sentence", "tts_first_audio")

ReplyFn = Callable[
    [Llm, Tts, TextConfig, Sequence[ChatMessage], threading.Event], Iterator[ReplyEvent]
]


@dataclass
class _Pause:
    """The reply paused at `at` (session time) for the user's voice that began at `onset`
    (audio time); `quiet_since` is when that voice last went quiet (None while it goes on)."""

    at: float
    onset: float
    quiet_since: float | None = None
    speech_end: float | None = None  # the interjection's end of speech and endpoint, kept
    endpoint: float | None = None  # for the turn it becomes if it takes the floor
    words_heard: bool = False  # a decode of it had real words: wait for its final


@dataclass
class _Reply:
    events: Iterator[ReplyEvent | Pending]
    cancel: threading.Event
    sentences: list[str] = field(default_factory=list)
    starts: dict[int, Playback] = field(default_factory=dict)  # sentence -> its first audio
    first_heard: tuple[Playback, float] | None = None  # first audible chunk, sample offset (s)
    text: str = ""
    generating: bool = True
    speculative_text: str | None = None  # set while the reply is held before the endpoint
    held: list[AudioChunk] = field(default_factory=list)

    @property
    def waiting(self) -> bool:
        """A speculative reply with audio ready waits for the endpoint: no more work."""
        return self.speculative_text is not None and bool(self.held)

    def heard_by(self, t: float) -> str:
        """The sentences whose playback had started by elapsed time `t` (what the user
        heard, at least in part, when a reply is cut)."""
        return " ".join(s for i, s in enumerate(self.sentences)
                        if i in self.starts and self.starts[i].start < t)

    def heard_from(self) -> float | None:
        """When the first audible sample of the reply was (or will be) heard: the device's
        own figure once it has played it, else the expected time."""
        if self.first_heard is None:
            return None
        playback, offset = self.first_heard
        return playback.start + offset


class Conversation:
    """Runs turns from an AudioSource to an AudioSink until the source ends (or Ctrl-C)."""

    def __init__(
        self,
        *,
        listener: Listener,
        llm: Llm,
        tts: Tts,
        text_cfg: TextConfig,
        conversation_cfg: ConversationConfig,
        clock: Clock,
        view: ConversationView,
        log: SessionLog | None = None,
        speed: float = 1.0,
        reply_fn: ReplyFn = reply_events,
        reply_thread: bool = False,
        prefill_thread: bool = True,
        echo_mode: EchoMode = "off",
        make_canceller: Callable[[int], EchoCanceller] = WebRtcEchoCanceller,
        echo_recording: Path | None = None,
    ) -> None:
        """`reply_fn` makes the reply path: streaming by default; the benchmark passes
        `reply.whole_reply_events` to run the naive cascade on the same loop.
        `reply_thread` computes it on a worker thread (voicebot/reply_worker.py), so the
        microphone is read every few milliseconds while a sentence is synthesized; for a
        real clock only (the worker waits in real time). `prefill_thread=False` runs the
        prompt prefill (llm/prefill.py) inline, for scenario tests on a fake clock.
        `echo_mode` (auto, on, off) says whether `make_canceller(sample_rate)` cleans the
        input of what the sink played (audio/echo.py); decided per run, from the devices.
        `echo_recording`: a WAV of what the canceller saw (audio/echo.py's EchoTap)."""
        self.listener = listener
        self.llm = llm
        self.tts = tts
        self.text_cfg = text_cfg
        self.barge_in_setting = conversation_cfg.barge_in
        self.barge_in = conversation_cfg.barge_in is True
        self.echo_mode = echo_mode
        self.make_canceller = make_canceller
        self.echo_recording = echo_recording
        self.echo: EchoCancellation | None = None
        self.speculative = conversation_cfg.speculative_reply
        self.prefill = conversation_cfg.prefill
        self.clock = clock
        self.view = view
        self.log = log
        self.speed = speed
        self.reply_fn = reply_fn
        self.reply_thread = reply_thread
        self.prefill_thread = prefill_thread
        self.history = ChatHistory(
            conversation_cfg.system_prompt, conversation_cfg.history_tokens, llm.count_tokens
        )
        self.turns: list[TurnRecord] = []
        self.words: list[EmittedWord] = []
        self._t0 = 0.0
        self._turn: TurnRecord | None = None
        self._reply: _Reply | None = None
        self._dropped_onsets: set[float] = set()
        self._speculated: str | None = None  # the last text a speculative reply used
        self._sink: AudioSink | None = None
        self._audio_clock = AudioClockMap(speed)
        self._prefiller: Prefiller | None = None
        self._prefill_error: BaseException | None = None
        self._part_start = 0  # self.words from here on were said since the last onset
        self._prefill_due: str | None = None  # words to prefill once the input is read
        self._workers: list[ReplyWorker] = []  # reply threads, cancelled ones until they end
        self.resume_after_s = conversation_cfg.resume_after_s
        self.continue_within_s = conversation_cfg.continue_within_s
        self._pause: _Pause | None = None  # the reply is paused for the user's voice
        self._resumed: _Pause | None = None  # resumed by the timer, its utterance still open

    # ---- the loop -------------------------------------------------------------------
    def run(self, source: AudioSource, sink: AudioSink) -> list[TurnRecord]:
        """Converse until the source is exhausted and the last reply has played.

        KeyboardInterrupt cancels the reply in progress, logs it as interrupted and is
        re-raised, so the caller can exit cleanly with every finished turn logged.
        """
        self._sink = sink
        self._audio_clock = AudioClockMap(self.speed, source.latency)
        self.echo = self._echo_stage(source, sink)
        self.barge_in = self.barge_in_setting is True or \
            (self.barge_in_setting == "auto" and self.echo is not None)
        if self.echo is not None:
            self.view.notice("(echo cancellation on: speak over the bot to interrupt it; it "
                             "learns the room during its first seconds of speech)")
        if self.prefill and isinstance(self.llm, SupportsPrefill):
            self._prefiller = Prefiller(self.llm.prefill, self._prefill_failed,
                                        self.prefill_thread)
        source.start()
        self._t0 = self.clock.now()
        try:
            while not self._finished(source, sink):
                self._take_input(source, sink)
                self._follow_the_voice()
                self._prefill_if_speaking()
                self._maybe_speculate()
                if self.listener.has_work():
                    self._listen_step()
                    self._maybe_speculate()  # before the frames that arrived meanwhile
                    # can fire the endpoint: the reply starts as soon as the pause decode ends
                elif (reply := self._reply) is not None and reply.generating and not reply.waiting:
                    self._reply_step(sink)
                else:
                    self._finish_playback_if_done(sink)
                    self._idle(source, sink)
        except KeyboardInterrupt:
            self.interrupt(sink, "stopped by Ctrl-C")
            raise
        except AudioDeviceError as exc:
            self.interrupt(sink, f"audio device lost: {exc}")
            raise
        finally:
            if self._prefiller is not None:
                self._prefiller.close()
                self._prefiller = None
            self._join_workers()
            if self.echo is not None and self.echo.tap is not None:
                self.echo.tap.close()
        return self.turns

    def _echo_stage(self, source: AudioSource, sink: AudioSink) -> EchoCancellation | None:
        live_input = isinstance(source, LiveInput) and source.live
        live_output = isinstance(sink, RecordsPlayback) and sink.live
        if not echo_wanted(self.echo_mode, live_input=live_input, live_output=live_output):
            return None
        if not isinstance(sink, RecordsPlayback):
            self.view.notice("(echo cancellation: this output does not say what it played, "
                             "so there is nothing to cancel with; off)")
            return None
        rate = self.listener.sample_rate
        tap = EchoTap(self.echo_recording, rate) if self.echo_recording else None
        return EchoCancellation(self.make_canceller(rate), sink.played,
                                lambda audio_time: self._audio_clock.to_clock(audio_time), tap)

    def _join_workers(self) -> None:
        """Wait for every reply thread, the cancelled ones too, to leave its backends.

        A cancelled reply stops at the LLM's next token, but not inside a prompt evaluation
        (half a second or more with the 1.5B model). A process that exits while a thread is
        still inside llama.cpp aborts ("terminate called without an active exception",
        status -6 instead of 130 after Ctrl-C), so the loop does not return before them."""
        workers, self._workers = self._workers, []
        for worker in workers:
            worker.close()
        for worker in workers:
            worker.join(WORKER_JOIN_TIMEOUT_S)

    def elapsed(self) -> float:
        return self.clock.now() - self._t0

    def _finished(self, source: AudioSource, sink: AudioSink) -> bool:
        if not source.finished or self._reply is not None or self.listener.has_work():
            return False
        if self.listener.in_speech:  # the input ended mid-utterance: close it, answer it
            for event in self.listener.end_of_input():
                self._on_vad_event(event, sink)
            return False
        return True

    def _idle(self, source: AudioSource, sink: AudioSink) -> None:
        now = self.elapsed()
        wait = source.seconds_until_next(now)
        playing = sink.busy_until() - now
        if self._reply is not None and playing > 0:  # wake when the reply has played
            wait = min(wait, playing)
        if self._pause is not None:  # and for the pause's timer
            wait = min(wait, 0.05)
        if wait == float("inf"):
            return
        self.clock.sleep(min(wait, 0.05))

    # ---- input ----------------------------------------------------------------------
    def _take_input(self, source: AudioSource, sink: AudioSink) -> None:
        now = self.elapsed()
        frames = source.read_available(now)
        if frames:
            self._audio_clock.observe(frames[-1].end, now)
        for frame in frames:
            if self.echo is not None:
                frame = self._cancel_echo(self.echo, frame)
            if self._muted(sink):
                self._note_muted(frame, playing=sink.busy_until() > self.elapsed())
                frame = AudioFrame(np.zeros_like(frame.samples), frame.sample_rate, frame.start)
            for event in self.listener.push_audio(frame):
                self._on_vad_event(event, sink)

    def _cancel_echo(self, echo: EchoCancellation, frame: AudioFrame) -> AudioFrame:
        """The frame without the bot's voice; says once when the canceller has learned the
        room, since until then the user cannot interrupt (audio/echo.py's LEARN_FRAMES)."""
        learning = not echo.learned
        frame = echo.process(frame)
        if learning and echo.learned:
            self.view.notice("(echo cancellation: room learned; you can now speak over the "
                             "bot to interrupt it)")
        return frame

    def _note_muted(self, frame: AudioFrame, *, playing: bool) -> None:
        """Dropped speech is never silent: voice-level sound while muted is added up on the
        turn (`muted_speech_s` in the log; the view says so when the turn ends), and while
        the reply is playing it is the turn's overlap (`overlap_s`: the reply began before
        the user had finished). Without headphones this includes the bot's own voice
        picked up by the microphone."""
        turn = self._turn
        if turn is not None and len(frame.samples) and \
                rms_dbfs(frame.samples) >= MUTED_VOICE_DBFS:
            seconds = len(frame.samples) / frame.sample_rate
            turn.muted_speech_s += seconds
            if playing:
                turn.overlap_s += seconds

    def _muted(self, sink: AudioSink) -> bool:
        """Half-duplex: the bot does not hear itself while its reply plays (gaps between
        sentences included). Before the first
        reply audio the microphone stays open, so a user who goes on talking after a pause
        is heard (the pending reply is dropped). After a forced cut of a monologue the
        microphone is closed until the reply is over, so the reply can happen at all."""
        if self.barge_in:
            return False
        if sink.busy_until() > self.elapsed():
            return True
        turn = self._turn
        if self._reply is None or turn is None:
            return False
        return turn.forced or "playback_start" in turn.marks  # a gap between sentences

    def _on_vad_event(self, event: SpeechStarted | SpeechEnded, sink: AudioSink) -> None:
        if isinstance(event, SpeechStarted):
            self._on_speech_started(event, sink)
        elif (over := self._pause or self._resumed) is not None:
            # the end of what was said over the reply
            over.speech_end = self._audio_clock.to_clock(event.last_speech)
            over.endpoint = self.elapsed()
        elif self._turn is not None:
            self._turn.mark("speech_end", self._audio_clock.to_clock(event.last_speech))
            self._turn.mark("endpoint", self.elapsed())
            if event.forced:
                self._turn.forced = True
                self.view.notice("(long utterance: cut here so the reply can start)")

    def _on_speech_started(self, event: SpeechStarted, sink: AudioSink) -> None:
        turn = self._turn
        if self._pause is not None:
            return  # more of what is being said over the paused reply
        if turn is not None and "playback_start" in turn.marks:
            if self.resume_after_s > 0 and isinstance(sink, SupportsPause):
                self._pause_reply(event, sink)
                return
            self.interrupt(sink, "barge-in: the user spoke over the reply")
        elif turn is not None and turn.forced:
            # A monologue cut at max_utterance_s goes on while its first part is answered:
            # the microphone is muted until the reply is over, and this part is dropped.
            self._dropped_onsets.add(event.at)
            return
        elif turn is not None:
            # The user went on after a pause, before any reply audio: same turn, and the
            # reply (if one was being prepared) waits until they finish.
            self._drop_reply()
            turn.marks = {"speech_start": turn.marks["speech_start"]}
            self._part_start = len(self.words)
            return
        self._turn = TurnRecord(index=len(self.turns) + 1)
        self._turn.mark("speech_start", self._audio_clock.to_clock(event.at))
        self.words = []
        self._part_start = 0

    def _listen_step(self) -> None:
        try:
            result = self.listener.work()
        except Exception as exc:  # a backend failure must not end the conversation
            self.listener.discard()
            self._fail(f"asr failed: {type(exc).__name__}: {exc}")
            return
        now = self.elapsed()
        if isinstance(result, TranscriptUpdate):
            if self._pause is not None or self._resumed is not None:
                self._note_words_over_reply(result)
                return  # words said over the reply: judged on the final
            self.words.extend(EmittedWord(w, now) for w in result.committed)
            committed = " ".join(w.word.text for w in self.words)
            self.view.partial(committed, " ".join(w.text for w in result.partial))
            if (result.committed or result.partial) and self.listener.tentative_text() is None:
                # (else a reply starts now) the part of the turn said since the last pause,
                # committed words and the newest hypothesis of the rest: the prompt cache
                # keeps the longest common prefix, so the words that stay are read once
                self._prefill_due = " ".join(
                    [w.word.text for w in self.words[self._part_start:]]
                    + [w.text for w in result.partial])
        elif isinstance(result, UtteranceFinal):
            self._on_utterance(result, now)

    def _on_utterance(self, final: UtteranceFinal, now: float) -> None:
        if self._resumed is not None and final.speech_start == self._resumed.onset:
            self._judge_resumed(final)
            return
        if self._pause is not None:
            self._judge_pause(final)
            return
        turn = self._turn
        if final.speech_start in self._dropped_onsets:
            self._dropped_onsets.discard(final.speech_start)
            return
        if turn is None:
            return
        text = final.text.strip()
        speculative = self._reply.speculative_text if self._reply is not None else None
        if self._reply is not None and speculative is None:
            return  # a reply is already under way (after a forced cut)
        if text:
            turn.user_text = f"{turn.user_text} {text}".strip()
            self.history.add_user(text)  # consecutive parts merge into one user message
        if self.listener.in_speech and not turn.forced:
            return  # the user is already speaking again: answer when they stop
        if not turn.user_text:
            self.view.notice("(heard sound but no words; still listening)")
            self._turn = None
            return
        turn.mark("asr_final", now)
        self.view.user_said(turn.user_text)
        messages = self.history.messages()
        if speculative is not None and messages[-1].content == speculative:
            self._release_speculative_reply(now)
            return
        self._drop_reply()  # the final differs from the text the reply was started on
        self._start_reply(messages, None)

    def _maybe_speculate(self) -> None:
        """In the pause before the endpoint, start the reply on the text the listener will
        most likely finalise. Its audio is held until the final transcript confirms it; if the
        user goes on, or the final differs, the reply is dropped."""
        turn = self._turn
        if not self.speculative or turn is None or turn.forced:
            return
        tentative = self.listener.tentative_text()
        reply = self._reply
        if reply is not None:
            if reply.speculative_text is not None and self.listener.in_speech and \
                    tentative is None:
                self._drop_reply()  # the user spoke again within the pause
            return
        if not tentative:
            return
        # the user message as the history will hold it once this text is final (parts of a
        # turn said after pauses merge into one message)
        messages = self.history.messages_with_user(tentative)
        message = messages[-1].content
        if message == self._speculated:
            return  # this text was tried already (its reply was empty)
        self._speculated = message
        self._start_reply(messages, message)

    def _prefill_if_speaking(self) -> None:
        """Offer the words a decode committed, once the audio that arrived during that
        decode is read: not if the user has paused since. The pause decode runs then, and
        the reply right after it; a prefill beside them (0.1-0.3 s of the LLM's threads)
        slowed the decode by as much on 2 cores, and the reply evaluates those words
        anyway. If the user goes on, the next commit offers them again."""
        heard, self._prefill_due = self._prefill_due, None
        if heard is not None and not self.listener.in_pause:
            self._offer_prefill(heard)

    def _offer_prefill(self, heard: str) -> None:
        """While nothing else needs the LLM, let it read the conversation up to the words
        heard so far (llm/prefill.py): the reply then evaluates only what is new."""
        if self._prefill_error is not None and self._prefiller is not None:
            self.view.notice(f"(prompt prefill off after an error: {self._prefill_error})")
            self._prefiller = None
        if self._prefiller is not None and self._reply is None:
            self._prefiller.offer(self.history.messages_with_user(heard))

    def _prefill_failed(self, exc: BaseException) -> None:
        self._prefill_error = exc  # shown by the loop's thread (_offer_prefill)

    def _start_reply(self, messages: Sequence[ChatMessage], speculative: str | None) -> None:
        turn = self._turn
        assert turn is not None
        if self._prefiller is not None:
            self._prefiller.cancel()
        turn.mark("llm_start", self.elapsed())
        cancel = threading.Event()
        events = self.reply_fn(self.llm, self.tts, self.text_cfg, messages, cancel)
        stream: Iterator[ReplyEvent | Pending] = events
        if self.reply_thread:
            self._workers = [w for w in self._workers if w.alive]
            stream = ReplyWorker(events, cancel)
            self._workers.append(stream)
        self._reply = _Reply(stream, cancel, speculative_text=speculative)

    def _release_speculative_reply(self, now: float) -> None:
        reply = self._reply
        assert reply is not None
        reply.speculative_text = None
        if reply.text:
            self.view.reply_text(reply.text)
        held, reply.held = reply.held, []
        for chunk in held:
            self._play(chunk, now)
        if not reply.generating and self._turn is not None and self._sink is not None:
            self._turn.mark("playback_end", self._sink.busy_until())

    def _drop_reply(self) -> None:
        """Forget a reply that produced no audible output (the user went on talking), and
        its marks: the figures describe the reply that is heard."""
        if self._reply is not None:
            self._reply.cancel.set()
            _close(self._reply.events)
            self._reply = None
        if self._turn is not None:
            for name in REPLY_MARKS:
                self._turn.marks.pop(name, None)

    # ---- reply ----------------------------------------------------------------------
    def _reply_step(self, sink: AudioSink) -> None:
        reply, turn = self._reply, self._turn
        assert reply is not None and turn is not None
        try:
            event = next(reply.events)
        except StopIteration:
            self._reply_generated(sink)
            return
        except StageFailure as exc:
            self._fail(str(exc), sink, "truncated" if exc.truncated else "failed")
            return
        if isinstance(event, Pending):
            return  # computing on the worker: back to the microphone
        now = self.elapsed()
        if isinstance(event, FirstToken):
            turn.mark("llm_first_token", now)
            turn.llm_threads = getattr(self.llm, "threads_used", None)
        elif isinstance(event, TextDelta):
            reply.text += event.text
            if reply.speculative_text is None:  # a speculative reply shows once confirmed
                self.view.reply_text(event.text)
        elif isinstance(event, SentenceReady):
            turn.mark("first_sentence", now)
            reply.sentences.append(event.text)
        elif isinstance(event, AudioChunk):
            turn.mark("tts_first_audio", now)
            if reply.speculative_text is not None:
                reply.held.append(event)  # played once the endpoint confirms the text
            else:
                self._play(event, now)

    def _play(self, chunk: AudioChunk, now: float) -> None:
        reply, turn, sink = self._reply, self._turn, self._sink
        assert reply is not None and turn is not None and sink is not None
        if reply.starts and self._pause is None and (late := now - sink.busy_until()) > 0:
            turn.stall_s += late  # the reply had started and ran dry: a gap in its audio
        playback = sink.play(chunk.samples, chunk.sample_rate, now)
        reply.starts.setdefault(chunk.sentence_index, playback)
        turn.reply_audio_s += chunk.duration
        if reply.first_heard is None and (audible := first_audible(chunk.samples)) is not None:
            reply.first_heard = (playback, audible / chunk.sample_rate)
            turn.mark("playback_start", playback.start + audible / chunk.sample_rate)

    def _reply_generated(self, sink: AudioSink) -> None:
        reply, turn = self._reply, self._turn
        assert reply is not None and turn is not None
        reply.generating = False
        turn.reply_text = " ".join(reply.sentences)
        if not reply.sentences and reply.speculative_text is not None:
            self._drop_reply()  # not confirmed yet: the final transcript asks again
            return
        if not reply.sentences:
            self._fail("the model returned an empty reply", sink)
            return
        if reply.speculative_text is None:  # else marked when the held audio is released
            turn.mark("playback_end", sink.busy_until())

    def _finish_playback_if_done(self, sink: AudioSink) -> None:
        reply = self._reply
        if reply is None or reply.generating or reply.speculative_text is not None or \
                self._pause is not None:
            return  # still generating, waiting for the endpoint to confirm it, or paused
        if sink.busy_until() <= self.elapsed():
            self._end_turn()

    # ---- the user's voice over the reply (full duplex) -------------------------------
    def _pause_reply(self, event: SpeechStarted, sink: SupportsPause) -> None:
        """The reply goes silent at once; what the voice says decides whether it resumes
        (turn/interjection.py)."""
        now = self.elapsed()
        sink.pause(now)
        self._pause = _Pause(at=now, onset=event.at)
        self.view.notice("(paused: you spoke)")

    def _judge_pause(self, final: UtteranceFinal) -> None:
        kind = self._classify(final.text)
        if kind == "words":
            self._take_floor(final)
        else:
            self._resume(kind, final.text)

    def _judge_resumed(self, final: UtteranceFinal) -> None:
        """The final of a voice the timer gave up on: real words take the floor late (as
        LiveKit's agents do); anything else only goes in the log."""
        pause, self._resumed = self._resumed, None
        assert pause is not None and self._turn is not None
        kind = self._classify(final.text)
        if kind == "words" and self._reply is not None and isinstance(self._sink, SupportsPause):
            pause.at = self.elapsed()
            self._sink.pause(pause.at)
            self._pause = pause
            self._take_floor(final)
        elif self._turn.pauses:
            record = self._turn.pauses[-1]
            record.heard, record.kind = final.text.strip(), kind

    def _note_words_over_reply(self, update: TranscriptUpdate) -> None:
        """Real words in a decode of the voice over the reply: it is speech, so the timer
        waits for the final (a turn detector may hold an unfinished phrase for 2 s)."""
        pause = self._pause or self._resumed
        heard = " ".join(w.text for w in (*update.committed, *update.partial))
        if pause is not None and self._classify(heard) == "words":
            pause.words_heard = True

    def _classify(self, text: str) -> str:
        echo_possible = self.echo is not None and not self.echo.no_echo_path
        reply_text = self._reply.text if self._reply is not None else ""
        return classify(text, reply_text, echo_possible=echo_possible)

    def _follow_the_voice(self) -> None:
        """While paused, resume once the voice has been quiet `resume_after_s` and no decode
        of it had real words; a voice the timer gave up on that speaks again pauses the reply
        again (it is the same utterance, so no new onset comes)."""
        voice = self.listener.in_speech and not self.listener.in_pause
        now = self.elapsed()
        if self._pause is None:
            resumed, sink = self._resumed, self._sink
            if resumed is not None and voice and isinstance(sink, SupportsPause):
                self._resumed = None
                sink.pause(now)
                self._pause = dataclasses.replace(resumed, at=now, quiet_since=None)
                self.view.notice("(paused: you spoke)")
            return
        pause = self._pause
        if voice:
            pause.quiet_since = None
        elif pause.quiet_since is None:
            pause.quiet_since = now
        elif now - pause.quiet_since >= self.resume_after_s and not pause.words_heard:
            self._resume("silence", "")

    def _resume(self, kind: str, heard: str) -> None:
        pause, turn, sink = self._pause, self._turn, self._sink
        assert pause is not None and turn is not None and isinstance(sink, SupportsPause)
        self._pause = None
        if self.listener.in_speech:  # its utterance is still open: its final may have words
            self._resumed = pause
        now = self.elapsed()
        sink.resume(now)
        turn.pauses.append(PauseRecord(at=pause.at, paused_s=now - pause.at,
                                       heard=heard.strip(), kind=kind))
        if self._reply is not None and not self._reply.generating:
            turn.marks["playback_end"] = sink.busy_until()
        said = f"'{heard.strip()}' is {kind}" if heard.strip() else "no words"
        self.view.notice(f"(resumed: {said})")

    def _take_floor(self, final: UtteranceFinal) -> None:
        """Real words over the reply: it stops for good, and they are the next turn. Said
        in the reply's first seconds they continue the user's turn instead: the reply is
        dropped (not kept in the history) and the whole sentence is answered once."""
        pause, turn, reply, sink = self._pause, self._turn, self._reply, self._sink
        assert pause is not None and turn is not None and reply is not None
        assert sink is not None
        self._pause = None
        heard_from = turn.marks.get("playback_start", pause.at)
        continues = pause.at - heard_from < self.continue_within_s and \
            not asks_to_stop(final.text)
        if continues:
            turn.continued_by = turn.index + 1
            earlier = turn.user_text
            # not kept in the history: the user message goes on
            self._cut_reply(sink, "the user went on: the whole sentence is answered once",
                            heard_by=pause.at, keep=False)
        else:
            earlier = ""
            self.interrupt(sink, "barge-in: the user spoke over the reply")
        new = TurnRecord(index=len(self.turns) + 1, user_text=earlier)
        new.mark("speech_start", self._audio_clock.to_clock(pause.onset))
        if pause.speech_end is not None and pause.endpoint is not None:
            new.mark("speech_end", pause.speech_end)
            new.mark("endpoint", pause.endpoint)
        self._turn = new
        self.words = []
        self._part_start = 0
        self._on_utterance(final, self.elapsed())

    # ---- endings --------------------------------------------------------------------
    def _end_turn(self) -> None:
        turn, reply = self._turn, self._reply
        if turn is not None and reply is not None and (heard := reply.heard_from()) is not None:
            turn.marks["playback_start"] = heard  # the device's figure, now that it played
        self._reply = None
        self._turn = None
        self._pause = self._resumed = None
        if turn is None:
            return
        if turn.status == "ok":
            self.history.add_assistant(turn.reply_text)
        turn.mark("turn_end", self.elapsed())
        if turn.muted_speech_s >= MUTED_NOTICE_S:
            self.view.notice(f"(you spoke for {turn.muted_speech_s:.1f} s while the bot was "
                             "talking: not heard; wait for the reply, or use --barge-in)")
        self.turns.append(turn)
        if self.log is not None:
            self.log.append(turn)
        release_free_heap()  # the turn's freed native memory back to the system (heap.py)
        self.view.turn_done(turn)
        self._offer_prefill("")  # the history as it now is, before the user speaks again

    def _fail(self, reason: str, sink: AudioSink | None = None,
              status: TurnStatus = "failed") -> None:
        if self._reply is not None:
            if self._turn is not None:  # logged, never spoken on or kept in the history
                self._turn.partial_reply = self._reply.text
            self._reply.cancel.set()
            _close(self._reply.events)
            if sink is not None:
                sink.stop(self.elapsed())
        turn = self._turn or TurnRecord(index=len(self.turns) + 1)
        self._turn = turn
        turn.status = status
        turn.error = reason
        self.view.notice(f"turn {turn.index} failed: {reason}; still listening")
        self._end_turn()

    def interrupt(self, sink: AudioSink, reason: str) -> None:
        """Cancel the reply in progress (LLM request, synthesis) and log its turn as
        interrupted with what the user heard of it."""
        self._cut_reply(sink, reason, heard_by=self.elapsed(), keep=True)

    def _cut_reply(self, sink: AudioSink, reason: str, *, heard_by: float,
                   keep: bool) -> None:
        """Stop the reply for good; its turn is logged interrupted with the sentences begun
        by `heard_by`, which go in the history if `keep`."""
        reply, turn = self._reply, self._turn
        if reply is None or turn is None:
            return
        reply.cancel.set()
        _close(reply.events)
        sink.stop(self.elapsed())
        turn.status = "interrupted"
        turn.error = reason
        turn.reply_text = reply.heard_by(heard_by)
        turn.partial_reply = reply.text
        if keep:
            self.history.add_assistant(turn.reply_text, interrupted=True)
        self.view.notice(f"({reason})")
        self._end_turn()


def _close(events: Iterator[ReplyEvent | Pending]) -> None:
    close = getattr(events, "close", None)
    if close is not None:
        close()

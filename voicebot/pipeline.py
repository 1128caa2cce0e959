"""The talk loop's orchestrator: one thread, cooperative steps, the only reader of the clock.

Each pass of the loop takes the input frames that have arrived (VAD and endpointing are
cheap), then does ONE unit of expensive work: a Whisper decode while the user speaks, or one
LLM token / TTS chunk while the bot replies. Playback runs on the audio device's thread, so
the LLM keeps generating while a sentence plays. Because every step is pulled from here, a
FakeClock makes whole conversations exact and repeatable in tests.

This module is the sequencing only, kept in one place on purpose (so it is longer than the
~300 lines of the others): what reaches the listener is input_gate.py's, the turn and the
reply are explicit state machines (turn_state.py, reply_handle.py), the user's voice over a
reply is floor.py's policy, work before the endpoint is speculation.py's, and threads are
workers.py's. With an echo canceller (audio/echo.py) the microphone stays open while the bot
talks and the user's speech over a reply (barge-in) pauses or cuts it; without one (or with
`barge_in: false`) the loop is half-duplex and the microphone is muted while the bot replies.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from voicebot.audio.clockmap import AudioClockMap
from voicebot.audio.echo import (
    EchoCancellation,
    EchoCanceller,
    EchoMode,
    EchoWords,
    WebRtcEchoCanceller,
)
from voicebot.audio.sinks import AudioSink
from voicebot.audio.sources import AudioSource
from voicebot.capabilities import SupportsPause, SupportsPrefill
from voicebot.clock import Clock
from voicebot.config import ConversationConfig, TextConfig
from voicebot.errors import AudioDeviceError
from voicebot.events import (
    ChatMessage,
    EmittedWord,
    SpeechEnded,
    SpeechStarted,
    TranscriptUpdate,
    UtteranceFinal,
)
from voicebot.floor import Floor
from voicebot.heap import release_free_heap
from voicebot.input_gate import cancel_echo, echo_stage, muted
from voicebot.listener import Listener
from voicebot.llm.base import Llm
from voicebot.llm.history import ChatHistory
from voicebot.metrics import PauseRecord, SessionLog, TurnRecord, TurnStatus
from voicebot.reply import StageFailure, reply_events
from voicebot.reply_handle import ReplyHandle
from voicebot.replying import ReplyFn, Replying
from voicebot.speculation import PromptPrefill, Speculation
from voicebot.tts.base import Tts
from voicebot.turn.interjection import classify
from voicebot.turn_state import Turn
from voicebot.view import ConversationView
from voicebot.workers import Workers

MUTED_NOTICE_S = 0.3  # voice while muted below this is a click or a breath: logged only



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
        workers: Workers | None = None,
        echo_mode: EchoMode = "off",
        make_canceller: Callable[[int], EchoCanceller] = WebRtcEchoCanceller,
        echo_recording: Path | None = None,
        echo_words: EchoWords = "linear",
    ) -> None:
        """`reply_fn` makes the reply path: streaming by default; the benchmark passes
        `reply.whole_reply_events` to run the naive cascade on the same loop. `workers`
        (workers.py) run the reply and the prompt prefill on threads (a real clock only),
        or inline (the default) for scenario tests on a fake clock; the builder gives the
        listener's turn verdicts the same ones. `echo_mode` (auto, on, off)
        says whether `make_canceller(sample_rate)` cleans the input of what the sink played
        (input_gate.py); decided per run, from the devices. `echo_recording`: a WAV of what
        the canceller saw (audio/echo.py's EchoTap). `echo_words`: what the recognizer hears
        while the bot talks (audio/linear_echo.py)."""
        self.listener = listener
        self.text_cfg = text_cfg
        self.barge_in_setting = conversation_cfg.barge_in
        self.barge_in = conversation_cfg.barge_in is True
        self.echo_mode = echo_mode
        self.make_canceller = make_canceller
        self.echo_recording = echo_recording
        self.echo_words = echo_words
        self.echo: EchoCancellation | None = None
        self.speculation = Speculation(conversation_cfg.speculative_reply)
        self.prefill = conversation_cfg.prefill
        self.clock = clock
        self.view = view
        self.log = log
        self.speed = speed
        self.workers = workers or Workers(threaded=False)
        self.replying = Replying(llm, tts, text_cfg, reply_fn, self.workers, view, self.elapsed)
        self.floor = Floor(conversation_cfg.resume_after_s, conversation_cfg.continue_within_s)
        self.history = ChatHistory(
            conversation_cfg.system_prompt, conversation_cfg.history_tokens, llm.count_tokens
        )
        self.turns: list[TurnRecord] = []
        self.words: list[EmittedWord] = []
        self._t0 = 0.0
        self._turn: Turn | None = None
        self._dropped_onsets: set[float] = set()
        self._sink: AudioSink | None = None
        self._audio_clock = AudioClockMap(speed)
        self._prompt = PromptPrefill(view)
        self._part_start = 0  # self.words from here on were said since the last onset

    # ---- the loop -------------------------------------------------------------------
    def run(self, source: AudioSource, sink: AudioSink) -> list[TurnRecord]:
        """Converse until the source is exhausted and the last reply has played.

        KeyboardInterrupt cancels the reply in progress, logs it as interrupted and is
        re-raised, so the caller can exit cleanly with every finished turn logged.
        """
        self._start(source, sink)
        try:
            while not self._finished(source, sink):
                self._take_input(source, sink)
                self._follow_the_voice()
                self._prompt.offer_heard(in_pause=self.listener.in_pause,
                                         replying=self._reply is not None,
                                         history=self.history)
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
            self.workers.close()
            if self.echo is not None and self.echo.tap is not None:
                self.echo.tap.close()
        return self.turns

    def _start(self, source: AudioSource, sink: AudioSink) -> None:
        self._sink = self.replying.sink = sink
        self._audio_clock = AudioClockMap(self.speed, source.latency)
        self.echo = echo_stage(self.echo_mode, source, sink, self.listener.sample_rate,
                               self.make_canceller, self._audio_clock.to_clock,
                               self.echo_recording, self.view, self.echo_words)
        self.barge_in = self.barge_in_setting is True or \
            (self.barge_in_setting == "auto" and self.echo is not None)
        if self.echo is not None:
            self.view.notice("(echo cancellation on: speak over the bot to interrupt it; it "
                             "learns the room during its first seconds of speech)")
        self._prompt = PromptPrefill(self.view)
        if self.prefill and isinstance(self.llm, SupportsPrefill):
            self._prompt.use(self.workers.prefiller(self.llm.prefill, self._prompt.failed))
        source.start()
        self._t0 = self.clock.now()

    def elapsed(self) -> float:
        return self.clock.now() - self._t0

    @property
    def _reply(self) -> ReplyHandle | None:
        return self.replying.current

    @property
    def llm(self) -> Llm:
        return self.replying.llm

    @property
    def tts(self) -> Tts:
        return self.replying.tts

    @tts.setter
    def tts(self, tts: Tts) -> None:
        self.replying.tts = tts

    @property
    def reply_fn(self) -> ReplyFn:
        return self.replying.reply_fn

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
        if self.floor.pause is not None:  # and for the pause's timer
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
                frame = cancel_echo(self.echo, frame, self.view)
            if self._muted(sink):
                frame = muted(frame, self._turn.record if self._turn else None,
                              playing=sink.busy_until() > self.elapsed())
            self.listener.over_reply(self._reply_playing())
            for event in self.listener.push_audio(frame):
                self._on_vad_event(event, sink)

    def _reply_playing(self) -> bool:
        """The reply is being spoken (gaps between its sentences included): a voice that
        starts now is over the bot: it pauses or cuts the reply, and the endpointer takes
        `start_over_reply_ms` to hear it start."""
        turn = self._turn
        return turn is not None and turn.phase == "speaking"

    def _muted(self, sink: AudioSink) -> bool:
        """Half-duplex: the bot does not hear itself while its reply plays (gaps between
        sentences included). Before the first reply audio the microphone stays open, so a
        user who goes on talking after a pause is heard (the pending reply is dropped).
        After a forced cut of a monologue the microphone is closed until the reply is over,
        so the reply can happen at all."""
        if self.barge_in:
            return False
        if sink.busy_until() > self.elapsed():
            return True
        turn = self._turn
        if self._reply is None or turn is None:
            return False
        return turn.forced or self._reply_playing()  # a gap between sentences

    def _on_vad_event(self, event: SpeechStarted | SpeechEnded, sink: AudioSink) -> None:
        if isinstance(event, SpeechStarted):
            self._on_speech_started(event, sink)
        elif self.floor.voice_over_reply is not None:  # the end of what was said over it
            self.floor.voice_ended(self._audio_clock.to_clock(event.last_speech), self.elapsed())
        elif self._turn is not None:
            self._turn.mark("speech_end", self._audio_clock.to_clock(event.last_speech))
            self._turn.mark("endpoint", self.elapsed())
            if event.forced:
                self._turn.record.forced = True
                self.view.notice("(long utterance: cut here so the reply can start)")

    def _on_speech_started(self, event: SpeechStarted, sink: AudioSink) -> None:
        turn = self._turn
        if self.floor.pause is not None:
            return  # more of what is being said over the paused reply
        if self._reply_playing():
            if self.floor.pauses_on_voice and isinstance(sink, SupportsPause):
                self._pause_reply(event.at, "(paused: you spoke)")
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
            turn.user_went_on()
            self._part_start = len(self.words)
            return
        self._begin_turn(self._audio_clock.to_clock(event.at))

    def _begin_turn(self, speech_start: float, user_text: str = "") -> Turn:
        self._turn = Turn.begin(len(self.turns) + 1, speech_start, user_text)
        self.words = []
        self._part_start = 0
        return self._turn

    # ---- listening ------------------------------------------------------------------
    def _listen_step(self) -> None:
        try:
            result = self.listener.work()
        except Exception as exc:  # a backend failure must not end the conversation
            self.listener.discard()
            self._fail(f"asr failed: {type(exc).__name__}: {exc}")
            return
        now = self.elapsed()
        if isinstance(result, TranscriptUpdate):
            if self.floor.voice_over_reply is not None:
                self._note_words_over_reply(result)
                return  # words said over the reply: judged on the final
            self.words.extend(EmittedWord(w, now) for w in result.committed)
            committed = " ".join(w.word.text for w in self.words)
            self.view.partial(committed, " ".join(w.text for w in result.partial))
            if (result.committed or result.partial) and self.listener.tentative_text() is None:
                # (else a reply starts now) what was said since the last pause
                self._prompt.heard([w.word.text for w in self.words[self._part_start:]]
                                   + [w.text for w in result.partial])
        elif isinstance(result, UtteranceFinal):
            self._on_utterance(result, now)

    def _on_utterance(self, final: UtteranceFinal, now: float) -> None:
        if self.floor.is_late_final(final.speech_start):
            self._judge_late_final(final)
            return
        if self.floor.pause is not None:
            self._judge_pause(final)
            return
        turn = self._turn
        if final.speech_start in self._dropped_onsets:
            self._dropped_onsets.discard(final.speech_start)
            return
        if turn is None or turn.phase != "listening":
            return  # (a reply is already under way after a forced cut)
        text = final.text.strip()
        if text:
            turn.record.user_text = f"{turn.record.user_text} {text}".strip()
            self.history.add_user(text)  # consecutive parts merge into one user message
        if self.listener.in_speech and not turn.forced:
            return  # the user is already speaking again: answer when they stop
        if not turn.record.user_text:
            self.view.notice("(heard sound but no words; still listening)")
            self._turn = None
            return
        turn.mark("asr_final", now)
        self.view.user_said(turn.record.user_text)
        messages = self.history.messages()
        reply = self._reply
        if reply is not None and messages[-1].content == reply.speculative_text:
            self.replying.confirm(turn, now)
            return
        self._drop_reply()  # the final differs from the text the reply was started on
        self._start_reply(messages, None)

    def _maybe_speculate(self) -> None:
        turn = self._turn
        if not self.speculation.enabled or turn is None or turn.forced:
            return
        step = self.speculation.step(
            reply=self._reply,
            tentative=self.listener.tentative_text(), in_speech=self.listener.in_speech,
            history=self.history)
        if step == "drop":
            self._drop_reply()
        elif step is not None:
            self._start_reply(step, step[-1].content)

    def _start_reply(self, messages: Sequence[ChatMessage], speculative: str | None) -> None:
        turn = self._turn
        assert turn is not None
        self._prompt.cancel()
        if speculative is None:
            turn.phase = "replying"
        self.replying.start(messages, speculative)

    def _drop_reply(self) -> None:
        """Forget a reply that produced no audible output (the user went on talking), with
        its marks: the figures describe the reply that is heard."""
        self.replying.end("dropped")

    def _reply_step(self, sink: AudioSink) -> None:
        reply, turn = self.replying.current, self._turn
        assert reply is not None and turn is not None
        try:
            if self.replying.step(turn):
                return
        except StageFailure as exc:
            self._fail(str(exc), sink, "truncated" if exc.truncated else "failed")
            return
        if not reply.sentences and reply.unconfirmed:
            self._drop_reply()  # not confirmed yet: the final transcript asks again
        elif not reply.sentences:
            self._fail("the model returned an empty reply", sink)
        elif not reply.unconfirmed:  # else when the held audio is released
            reply.ends_at = sink.busy_until()

    def _finish_playback_if_done(self, sink: AudioSink) -> None:
        reply = self.replying.current
        if reply is None or reply.generating or reply.unconfirmed or reply.state == "paused":
            return  # still generating, waiting for the endpoint to confirm it, or paused
        if sink.busy_until() <= self.elapsed():
            self._end_turn(self.replying.end("done"))

    # ---- the user's voice over the reply (full duplex: floor.py) ---------------------
    def _pause_reply(self, onset: float, notice: str) -> None:
        """The reply goes silent at once; what the voice says decides whether it resumes."""
        now = self.elapsed()
        self.replying.pause(now)
        self.floor.paused(now, onset)
        self.view.notice(notice)

    def _judge_pause(self, final: UtteranceFinal) -> None:
        kind = self._classify(final.text)
        if kind == "words":
            self._take_floor(final)
        else:
            self._resume(kind, final.text)

    def _judge_late_final(self, final: UtteranceFinal) -> None:
        """The final of a voice the timer gave up on: real words take the floor late (as
        LiveKit's agents do); anything else only goes in the log."""
        turn = self._turn
        assert turn is not None
        kind = self._classify(final.text)
        if kind == "words" and self._reply is not None and isinstance(self._sink, SupportsPause):
            self.replying.pause(self.floor.late_final(self.elapsed()).at)
            self._take_floor(final)
            return
        self.floor.late_final(None)
        if turn.record.pauses:
            record = turn.record.pauses[-1]
            record.heard, record.kind = final.text.strip(), kind

    def _note_words_over_reply(self, update: TranscriptUpdate) -> None:
        heard = " ".join(w.text for w in (*update.committed, *update.partial))
        if self._classify(heard) == "words":
            self.floor.words_decoded()

    def _classify(self, text: str) -> str:
        echo_possible = self.echo is not None and not self.echo.no_echo_path
        reply_text = self._reply.text if self._reply is not None else ""
        return classify(text, reply_text, echo_possible=echo_possible)

    def _follow_the_voice(self) -> None:
        voice = self.listener.in_speech and not self.listener.in_pause
        step = self.floor.follow(voice, self.elapsed())
        if step == "resume":
            self._resume("silence", "")
        elif step == "pause again" and self.floor.pause is not None:
            self.replying.pause(self.floor.pause.at)
            self.view.notice("(paused: you spoke)")

    def _resume(self, kind: str, heard: str) -> None:
        turn = self._turn
        assert turn is not None
        pause = self.floor.resume(utterance_open=self.listener.in_speech)
        now = self.elapsed()
        self.replying.resume(now)
        turn.record.pauses.append(PauseRecord(at=pause.at, paused_s=now - pause.at,
                                              heard=heard.strip(), kind=kind))
        said = f"'{heard.strip()}' is {kind}" if heard.strip() else "no words"
        self.view.notice(f"(resumed: {said})")

    def _take_floor(self, final: UtteranceFinal) -> None:
        """Real words over the reply: it stops for good, and they are the next turn, or
        continue the user's turn (floor.py)."""
        turn, reply = self._turn, self._reply
        assert turn is not None and reply is not None
        pause, continues = self.floor.give_up(reply.audible_at, final.text)
        earlier = ""
        if continues:
            turn.record.continued_by = turn.index + 1
            earlier = turn.record.user_text
            # not kept in the history: the user message goes on
            self._cut_reply("the user went on: the whole sentence is answered once",
                            heard_by=pause.at, keep=False)
        else:
            self._cut_reply("barge-in: the user spoke over the reply", heard_by=self.elapsed(),
                            keep=True)
        new = self._begin_turn(self._audio_clock.to_clock(pause.onset), earlier)
        if pause.speech_end is not None and pause.endpoint is not None:
            new.mark("speech_end", pause.speech_end)
            new.mark("endpoint", pause.endpoint)
        self._on_utterance(final, self.elapsed())

    # ---- endings --------------------------------------------------------------------
    def _end_turn(self, reply: ReplyHandle | None) -> None:
        """The turn is over, with `reply` (the one that was heard, if any)."""
        turn, self._turn = self._turn, None
        self.floor.clear()
        if turn is None:
            return
        record = turn.finish(reply, self.elapsed())
        if record.status == "ok":
            self.history.add_assistant(record.reply_text)
        if record.muted_speech_s >= MUTED_NOTICE_S:
            self.view.notice(f"(you spoke for {record.muted_speech_s:.1f} s while the bot was "
                             "talking: not heard; wait for the reply, or use --barge-in)")
        self.turns.append(record)
        if self.log is not None:
            self.log.append(record)
        release_free_heap()  # the turn's freed native memory back to the system (heap.py)
        self.view.turn_done(record)
        # the history as it now is, before the user speaks again
        self._prompt.offer("", replying=False, history=self.history)

    def _fail(self, reason: str, sink: AudioSink | None = None,
              status: TurnStatus = "failed") -> None:
        """A backend failed: the turn ends with `status`; its reply, if any, is logged but
        never spoken on or kept in the history (`sink`: silence what it played)."""
        reply = self.replying.stop("failed", self.elapsed()) if sink is not None \
            else self.replying.end("failed")
        turn = self._turn or Turn(TurnRecord(index=len(self.turns) + 1))
        self._turn = turn
        if reply is not None:
            turn.record.partial_reply = reply.text
        turn.record.status = status
        turn.record.error = reason
        self.view.notice(f"turn {turn.index} failed: {reason}; still listening")
        self._end_turn(reply)

    def interrupt(self, sink: AudioSink, reason: str) -> None:
        """Cancel the reply in progress (LLM request, synthesis) and log its turn as
        interrupted with what the user heard of it."""
        self._cut_reply(reason, heard_by=self.elapsed(), keep=True)

    def _cut_reply(self, reason: str, *, heard_by: float, keep: bool) -> None:
        """Stop the reply for good; its turn is logged interrupted with the sentences begun
        by `heard_by`, which go in the history if `keep`."""
        turn = self._turn
        if self._reply is None or turn is None:
            return
        reply = self.replying.stop("interrupted", self.elapsed())
        assert reply is not None
        record = turn.record
        record.status = "interrupted"
        record.error = reason
        record.reply_text = reply.heard_by(heard_by)
        record.partial_reply = reply.text
        if keep:
            self.history.add_assistant(record.reply_text, interrupted=True)
        self.view.notice(f"({reason})")
        self._end_turn(reply)

"""VAD-gated streaming recognition of one input stream: audio in, transcript events out.

`push_audio` is cheap (reframing, VAD, endpointing, bookkeeping) and returns the VAD events;
the orchestrator calls `work()` whenever `has_work()` to run one blocking decode: a
streaming step of the current utterance, or, once an utterance ended, its final decode and
flush (`UtteranceFinal`). Finals come first: the user waits for them.

Only speech is decoded (from the onset minus the pre-roll; plus, when speech resumes within
CARRY_GAP_S, the last few words of the previous utterance for context), so silence costs no
Whisper time. During a pause one decode runs at once (SETTLE_S), so that at the endpoint the
final usually needs no decode of its own. A forced cut (max_utterance_s) finalises the part
and goes on with a new utterance, so a monologue never grows the buffer without bound.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from voicebot.asr.base import Asr
from voicebot.asr.carry import CARRY_GAP_S, CARRY_S, History, hand_over
from voicebot.asr.online import FINAL_PAD_S, StreamingTranscriber, join_words
from voicebot.audio.framing import Reframer
from voicebot.audio.timeline import AudioTimeline
from voicebot.config import EndpointConfig, StreamingConfig, TurnConfig
from voicebot.events import (
    AudioFrame,
    SpeechEnded,
    SpeechStarted,
    TranscriptUpdate,
    UtteranceFinal,
    Word,
)
from voicebot.speech_end import SETTLE_S, Pause, heard_end
from voicebot.turn import TurnDetector
from voicebot.turn.judge import TurnJudge
from voicebot.turn.silence import SilenceTurn
from voicebot.turn.smart_turn import WINDOW_S as TURN_AUDIO_S
from voicebot.vad.base import Vad
from voicebot.vad.segmenter import Endpointer, utterance_audio_start
from voicebot.vad.two_ears import TwoEars
from voicebot.workers import Workers


@dataclass
class _Utterance:
    transcriber: StreamingTranscriber
    onset: float
    own_start: float  # where its audio starts without carried-over words
    carried: bool = False
    awaits_history: bool = False  # began before the previous one's final (see hand_over)
    ended: SpeechEnded | None = None
    speech_end: float | None = None  # where the sound of speech ended (see heard_end)
    settled_at: float | None = None  # the audio its pause decode heard up to (Pause)


class Listener:
    def __init__(
        self,
        vad: Vad,
        asr: Asr,
        endpoint: EndpointConfig,
        streaming: StreamingConfig,
        sample_rate: int = 16000,
        decode_in_pauses: bool = True,
        turn: TurnDetector | None = None,
        turn_cfg: TurnConfig | None = None,
        workers: Workers | None = None,
        words_vad: Vad | None = None,
    ) -> None:
        """`decode_in_pauses=False` turns off the decode after SETTLE_S of silence (the
        benchmark's naive cascade transcribes only once the endpoint has fired). Without a
        `turn` detector, `endpoint.end_ms` of silence ends every utterance (the old rule);
        with one, the turn judge (turn/judge.py) decides when a pause ends the turn.
        `workers`: the session's (workers.py): with threads, the detector runs on a thread
        of its own, beside the pause decode, and starts with it while the other processes
        leave the cores free (see `TurnJudge.pause_decode_starts`); the default runs it
        inline (deterministic, for tests). `words_vad`: a second VAD that hears what the
        recognizer hears where that differs (vad/two_ears.py)."""
        if vad.sample_rate != sample_rate:
            raise ValueError(f"the VAD wants {vad.sample_rate} Hz audio, got {sample_rate}")
        self.vad = vad
        self.ears = TwoEars(vad, words_vad)
        self.asr = asr
        self.endpoint_cfg = endpoint
        self.streaming_cfg = streaming
        self.sample_rate = sample_rate
        self.decode_in_pauses = decode_in_pauses
        if isinstance(turn, SilenceTurn):
            turn = None  # always "finished": the plain silence rule needs no verdicts
        self.turn = turn
        self.turn_cfg = turn_cfg or TurnConfig()
        self.workers = workers or Workers(threaded=False)
        self.reframer = Reframer(vad.frame_samples)
        self.words_reframer = Reframer(vad.frame_samples)
        self.double_talk_reframer = Reframer(vad.frame_samples)
        preroll_s = max(endpoint.preroll_ms, endpoint.preroll_over_reply_ms) / 1000.0
        keep = max(preroll_s, CARRY_S + CARRY_GAP_S, TURN_AUDIO_S) + 1.0
        self.timeline = AudioTimeline(sample_rate, keep)  # what the VAD heard
        self.words = AudioTimeline(sample_rate, keep)  # what the recognizer hears (AudioFrame)
        self.judge = TurnJudge(turn, endpoint, self.turn_cfg, self.timeline,
                               self.turn_cfg.text_rule and decode_in_pauses,
                               self.workers) if turn is not None else None
        self.endpointer = Endpointer(endpoint, self.judge.policy if self.judge else None,
                                     self._judge if self.judge else None)
        self._frame_s = vad.frame_samples / sample_rate
        self._vad_samples = 0  # samples classified so far (the VAD's audio time)
        self._pause = Pause(self.timeline, self._frame_s)  # where speech ended (speech_end.py)
        self._floor = 0.0  # audio before this went to an earlier utterance
        self._voice_end = 0.0  # where the previous utterance's voice ended
        self._history = History()  # the previous utterances' text and words (asr/carry.py)
        self._current: _Utterance | None = None
        self._finals: deque[_Utterance] = deque()

    @property
    def in_speech(self) -> bool:
        return self._current is not None

    @property
    def in_pause(self) -> bool:
        """The VAD called the latest frame silent inside an open utterance: the pause
        decode, and maybe the end of the turn, is near."""
        return self._current is not None and self.audio_time > self._pause.last_voiced + 1e-9

    @property
    def finals_decoded_again(self) -> tuple[int, int]:
        """(finals decoded once more as too sparse or short for their speech, those where
        that decode heard more and was kept): see asr/carry.py `History.rehear`."""
        return self._history.redecoded, self._history.redecoded_kept

    @property
    def audio_time(self) -> float:
        """Audio seconds classified so far (the listener's view of the stream position)."""
        return self._vad_samples / self.sample_rate

    # ---- input (cheap) ----------------------------------------------------------------
    def over_reply(self, playing: bool) -> None:
        """Whether the bot's reply plays as the next frames come: a voice that starts
        then needs `endpoint.start_over_reply_ms` of speech, not `start_ms`."""
        self.endpointer.over_reply = playing

    def push_audio(self, frame: AudioFrame) -> list[SpeechStarted | SpeechEnded]:
        if frame.sample_rate != self.sample_rate:
            raise ValueError(f"expected {self.sample_rate} Hz frames, got {frame.sample_rate}")
        events: list[SpeechStarted | SpeechEnded] = []
        blocks = self.reframer.push(frame.samples)
        heard = self.words_reframer.push(frame.samples if frame.words is None else frame.words)
        for block, words, over in zip(blocks, heard, self._double_talk(frame, len(blocks)),
                                      strict=True):
            events.extend(self._push_block(block, words, over))
        return events

    def _double_talk(self, frame: AudioFrame, blocks: int) -> list[float]:
        """Per VAD block, the share where the words' filter held still: read only by a
        second VAD (vad/two_ears.py), so without one nothing is reframed."""
        if self.ears.words_vad is None:
            return [0.0] * blocks
        held = self.double_talk_reframer.push(
            np.zeros(len(frame.samples), dtype=np.float32) if frame.double_talk is None
            else frame.double_talk)
        return [float(share.mean()) for share in held]

    def _push_block(self, block: np.ndarray, words: np.ndarray,
                    double_talk: float) -> list[SpeechStarted | SpeechEnded]:
        start = self.audio_time
        self.timeline.append(block)
        self.words.append(words)
        self._vad_samples += len(block)
        prob = self.ears.speech_prob(block, words, double_talk)
        self._pause.frame(prob >= self.endpoint_cfg.threshold, self.audio_time,
                          self._current.onset if self._current is not None else None)
        events = self.endpointer.push(start, self._frame_s, prob)
        fed = False
        for i, event in enumerate(events):
            if isinstance(event, SpeechStarted):
                self._start(event)
                fed = True  # the slice from the timeline includes this block
            else:
                onset = self._current.onset if self._current is not None else event.last_speech
                events[i] = heard = heard_end(self.timeline, event, onset)
                self._end(event, heard)
        if self._current is not None and not fed:
            self._current.transcriber.insert_audio(words)
        return events

    def _judge(self, now: float) -> float | None:
        """The endpointer's ask at audio time `now`, in a pause: the turn judge's answer."""
        assert self.judge is not None
        current = self._current
        return self.judge.decide(now, self._pause.last_voiced, current.onset if current else None,
                                 self._settled_words())

    def _start(self, event: SpeechStarted) -> None:
        begin = utterance_audio_start(event.at, self.endpoint_cfg, self._floor, event.over_reply)
        begin = max(begin, self.timeline.start)
        transcriber = StreamingTranscriber(self.asr, self.streaming_cfg, self.sample_rate)
        own_start = begin
        awaits = bool(self._finals)
        if awaits:  # the whole pre-roll, up to the previous voice: see hand_over
            begin = max(utterance_audio_start(event.at, self.endpoint_cfg, self._voice_end,
                                              event.over_reply), self.timeline.start)
        carried = self._history.open(transcriber, event.at, begin, self.timeline.start, awaits)
        transcriber.insert_audio(self.words.slice(transcriber.buffer_start, self.words.end))
        self._current = _Utterance(transcriber, event.at, own_start, carried, awaits)

    def _end(self, event: SpeechEnded, heard: SpeechEnded | None = None) -> None:
        """Close the utterance; `heard` is the event with the refined end of speech (the
        VAD's own end still decides how much audio the final decode hears)."""
        if self._current is None:
            return
        self._current.ended = event
        self._current.speech_end = (heard or event).last_speech
        self._current.settled_at = self._pause.settled_at(self.audio_time)
        self._floor = event.at if event.forced else event.last_speech + FINAL_PAD_S
        self._voice_end = event.at if event.forced else event.last_speech
        self._finals.append(self._current)
        self._current = None

    # ---- decoding (blocking) ----------------------------------------------------------
    def has_work(self) -> bool:
        if self._finals:
            return True
        return self._step_due()

    def _step_due(self) -> bool:
        if self._current is None:
            return False
        transcriber = self._current.transcriber
        if not self.decode_in_pauses:
            return transcriber.ready()
        settled_at = self._pause.settled_at(self.audio_time)
        if self.audio_time < settled_at - 1e-6:
            # A pause the VAD already called (it may end the turn): no streaming step now,
            # the pause decode is at most SETTLE_S away and the reply waits for it.
            return transcriber.ready() and self.audio_time <= self._pause.last_voiced
        # In a pause: one decode that hears the pause, then none until speech resumes.
        return transcriber.decoded_end < settled_at - 1e-6

    def tentative_text(self) -> str | None:
        """The open utterance's text once its latest decode heard the pause after the last
        speech (and nothing was said since): the final will be this text unless the user goes
        on, so a reply may start before the endpoint fires. None otherwise."""
        words = self._settled_words()
        return None if words is None else join_words(words)

    def _settled_words(self) -> list[Word] | None:
        """The words of `tentative_text`."""
        current = self._current
        if current is None or self._finals:
            return None
        settled_at = self._pause.settled_at(self.audio_time)
        if self.audio_time < settled_at - 1e-6:
            return None
        transcriber = current.transcriber
        if transcriber.decoded_end < settled_at - 1e-6:
            return None
        return transcriber.latest_words

    def work(self) -> TranscriptUpdate | UtteranceFinal:
        """One decode: the oldest pending final, else a streaming step (else nothing)."""
        if self._finals:
            return self._finalize(self._finals.popleft())
        if self._current is not None and self._step_due():
            if self.judge is not None and self.in_pause and self._pause.sound_ended():
                self.judge.pause_decode_starts(self.audio_time, self._pause.last_voiced,
                                               self._current.onset)
            return self._current.transcriber.process()
        return TranscriptUpdate()

    def _finalize(self, utterance: _Utterance) -> UtteranceFinal:
        ended = utterance.ended
        assert ended is not None
        transcriber = utterance.transcriber
        if ended.forced:
            transcriber.finish()
        else:
            last = ended.last_speech
            heard = utterance.settled_at if utterance.settled_at is not None \
                else last + SETTLE_S
            transcriber.finish(until=last + FINAL_PAD_S, heard=heard)
            transcriber = self._history.rehear(transcriber, utterance.onset,
                                               utterance.own_start, last, utterance.carried)
        words = tuple(transcriber.words)
        self._history.close(transcriber, ended.at)
        current = self._current
        if not self._finals and current is not None and current.awaits_history:
            current.carried = hand_over(transcriber, current.transcriber)
            current.awaits_history = False
        return UtteranceFinal(
            words=words,
            text=join_words(words),
            speech_start=utterance.onset,
            last_speech=utterance.speech_end if utterance.speech_end is not None
            else ended.last_speech,
            endpoint=ended.at,
            forced=ended.forced,
        )

    def end_of_input(self) -> list[SpeechStarted | SpeechEnded]:
        """The stream ended: feed silence until the endpointer closes an open utterance."""
        events: list[SpeechStarted | SpeechEnded] = []
        silence = np.zeros(self.vad.frame_samples, dtype=np.float32)
        limit = max(self.endpoint_cfg.end_ms, self.turn_cfg.max_silence_ms) / 1000.0 \
            + 2 * self._frame_s
        fed = 0.0
        while self.endpointer.in_speech and fed <= limit:
            start = self.audio_time
            self.timeline.append(silence)
            self.words.append(silence)
            self._vad_samples += len(silence)
            for event in self.endpointer.push(start, self._frame_s, 0.0):
                events.append(event)
                if isinstance(event, SpeechEnded):
                    self._end(event)
            fed += self._frame_s
        return events

    def discard(self) -> None:
        """Drop the current utterance and pending finals (e.g. while the bot speaks)."""
        self._current = None
        self._finals.clear()
        self._history.forget()
        self.endpointer.reset()
        self._floor = self.audio_time


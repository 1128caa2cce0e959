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
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from voicebot import cpuload
from voicebot.asr.base import Asr
from voicebot.asr.online import StreamingTranscriber
from voicebot.asr.streaming import SQUEEZED_WORD_S, STALE_TOLERANCE_S, LocalAgreement
from voicebot.audio.framing import Reframer
from voicebot.audio.levels import frame_db, room_noise, speech_offset
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
from voicebot.turn import TurnDetector, build_policy
from voicebot.turn.silence import SilenceTurn
from voicebot.turn.smart_turn import WINDOW_S as TURN_AUDIO_S
from voicebot.turn.text_rule import ends_question, ends_unfinished
from voicebot.turn.verdicts import Verdicts
from voicebot.vad.base import Vad
from voicebot.vad.segmenter import Endpointer, utterance_audio_start

FINAL_PAD_S = 0.3
"""The final decode hears the audio up to this long after the last speech frame: enough for
Whisper to close the last word, less trailing silence to decode (and to hallucinate on)."""
CONTEXT_GAP_S = 10.0
"""An utterance starting within this long of the previous one's end is prompted with its
text: a reader's next sentence, or a thought continued after a pause, decodes better."""
CARRY_GAP_S = 2.0
CARRY_S = 3.0
"""When speech resumes within CARRY_GAP_S of the previous utterance's last word, the new
buffer starts up to CARRY_S earlier, at a word of the previous (already final) utterance:
Whisper hears the sentence it continues, as an offline decode would. Those words count as
committed, so they are not emitted twice (the new hypothesis is aligned with them by words,
see LocalAgreement). Whisper sometimes ends its transcript with the carried sentence and
skips the new speech: a final whose words stop UNHEARD_S or more before the last speech is
decoded once more without the carried audio (see `_without_carry`); so is a final that
gives fewer than SPARSE_WORDS_PER_S words per second of the utterance's own speech (Whisper
re-worded the carried sentence and skipped part of the new one: "ask what you can do for"
of jfk.wav lost). The extra decode is kept only if it hears more."""
UNHEARD_S = 1.0
SPARSE_WORDS_PER_S = 1.5
SETTLE_S = 0.09
"""After this much silence a decode runs at once (not waiting for `min_chunk_s`): if the
endpoint then fires with no speech in between, that hypothesis already heard the whole
utterance and the final needs no decode of its own, so the transcript is final right at the
endpoint instead of one decode later. The silence is counted from where the sound of speech
ends in the audio (`speech_offset`), once the VAD has called a frame silent: the VAD's last
speech frame runs on 0.04-0.14 s past it (dev questions), so counting from the VAD would
start every pause decode, and so every reply, that much later. Never later than SETTLE_S
after the VAD's last speech frame (in noise the sound never ends by the level rule)."""


@dataclass
class _Utterance:
    transcriber: StreamingTranscriber
    onset: float
    own_start: float  # where its audio starts without carried-over words
    carried: bool = False
    awaits_history: bool = False  # began before the previous one's final (see _hand_over)
    ended: SpeechEnded | None = None
    speech_end: float | None = None  # where the sound of speech ended (see _heard_end)
    settled_at: float | None = None  # the audio its pause decode heard up to (_settled_at)


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
        turn_thread: bool = False,
        others_idle: Callable[[], bool] | None = None,
    ) -> None:
        """`decode_in_pauses=False` turns off the decode after SETTLE_S of silence (the
        benchmark's naive cascade transcribes only once the endpoint has fired). Without a
        `turn` detector, `endpoint.end_ms` of silence ends every utterance (the old rule).
        `turn_thread`: the detector runs on a thread of its own, beside the pause decode
        (turn/background.py); off, it runs inline (deterministic, for tests).
        `others_idle` says whether other processes leave the cores free (default: the
        process's /proc meter, cpuload.py); only then does the detector start with the
        pause decode (see `_start_verdict`)."""
        if vad.sample_rate != sample_rate:
            raise ValueError(f"the VAD wants {vad.sample_rate} Hz audio, got {sample_rate}")
        self.vad = vad
        self.asr = asr
        self.endpoint_cfg = endpoint
        self.streaming_cfg = streaming
        self.sample_rate = sample_rate
        self.decode_in_pauses = decode_in_pauses
        if isinstance(turn, SilenceTurn):
            turn = None  # always "finished": the plain silence rule needs no verdicts
        self.turn = turn
        self.turn_cfg = turn_cfg or TurnConfig()
        self.turn_thread = turn_thread
        self._others_idle = others_idle or cpuload.others_idle
        self.verdicts = Verdicts(turn, turn_thread) if turn is not None else None
        self.endpointer = Endpointer(endpoint, build_policy(endpoint, self.turn_cfg),
                                     self._judge if turn is not None else None)
        self.reframer = Reframer(vad.frame_samples)
        keep = max(endpoint.preroll_ms / 1000.0, CARRY_S + CARRY_GAP_S, TURN_AUDIO_S) + 1.0
        self.timeline = AudioTimeline(sample_rate, keep)
        self._frame_s = vad.frame_samples / sample_rate
        self._vad_samples = 0  # samples classified so far (the VAD's audio time)
        self._last_voiced = 0.0  # end of the last frame classified as speech
        self._sound_end: float | None = None  # where the sound ended, in this VAD pause
        self._floor = 0.0  # audio before this went to an earlier utterance
        self._voice_end = 0.0  # where the previous utterance's voice ended
        self._context = ""  # text of the last finished utterance
        self._context_end = -CONTEXT_GAP_S  # ... and when it ended
        self._last_final: StreamingTranscriber | None = None
        self._current: _Utterance | None = None
        self._finals: deque[_Utterance] = deque()

    @property
    def in_speech(self) -> bool:
        return self._current is not None

    @property
    def in_pause(self) -> bool:
        """The VAD called the latest frame silent inside an open utterance: the pause
        decode, and maybe the end of the turn, is near."""
        return self._current is not None and self.audio_time > self._last_voiced + 1e-9

    @property
    def audio_time(self) -> float:
        """Audio seconds classified so far (the listener's view of the stream position)."""
        return self._vad_samples / self.sample_rate

    # ---- input (cheap) ----------------------------------------------------------------
    def push_audio(self, frame: AudioFrame) -> list[SpeechStarted | SpeechEnded]:
        if frame.sample_rate != self.sample_rate:
            raise ValueError(f"expected {self.sample_rate} Hz frames, got {frame.sample_rate}")
        events: list[SpeechStarted | SpeechEnded] = []
        for block in self.reframer.push(frame.samples):
            events.extend(self._push_block(block))
        return events

    def _push_block(self, block: np.ndarray) -> list[SpeechStarted | SpeechEnded]:
        start = self.audio_time
        self.timeline.append(block)
        self._vad_samples += len(block)
        prob = self.vad.speech_prob(block)
        if prob >= self.endpoint_cfg.threshold:
            self._last_voiced = self.audio_time
            self._sound_end = None
        elif self._current is not None and self._sound_end is None:
            self._sound_end = self._find_sound_end()
        events = self.endpointer.push(start, self._frame_s, prob)
        fed = False
        for i, event in enumerate(events):
            if isinstance(event, SpeechStarted):
                self._start(event)
                fed = True  # the slice from the timeline includes this block
            else:
                events[i] = heard = self._heard_end(event)
                self._end(event, heard)
        if self._current is not None and not fed:
            self._current.transcriber.insert_audio(block)
        return events

    def _judge(self, now: float) -> float | None:
        """P(turn finished) at audio time `now`, in a pause of the open utterance: the
        detector on the utterance's last TURN_AUDIO_S of audio, overruled by the text rule
        when the decode that heard the pause ends on a word like 'the' or 'and', or heard no
        word at all (or on a question mark: finished). With the text rule on, the answer
        waits (None) for that decode: the final transcript needs it anyway, so the wait
        costs no latency; meanwhile the detector already runs on the audio."""
        text = self.tentative_text()
        if self.turn_cfg.text_rule and self.decode_in_pauses:
            if text is None:
                self._start_verdict(now)  # the audio model need not wait for the words
                return None
            heard = self._heard_text()
            if not heard or ends_unfinished(heard):
                # (no word yet, "But" decoded as nothing, is no finished request either)
                return self._answered(0.0)
            if ends_question(heard):
                return self._answered(1.0)
        return self._model_verdict(now, text or "")

    def _answered(self, p_finished: float) -> float:
        """The text answered this ask: the detector's verdict for it, if one was started,
        is not used for the next."""
        if self.verdicts is not None:
            self.verdicts.pass_over()
        return p_finished

    def _start_verdict(self, now: float) -> None:
        """Set the detector going on the audio while the pause decode runs. `work()` starts
        it as that decode starts, on the audio up to then (SETTLE_S or more past the sound's
        end), and the policy's ask at `endpoint.end_ms` of VAD silence takes its answer: the
        loop is held by the decode until then, so a verdict started at the ask came after
        the decode, beside the reply's LLM and TTS (0.06-0.15 s a call there, ~0.04 s
        alone). Smart Turn heard the dev set's finished questions as finished as surely
        0.10 s into the silence as at 0.30 s (P 0.90-0.99), and held more of the
        mid-sentence pauses (P >= 0.5 for 3 of 15 against 6). In noise, where the level
        rule finds no end of the sound, it starts at the ask, after 200 ms of VAD silence
        (started with the decode there, one noisy question of 9 in `bench turns` waited
        1.75 s for the end of its turn). Nor while other processes keep a core busy: the
        decode then shares the other core with the detector, and `bench talk` beside one
        and two busy processes went from 1.15x and 1.66x the quiet median to 1.37x and
        1.92x."""
        if self.turn_thread and self.verdicts is not None:
            self.verdicts.start(self._last_voiced, now, self._turn_audio, "")

    def _model_verdict(self, now: float, text: str) -> float | None:
        """The detector's P for this ask; None while its thread is still computing it."""
        assert self.verdicts is not None
        return self.verdicts.answer(self._last_voiced, now, self._turn_audio, text)

    def _heard_text(self) -> str:
        """The tentative text for the text rule: without a last word Whisper squeezed into
        under SQUEEZED_WORD_S. At a pause inside a sentence Whisper often ends the transcript
        with a word that was not said, or a syllable of the next one, in a few hundredths of
        a second ("She had you?", "as the invention.", "in the year.", "would be st"), and
        that word hides the function word the sentence stops on. A real last word of a
        sentence is lengthened, not squeezed."""
        current = self._current
        assert current is not None
        words = _latest_words(current.transcriber)
        if words and words[-1].end - words[-1].start < SQUEEZED_WORD_S:
            words = words[:-1]
        return join_words(words)

    def _turn_audio(self, now: float) -> np.ndarray:
        current = self._current
        if self.turn is None or not self.turn.needs_audio or current is None:
            return np.zeros(0, dtype=np.float32)
        begin = max(self.timeline.start, now - TURN_AUDIO_S,
                    current.onset - self.endpoint_cfg.preroll_ms / 1000.0)
        return self.timeline.slice(begin, now)

    def _heard_end(self, event: SpeechEnded) -> SpeechEnded:
        """The event with `last_speech` moved to where the sound of speech ends in the audio
        (the start of the user's wait): a VAD frame decision runs on past a word's end, or
        cuts a soft last syllable. It moves at most FINAL_PAD_S later, the audio the final
        decode hears past the VAD's last speech frame anyway."""
        if event.forced:
            return event
        onset = self._current.onset if self._current is not None else event.last_speech
        begin = max(onset, self.timeline.start)
        end = min(event.last_speech + FINAL_PAD_S, self.timeline.end)
        found = speech_offset(self.timeline.slice(begin, end), self.sample_rate,
                              noise_dbfs=self._room_noise())
        if found is None:
            return event
        return replace(event, last_speech=begin + found)

    def _find_sound_end(self) -> float:
        """Where the sound of speech ends before this pause (the level rule of _heard_end
        on the utterance's recent audio); the end of the audio when it has not ended."""
        current = self._current
        assert current is not None
        begin = max(self.timeline.start, current.onset, self.audio_time - CARRY_S)
        found = speech_offset(self.timeline.slice(begin, self.audio_time), self.sample_rate,
                              noise_dbfs=self._room_noise())
        return self.audio_time if found is None else begin + found

    def _room_noise(self) -> float:
        """The room's noise floor over all the input audio kept (the pauses before and
        between utterances), which one utterance's slice may not hold."""
        kept = self.timeline.slice(self.timeline.start, self.timeline.end)
        return room_noise(frame_db(kept, self.sample_rate))

    def _sound_ended(self) -> bool:
        """The level rule found where the sound ended, before the VAD's last speech frame
        (not so in noise: the audio never falls below the speech level)."""
        return self._sound_end is not None and self._sound_end <= self._last_voiced + 1e-9

    def _settled_at(self) -> float:
        """The audio a pause decode must hear up to: SETTLE_S past the sound's end, at least
        one silent VAD frame, at most SETTLE_S past the VAD's last speech frame."""
        latest = self._last_voiced + SETTLE_S
        if self._sound_end is None or self.audio_time <= self._last_voiced:
            return latest
        return min(latest, max(self._sound_end + SETTLE_S, self._last_voiced + self._frame_s))

    def _start(self, event: SpeechStarted) -> None:
        begin = utterance_audio_start(event.at, self.endpoint_cfg, self._floor)
        begin = max(begin, self.timeline.start)
        transcriber = StreamingTranscriber(self.asr, self.streaming_cfg, self.sample_rate)
        recent = event.at - self._context_end <= CONTEXT_GAP_S
        own_start = begin
        carried = self._carry(event.at)
        awaits = not carried and bool(self._finals)
        if carried:
            begin = carried[0].start
            assert self._last_final is not None
            transcriber.reset(begin, prompt_before(self._last_final.policy, carried), carried)
        else:
            if awaits:  # the whole pre-roll, up to the previous voice: see _hand_over
                begin = max(utterance_audio_start(event.at, self.endpoint_cfg,
                                                  self._voice_end), self.timeline.start)
            transcriber.reset(begin, self._context if recent else "")
        transcriber.insert_audio(self.timeline.slice(begin, self.timeline.end))
        self._current = _Utterance(transcriber, event.at, own_start, bool(carried), awaits)

    def _carry(self, onset: float) -> list[Word]:
        """The previous utterance's last words to re-hear at the head of the new buffer."""
        if self._finals or self._last_final is None:
            return []  # the previous one is not final yet: its tail may still change
        words = self._last_final.policy.committed
        if not words or onset - words[-1].end > CARRY_GAP_S:
            return []
        oldest = max(words[-1].end - CARRY_S, self.timeline.start)
        return [w for w in words if w.start >= oldest]

    def _end(self, event: SpeechEnded, heard: SpeechEnded | None = None) -> None:
        """Close the utterance; `heard` is the event with the refined end of speech (the
        VAD's own end still decides how much audio the final decode hears)."""
        if self._current is None:
            return
        self._current.ended = event
        self._current.speech_end = (heard or event).last_speech
        self._current.settled_at = self._settled_at()
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
        settled_at = self._settled_at()
        if self.audio_time < settled_at - 1e-6:
            # A pause the VAD already called (it may end the turn): no streaming step now,
            # the pause decode is at most SETTLE_S away and the reply waits for it.
            return transcriber.ready() and self.audio_time <= self._last_voiced
        # In a pause: one decode that hears the pause, then none until speech resumes.
        return transcriber.decoded_end < settled_at - 1e-6

    def tentative_text(self) -> str | None:
        """The open utterance's text once its latest decode heard the pause after the last
        speech (and nothing was said since): the final will be this text unless the user goes
        on, so a reply may start before the endpoint fires. None otherwise."""
        current = self._current
        if current is None or self._finals:
            return None
        settled_at = self._settled_at()
        if self.audio_time < settled_at - 1e-6:
            return None
        transcriber = current.transcriber
        if transcriber.decoded_end < settled_at - 1e-6:
            return None
        return join_words(_latest_words(transcriber))

    def work(self) -> TranscriptUpdate | UtteranceFinal:
        """One decode: the oldest pending final, else a streaming step (else nothing)."""
        if self._finals:
            return self._finalize(self._finals.popleft())
        if self._current is not None and self._step_due():
            if self.turn is not None and self.turn_thread and self.in_pause and \
                    self._sound_ended() and self._others_idle():
                self._start_verdict(self.audio_time)
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
            if utterance.carried and (_stops_short(transcriber.words, last) or
                                      _sparse(transcriber.words, utterance.onset, last)):
                transcriber = self._without_carry(utterance, last + FINAL_PAD_S)
        words = tuple(transcriber.words)
        if words:
            self._context = transcriber.policy.prompt(float("inf"))
            self._context_end = ended.at
            self._last_final = transcriber
        self._hand_over(transcriber)
        return UtteranceFinal(
            words=words,
            text=join_words(words),
            speech_start=utterance.onset,
            last_speech=utterance.speech_end if utterance.speech_end is not None
            else ended.last_speech,
            endpoint=ended.at,
            forced=ended.forced,
        )

    def _hand_over(self, final: StreamingTranscriber) -> None:
        """An utterance that began while the previous one awaited its final decode starts at
        its full pre-roll (not at the previous one's final pad, which can clip its first
        word: "ask" of jfk.wav). Now the previous words are final: those whose audio may lie
        in its buffer become its history (matched by alignment, so never emitted twice), and
        the previous text its prompt. Finals run before any step, so it has not decoded."""
        current = self._current
        if self._finals or current is None or not current.awaits_history:
            return
        start = current.transcriber.buffer_start
        overlap = [w for w in final.words if w.end > start - FINAL_PAD_S]
        current.transcriber.policy.reset(prompt_before(final.policy, overlap), overlap)
        current.carried = bool(overlap)
        current.awaits_history = False

    def _without_carry(self, utterance: _Utterance, until: float) -> StreamingTranscriber:
        """The utterance decoded from its own start, prompted with the previous text: used
        when the decode that re-heard the previous words missed the new speech. Kept only
        if it hears more (letters and digits, so "90210" and "9 0 2 1 0" count the same)."""
        carried = utterance.transcriber
        start = max(utterance.own_start, carried.buffer_start)
        fresh = StreamingTranscriber(self.asr, self.streaming_cfg, self.sample_rate)
        fresh.reset(start, self._context)
        fresh.insert_audio(carried.audio_between(start, until))
        fresh.finish()
        return fresh if _spoken_chars(fresh.words) > _spoken_chars(carried.words) else carried

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
        self._last_final = None
        self.endpointer.reset()
        self._floor = self.audio_time


def _stops_short(words: list[Word], last_speech: float) -> bool:
    return not words or words[-1].end < last_speech - UNHEARD_S


def _latest_words(transcriber: StreamingTranscriber) -> list[Word]:
    """The words of the latest hypothesis: committed, then pending."""
    return transcriber.words + transcriber.policy.pending


def _sparse(words: list[Word], onset: float, last_speech: float) -> bool:
    return len(words) < SPARSE_WORDS_PER_S * (last_speech - onset)


def _spoken_chars(words: list[Word]) -> int:
    return sum(ch.isalnum() for w in words for ch in w.text)


def join_words(words: tuple[Word, ...] | list[Word]) -> str:
    return " ".join(w.text for w in words).strip()


def prompt_before(policy: LocalAgreement, carried: list[Word]) -> str:
    """The previous text to prompt a buffer whose head re-hears `carried` (the previous
    utterance's last words, its history): the text up to them only. A carried word also in
    the prompt reads to Whisper as said twice, and it may write it twice ("cod liver oil.
    oil."): the prompt's own time rule keeps words ending a little after its cut."""
    if not carried:
        return policy.prompt(float("inf"))
    return policy.prompt(carried[0].end - STALE_TOLERANCE_S - 1e-6)

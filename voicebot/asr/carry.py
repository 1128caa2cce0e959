"""What an utterance hears of the ones before it: their text as its prompt and, when speech
resumes soon after one, that one's last words again at the head of its buffer.

The listener (listener.py) cuts the input into utterances and decodes each in a buffer of its
own (online.py). Whisper decodes a sentence that continues another better when it hears the
start: a reader's next sentence, a thought continued after a pause. So a new utterance is
prompted with the previous text (CONTEXT_GAP_S), and when it starts within CARRY_GAP_S of the
previous words, re-hears them (CARRY_S). When Whisper then skips the new speech, the final is
decoded once more without them (`History.rehear`).
"""

from __future__ import annotations

from voicebot.asr.online import FINAL_PAD_S, StreamingTranscriber
from voicebot.asr.streaming import STALE_TOLERANCE_S, LocalAgreement
from voicebot.events import Word

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
decoded once more without the carried audio (see `History.rehear`); so is a final that
gives fewer than SPARSE_WORDS_PER_S words per second of the utterance's own speech (Whisper
re-worded the carried sentence and skipped part of the new one: "ask what you can do for"
of jfk.wav lost). An utterance that carried nothing gets a narrower check (LONE_*): the
streaming decodes can miss speech too (over the bot's reply). The extra decode is kept only
if it hears more."""
UNHEARD_S = 1.0
SPARSE_WORDS_PER_S = 1.5
LONE_MIN_SPEECH_S = 2.0
LONE_WORDS_PER_S = 1.0
"""An utterance that carried no words is decoded again only when its speech lasts
LONE_MIN_SPEECH_S or more and its final has fewer than LONE_WORDS_PER_S words a second."""


class History:
    """The finished utterances as the next one hears them: the last one's text (the prompt)
    and, while it is recent, its final transcriber (the words to carry)."""

    def __init__(self) -> None:
        self.context = ""  # text of the last finished utterance
        self.context_end = -CONTEXT_GAP_S  # ... and when it ended
        self.last_final: StreamingTranscriber | None = None
        self.redecoded = 0  # finals decoded once more (`rehear`) ...
        self.redecoded_kept = 0  # ... and where that decode heard more

    def open(self, transcriber: StreamingTranscriber, onset: float, begin: float,
             oldest: float, pending: bool) -> bool:
        """Reset `transcriber` for an utterance whose speech starts at `onset` and audio at
        `begin`: with the previous utterance's last words carried (its buffer then starts at
        the first of them, no earlier than `oldest`, the oldest audio kept), else with the
        previous text as its prompt if recent. Nothing is carried while an earlier utterance
        is `pending` its final decode: its tail may still change (see `hand_over`). Says
        whether words were carried."""
        recent = onset - self.context_end <= CONTEXT_GAP_S
        carried = [] if pending else self._carry(onset, oldest)
        if carried:
            assert self.last_final is not None
            transcriber.reset(carried[0].start, prompt_before(self.last_final.policy, carried),
                              carried)
        else:
            transcriber.reset(begin, self.context if recent else "")
        return bool(carried)

    def _carry(self, onset: float, oldest: float) -> list[Word]:
        """The previous utterance's last words to re-hear at the head of the new buffer."""
        if self.last_final is None:
            return []
        words = self.last_final.policy.committed
        if not words or onset - words[-1].end > CARRY_GAP_S:
            return []
        oldest = max(words[-1].end - CARRY_S, oldest)
        return [w for w in words if w.start >= oldest]

    def rehear(self, final: StreamingTranscriber, onset: float, own_start: float,
               last_speech: float, carried: bool) -> StreamingTranscriber:
        """The finished transcriber of an utterance, or, when it heard too little of its
        speech (`_heard_too_little`), the utterance decoded once more from its own start
        (`own_start`, where its audio starts without carried words), with the prompt it
        opened with, if that hears more (letters and digits, so "90210" and "9 0 2 1 0"
        count the same). Whisper heard the carried words and missed the new
        speech; or, over the bot's reply, the streaming decodes committed a word of the
        echo's residue and the final decode heard nothing more ("Mr. Quilter is the
        apostle...", five seconds of speech, heard as "The")."""
        if not _heard_too_little(final.words, onset, last_speech, carried):
            return final
        until = last_speech + FINAL_PAD_S
        start = max(own_start, final.buffer_start)
        fresh = StreamingTranscriber(final.asr, final.cfg, final.sample_rate)
        fresh.reset(start, self.context if onset - self.context_end <= CONTEXT_GAP_S else "")
        fresh.insert_audio(final.audio_between(start, until))
        fresh.finish()
        self.redecoded += 1
        if _spoken_chars(fresh.words) <= _spoken_chars(final.words):
            return final
        self.redecoded_kept += 1
        return fresh

    def close(self, final: StreamingTranscriber, endpoint: float) -> None:
        """An utterance's final (endpoint at `endpoint`): if it has words, the next one is
        prompted with its text and may carry its last words."""
        if final.words:
            self.context = final.policy.prompt(float("inf"))
            self.context_end = endpoint
            self.last_final = final

    def forget(self) -> None:
        """The last utterance was dropped: nothing of it is carried (its text still prompts)."""
        self.last_final = None


def hand_over(final: StreamingTranscriber, following: StreamingTranscriber) -> bool:
    """`following` began while `final` awaited its final decode, so it starts at its full
    pre-roll (not at the previous one's final pad, which can clip its first word: "ask" of
    jfk.wav). Now the previous words are final: those whose audio may lie in its buffer
    become its history (matched by alignment, so never emitted twice), and the previous text
    its prompt. Finals run before any step, so it has not decoded. Says whether it carries
    words now."""
    start = following.buffer_start
    overlap = [w for w in final.words if w.end > start - FINAL_PAD_S]
    following.policy.reset(prompt_before(final.policy, overlap), overlap)
    return bool(overlap)


def prompt_before(policy: LocalAgreement, carried: list[Word]) -> str:
    """The previous text to prompt a buffer whose head re-hears `carried` (the previous
    utterance's last words, its history): the text up to them only. A carried word also in
    the prompt reads to Whisper as said twice, and it may write it twice ("cod liver oil.
    oil."): the prompt's own time rule keeps words ending a little after its cut."""
    if not carried:
        return policy.prompt(float("inf"))
    return policy.prompt(carried[0].end - STALE_TOLERANCE_S - 1e-6)


def _heard_too_little(words: list[Word], onset: float, last_speech: float,
                      carried: bool) -> bool:
    """Whether a final is worth a second decode. With carried words: it stops short of the
    last speech, or is sparse. Without: only a long stretch of speech with next to no words.
    A backchannel ("Okay.") with a second of the bot's residue after it is neither: decoded
    again, any word heard in the residue would turn it into a turn that takes the floor."""
    if carried:
        return _stops_short(words, last_speech) or _sparse(words, onset, last_speech)
    speech_s = last_speech - onset
    return speech_s >= LONE_MIN_SPEECH_S and len(words) < LONE_WORDS_PER_S * speech_s


def _stops_short(words: list[Word], last_speech: float) -> bool:
    return not words or words[-1].end < last_speech - UNHEARD_S


def _sparse(words: list[Word], onset: float, last_speech: float) -> bool:
    return len(words) < SPARSE_WORDS_PER_S * (last_speech - onset)


def _spoken_chars(words: list[Word]) -> int:
    return sum(ch.isalnum() for w in words for ch in w.text)

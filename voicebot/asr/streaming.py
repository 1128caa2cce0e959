"""LocalAgreement-2: the pure commit policy for streaming Whisper (Macháček et al. 2023).

The caller re-transcribes a growing audio buffer and feeds each hypothesis (words with
absolute audio times) to `LocalAgreement.insert`. A word is committed once two consecutive
hypotheses agree on it, in order, from the last committed word on. Whisper's output for the
newest audio is unstable; what two decodes of different lengths agree on rarely changes.

Details that make it work on real output:
  * where the new hypothesis repeats the last committed words (two or more, timed near
    them), everything after them is new: word times drift by a few tenths of a second
    between decodes (more with a short encoder window), so times alone can drop a new word;
  * otherwise, words that end before the committed end, or start well before it, are old
    audio (Whisper re-times and re-words it between decodes) and are ignored;
  * Whisper often re-emits the last committed words at the head of a new hypothesis (the
    audio is still in the buffer): a 1..5-gram match of the new head against the committed
    tail is removed;
  * words carried over from a previous utterance (`reset(history=...)`) were timed by another
    decode, so times cannot tell them from new words: until a new word is committed, the
    hypothesis head is matched against them by an edit-distance alignment of the words;
  * the committed text before the buffer is Whisper's prompt (context across trims);
  * the buffer is trimmed only at a committed point (end of a committed sentence, else of
    the last committed word) once it exceeds `max_buffer_s`, so it never grows without bound
    and never cuts a word that may still be revised.

No clock, no model, no audio: tests feed hand-written hypotheses.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from voicebot.config import StreamingConfig
from voicebot.events import Word

MAX_NGRAM = 5
OVERLAP_WINDOW_S = 1.0
"""The n-gram overlap check applies when the new head starts this close to the committed end."""
STALE_TOLERANCE_S = 0.1
"""A new word must start no earlier than this before the committed end (else it is old audio,
re-timed or re-worded by Whisper, e.g. "my" committed and later heard as "am I")."""
SQUEEZED_WORD_S = 0.133
"""A word Whisper timed shorter than this is suspect: openai-whisper's word anomaly rule
(a real word, above all a sentence's last one, takes longer to say)."""
EDGE_S = 0.2
"""Words ending this close to the end of the decoded audio are not committed yet."""
SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")
_NON_WORD = re.compile(r"[^\w']+")


def normalize(text: str) -> str:
    """Word identity for agreement: case, surrounding punctuation and hyphens do not count."""
    return _NON_WORD.sub("", text.lower()).strip("'")


def ends_sentence(text: str) -> bool:
    return bool(SENTENCE_END.search(text.strip()))


class LocalAgreement:
    def __init__(self, cfg: StreamingConfig | None = None) -> None:
        self.cfg = cfg or StreamingConfig()
        self.committed: list[Word] = []
        self._base = 0  # committed[:_base] is history given at reset
        self._previous: list[Word] = []  # the uncommitted tail of the last hypothesis
        self.context = ""

    @property
    def committed_end(self) -> float:
        return self.committed[-1].end if self.committed else float("-inf")

    @property
    def pending(self) -> list[Word]:
        """The uncommitted tail of the latest hypothesis (the partial shown greyed)."""
        return list(self._previous)

    def reset(self, context: str = "", history: Sequence[Word] = ()) -> None:
        """Start over. `context` (earlier text) leads the prompt; `history` are words already
        committed elsewhere whose audio the caller puts at the head of the new buffer (for
        acoustic context): they count as committed, so they are not committed again, but
        `new_words` leaves them out."""
        self.committed = list(history)
        self._base = len(self.committed)
        self._previous = []
        self.context = context

    @property
    def new_words(self) -> list[Word]:
        """The words committed since the last reset (without the history)."""
        return self.committed[self._base :]

    def insert(self, hypothesis: Sequence[Word], audio_end: float | None = None) -> list[Word]:
        """Feed one hypothesis; return the words it commits (possibly none).

        `audio_end` is where the decoded audio ended: a word ending within EDGE_S of it may
        be cut off ("just" of "justly", twice in a row when the word spans two chunks), so
        it is not committed yet."""
        new = self._fresh(hypothesis)
        agreed = 0
        for old, cur in zip(self._previous, new, strict=False):
            if normalize(old.text) != normalize(cur.text):
                break
            agreed += 1
        if audio_end is not None:
            while agreed and new[agreed - 1].end > audio_end - EDGE_S:
                agreed -= 1
        commit = new[:agreed]
        self.committed.extend(commit)
        self._previous = new[agreed:]
        return commit

    def flush(self) -> list[Word]:
        """End of speech: commit whatever the latest hypothesis still holds."""
        rest = self._previous
        self.committed.extend(rest)
        self._previous = []
        return rest

    def _fresh(self, hypothesis: Sequence[Word]) -> list[Word]:
        """The hypothesis without old words and without a repeat of the committed tail."""
        if self._base and len(self.committed) == self._base:
            return self._after_history(hypothesis)
        anchored = self._after_committed_tail(hypothesis)
        if anchored is not None:
            return anchored
        end = self.committed_end
        oldest = end - STALE_TOLERANCE_S + 1e-6
        new = [w for w in hypothesis if w.end > end and w.start > oldest and normalize(w.text)]
        if not new or not self.committed:
            return new
        if abs(new[0].start - self.committed_end) > OVERLAP_WINDOW_S:
            return new
        tail = [normalize(w.text) for w in self.committed[-MAX_NGRAM:]]
        head = [normalize(w.text) for w in new[:MAX_NGRAM]]
        for n in range(min(len(tail), len(head)), 0, -1):
            if tail[-n:] == head[:n]:
                return new[n:]
        return new

    def _after_committed_tail(self, hypothesis: Sequence[Word]) -> list[Word] | None:
        """The words after the committed tail (its last 2..MAX_NGRAM words, the longest
        found) where the hypothesis says it again ending within OVERLAP_WINDOW_S of the
        committed end; the closest such place in time. None when it is not said again."""
        spoken = [w for w in hypothesis if normalize(w.text)]
        said = [normalize(w.text) for w in spoken]
        committed = [normalize(w.text) for w in self.committed[-MAX_NGRAM:]]
        end = self.committed_end
        for n in range(min(MAX_NGRAM, len(committed)), 1, -1):
            tail = committed[-n:]
            places = [i + n for i in range(len(said) - n + 1) if said[i : i + n] == tail
                      and abs(spoken[i + n - 1].end - end) <= OVERLAP_WINDOW_S]
            if places:
                best = min(places, key=lambda i: abs(spoken[i - 1].end - end))
                return spoken[best:]
        return None

    def _after_history(self, hypothesis: Sequence[Word]) -> list[Word]:
        """The words after the carried-over history that heads the buffer. Whisper re-times
        (and may re-word or skip) those words, so their old times are weak evidence: the
        head is found by aligning the words, and everything after it is new. Only when the
        words do not align (closer than half the history: Whisper re-worded the old audio,
        "ask what you can do for your country" heard as "country") do times decide."""
        spoken = [w for w in hypothesis if normalize(w.text)]
        history = [normalize(w.text) for w in self.committed[: self._base]]
        head, distance = aligned_prefix(history, [normalize(w.text) for w in spoken])
        if 2 * distance <= len(history):
            return spoken[head:]
        end = self.committed_end
        return [w for w in spoken if w.end > end and w.start > end - STALE_TOLERANCE_S]

    def prompt(self, before: float) -> str:
        """Committed text that ends by `before` (the buffer start), last `prompt_chars`."""
        words = [w.text for w in self.committed if w.end <= before + STALE_TOLERANCE_S]
        text = " ".join([self.context, *words]).strip()
        limit = self.cfg.prompt_chars
        if len(text) <= limit:
            return text
        cut = text[-limit:]
        space = cut.find(" ")
        return cut[space + 1 :] if space >= 0 else cut

    def trim_point(self, buffer_start: float, buffer_end: float) -> float | None:
        """Where the caller may cut its buffer (an absolute time), or None to keep it.

        Only past `max_buffer_s` (a long buffer gives Whisper context; a sentence end that a
        hypothesis shows may only mark where the audio stopped): at the end of the last
        committed sentence in the buffer, else at the end of the last committed word.
        """
        length = buffer_end - buffer_start
        if length <= self.cfg.max_buffer_s:
            return None
        inside = [w for w in self.committed if w.end > buffer_start]
        sentences = [w.end for w in inside if ends_sentence(w.text)]
        if sentences:
            return sentences[-1]
        if inside:
            return inside[-1].end
        # Nothing stable to cut at: bound the buffer anyway, far behind the newest audio.
        return buffer_end - self.cfg.max_buffer_s if length > 2 * self.cfg.max_buffer_s else None


def aligned_prefix(expected: Sequence[str], words: Sequence[str]) -> tuple[int, int]:
    """How many leading `words` are a transcript of `expected`, and how far they are from
    it: the prefix with the smallest word edit distance to `expected`, the shortest on a
    tie, so a new word is never taken for an old one (a repeat is the lesser harm than a
    drop)."""
    row = list(range(len(words) + 1))  # distance of expected[:0] to each prefix of words
    for i, old in enumerate(expected, start=1):
        previous, row = row, [i]
        for j, word in enumerate(words, start=1):
            row.append(min(previous[j] + 1, row[j - 1] + 1,
                           previous[j - 1] + (old != word)))
    best = min(range(len(row)), key=lambda j: (row[j], j))
    return best, row[best]

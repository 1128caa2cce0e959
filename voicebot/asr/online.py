"""Streaming recognition of one utterance: an audio buffer, an ASR, and LocalAgreement.

`process()` re-decodes the whole buffer (with the committed text before it as the prompt),
feeds the hypothesis to the policy and trims the buffer where the policy allows. `finish()`
decodes what the last step has not seen and flushes the rest. Word times are absolute
(audio seconds since the stream start); the caller says where the utterance's audio starts.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from voicebot.asr.base import Asr
from voicebot.asr.streaming import LocalAgreement
from voicebot.config import StreamingConfig
from voicebot.events import TranscriptUpdate, Word

FINAL_DECODE_SLACK_S = 0.1
"""`finish(until)` skips its decode when the last decode already reached this close to
`until`: the last hypothesis saw all the speech, so flushing it is as good and saves a decode
right when the user waits for the answer."""
FINAL_PAD_S = 0.3
"""The listener's final decode hears the audio up to this long after the last speech frame:
enough for Whisper to close the last word, less trailing silence to decode (and to
hallucinate on)."""


class StreamingTranscriber:
    def __init__(self, asr: Asr, cfg: StreamingConfig, sample_rate: int = 16000) -> None:
        if sample_rate != asr.sample_rate:
            raise ValueError(f"the ASR wants {asr.sample_rate} Hz audio, got {sample_rate}")
        self.asr = asr
        self.cfg = cfg
        self.sample_rate = sample_rate
        self.policy = LocalAgreement(cfg)
        self.decodes = 0
        self.reset(0.0)

    def reset(self, start: float, context: str = "", history: Sequence[Word] = ()) -> None:
        """Begin a new utterance whose audio starts at absolute time `start`. `context` is
        earlier text to prompt Whisper with; `history` are already-final words whose audio
        the caller inserts before the new speech (see LocalAgreement.reset)."""
        self.policy.reset(context, history)
        self.buffer_start = start
        self._chunks: list[np.ndarray] = []
        self._samples = 0
        self._decoded_samples = 0  # buffer length at the last decode

    @property
    def buffer_seconds(self) -> float:
        return self._samples / self.sample_rate

    @property
    def buffer_end(self) -> float:
        return self.buffer_start + self.buffer_seconds

    @property
    def decoded_end(self) -> float:
        """The absolute time up to which the last decode heard the audio."""
        return self.buffer_start + self._decoded_samples / self.sample_rate

    @property
    def words(self) -> list[Word]:
        """Every word committed in this utterance so far (history excluded)."""
        return self.policy.new_words

    @property
    def latest_words(self) -> list[Word]:
        """The words of the latest hypothesis: committed, then pending."""
        return self.words + self.policy.pending

    def insert_audio(self, samples: np.ndarray) -> None:
        data = np.asarray(samples, dtype=np.float32).reshape(-1)
        if len(data):
            self._chunks.append(data)
            self._samples += len(data)

    def audio_between(self, start: float, end: float) -> np.ndarray:
        """The buffered audio between two absolute times (clipped to the buffer)."""
        first = max(0, round((start - self.buffer_start) * self.sample_rate))
        last = min(self._samples, max(0, round((end - self.buffer_start) * self.sample_rate)))
        return self._audio()[first:last].copy()

    def ready(self) -> bool:
        """At least `min_chunk_s` of audio arrived since the last decode."""
        new = self._samples - self._decoded_samples
        return new > 0 and new >= self.cfg.min_chunk_s * self.sample_rate

    def process(self) -> TranscriptUpdate:
        """One decode of the buffer: newly committed words and the current partial tail."""
        committed = self.policy.insert(self._decode(self._samples), self.buffer_end)
        self._trim()
        return TranscriptUpdate(tuple(committed), tuple(self.policy.pending))

    def finish(self, until: float | None = None, heard: float | None = None) -> TranscriptUpdate:
        """End of the utterance: commit everything left.

        Audio after `until` (absolute time, e.g. shortly after the last speech) is not
        decoded. No final decode runs when the last decode already heard the audio up to
        `heard` (default: `until` minus a small slack): its hypothesis is flushed as is.
        """
        end = self._samples
        if until is not None:
            end = min(end, max(0, round((until - self.buffer_start) * self.sample_rate)))
        if heard is None:
            heard = self.buffer_start + end / self.sample_rate - FINAL_DECODE_SLACK_S
        committed: list[Word] = []
        unheard = self._decoded_samples < end and self.decoded_end < heard - 1e-6
        if end > 0 and unheard:
            committed = self.policy.insert(self._decode(end))
        committed += self.policy.flush()
        return TranscriptUpdate(tuple(committed), ())

    def _audio(self) -> np.ndarray:
        if len(self._chunks) != 1:
            joined = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.float32)
            self._chunks = [joined]
        return self._chunks[0]

    def _decode(self, end: int) -> list[Word]:
        audio = self._audio()[:end]
        prompt = self.policy.prompt(self.buffer_start)
        self.decodes += 1
        self._decoded_samples = end
        offset = self.buffer_start
        return [Word(w.start + offset, w.end + offset, w.text)
                for w in self.asr.transcribe(audio, prompt=prompt)]

    def _trim(self) -> None:
        cut = self.policy.trim_point(self.buffer_start, self.buffer_end)
        if cut is None or cut <= self.buffer_start:
            return
        drop = min(self._samples, round((cut - self.buffer_start) * self.sample_rate))
        self._chunks = [self._audio()[drop:].copy()]
        self._samples -= drop
        self._decoded_samples = max(0, self._decoded_samples - drop)
        self.buffer_start += drop / self.sample_rate


def join_words(words: Sequence[Word]) -> str:
    return " ".join(w.text for w in words).strip()

"""The configuration's plain sections (audio, endpoint, turn, streaming, text, conversation):
typed dataclasses with their defaults and range checks. The YAML loading, the stage sections
and the error messages are config.py's, which is also where everyone imports these from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


class ParamError(ValueError):
    """Raised by a `Params.check()` for one key; the loader adds the file and section."""

    def __init__(self, key: str, value: object, allowed: str) -> None:
        super().__init__(f"{key}: {value!r} {allowed}")
        self.key = key
        self.value = value
        self.allowed = allowed


@dataclass
class AudioConfig:
    """Internal audio format and devices."""

    sample_rate: int = 16000
    frame_ms: Literal[10, 20, 30] = 30
    input_device: str | int | None = None
    output_device: str | int | None = None
    echo_cancellation: Literal["auto", "on", "off"] = "auto"
    """WebRTC AEC3 in front of the VAD (audio/echo.py); auto: on when the input and the
    output are live devices (a microphone and a speaker)."""
    noise_suppression: bool = False
    """WebRTC's noise suppressor with the canceller (it also colours the voice)."""
    echo_words: Literal["linear", "aec3"] = "linear"
    """What the recognizer hears while the bot talks: `linear`, a linear echo filter's
    output, which keeps the words of a user who speaks over the bot (audio/linear_echo.py);
    `aec3`, the canceller's own output, as the VAD hears it (its suppressor eats the first
    words in double talk)."""
    echo_onsets: Literal["aec3", "either"] = "either"
    """Where a voice over the bot starts: `aec3`, where the VAD hears speech in AEC3's
    output; `either` (with `echo_words: linear`), there or in the words' filter where AEC3
    lets a trace of a voice through, whichever is first (a second VAD, vad/two_ears.py).
    `bench duplex` side by side: barge-in 277 / 470 ms against 465 / 503 ms (median /
    p90), 0 self-interruptions in 20 and 0 self-pauses in both (docs/duplex.md)."""


@dataclass
class EndpointConfig:
    """The endpointing state machine (vad/segmenter.py); all times in audio milliseconds."""

    threshold: float = 0.5
    start_ms: int = 90
    start_over_reply_ms: int = 60
    """The speech that starts an utterance while the bot's reply plays (barge-in,
    backchannels; only in full duplex, where the microphone is open then). Over a loud
    reply AEC3's suppressor leaves a short first word two VAD frames of speech at times
    ("Wait" in a live run); in `bench duplex`, back to back, 60 against 90: barge-in 166 /
    463 ms against 350 / 602 ms (median / p90), double-talk WER 8.8 % against 16.7 % (3.9 %
    alone), 0 self-interruptions and 0 self-pauses in both (docs/duplex.md)."""
    end_ms: int = 400
    preroll_ms: int = 300
    preroll_over_reply_ms: int = 700
    """The pre-roll of an utterance that began while the reply played. AEC3 hides the first
    syllables of a voice over a loud reply, so Silero hears it late (offline, on the dev
    lines in three rooms: 492 ms median, 670 ms p90 after its first audible sample), while
    the recognizer hears the words' filter output, where those syllables are; with 300 ms
    it lost first words ("Mr. Quilter" heard as "the character"). scripts/double_talk_wer.py
    --preroll: 6.3 % WER at 300 ms, 5.0 % at 500, 4.4 % at 700, 5.0 % at 900 (4.7 % alone)."""
    max_utterance_s: float = 30.0

    def check(self) -> None:
        if not 0.0 < self.threshold < 1.0:
            raise ParamError("threshold", self.threshold, "must be between 0 and 1")
        for key in ("start_ms", "start_over_reply_ms", "end_ms", "preroll_ms",
                    "preroll_over_reply_ms"):
            if getattr(self, key) < 0:
                raise ParamError(key, getattr(self, key), "must be >= 0")
        if self.max_utterance_s <= 1.0:
            raise ParamError("max_utterance_s", self.max_utterance_s, "must be > 1 second")


@dataclass
class TurnConfig:
    """The end of the turn (voicebot/turn/): after `endpoint.end_ms` of silence the detector
    says whether the user has finished; if not, the silence needed grows (turn/policy.py)."""

    backend: Literal["silence", "smart-turn"] = "silence"
    model: str = "builtin"
    """smart-turn: `builtin` (the ONNX file in the pipecat-ai wheel) or a path to a .onnx."""
    threshold: float = 0.5
    """P(finished) at or above this ends the turn."""
    recheck_ms: int = 300
    """After a 'not yet', ask again after this much more silence (0: never). Every 300 ms:
    Smart Turn's P on a finished statement often rises past 0.5 a few tenths of a second
    after a low first answer, and may fall again by 1.2 s (docs/end-of-turn.md)."""
    max_silence_ms: int = 2000
    """Hard timeout: this much silence always ends the turn."""
    text_rule: bool = True
    """A transcript ending on 'the', 'of', 'and', 'is', ... is not finished."""
    threads: int = 1

    def check(self) -> None:
        if not 0.0 < self.threshold < 1.0:
            raise ParamError("threshold", self.threshold, "must be between 0 and 1")
        for key in ("recheck_ms", "max_silence_ms"):
            if getattr(self, key) < 0:
                raise ParamError(key, getattr(self, key), "must be >= 0")
        if not 1 <= self.threads <= 64:
            raise ParamError("threads", self.threads, "must be between 1 and 64")


@dataclass
class StreamingConfig:
    """LocalAgreement streaming (asr/streaming.py)."""

    min_chunk_s: float = 0.8
    max_buffer_s: float = 15.0
    prompt_chars: int = 200

    def check(self) -> None:
        if not 0.05 <= self.min_chunk_s <= 5.0:
            raise ParamError("min_chunk_s", self.min_chunk_s, "must be between 0.05 and 5")
        if not 2.0 <= self.max_buffer_s <= 30.0:
            raise ParamError("max_buffer_s", self.max_buffer_s, "must be between 2 and 30")


@dataclass
class TextConfig:
    """Sentence splitting of the LLM stream for TTS (text/splitter.py)."""

    early_first_chunk: bool = True
    first_chunk_min_words: int = 2
    first_chunk_max_words: int = 3
    max_chunk_chars: int = 250
    max_reply_sentences: int = 2  # a spoken reply ends at a sentence boundary after these
    max_reply_words: int = 35  # ... or about these words (x4 when the user asks for more)


SPOKEN_SYSTEM_PROMPT = (
    "You are a voice assistant: your reply is spoken aloud. Give the correct answer first, "
    "in one or two short sentences of plain text. No lists, markdown, emoji or code."
)
OLD_SYSTEM_PROMPT = (
    "You are a helpful voice assistant. Answer in one or two short, plain sentences, "
    "without lists or markdown."
)
"""The prompt before the answer-quality bench (kept to compare against)."""


@dataclass
class ConversationConfig:
    """The chat history and the talk loop (pipeline.py)."""

    system_prompt: str = SPOKEN_SYSTEM_PROMPT
    history_tokens: int = 1024
    barge_in: bool | Literal["auto"] = "auto"
    """Speech over the reply stops it. auto: on when echo cancellation runs (else the bot
    would hear itself and the loop is half-duplex: the microphone muted while it talks)."""
    resume_after_s: float = 1.5
    """With barge-in, the user's voice pauses the reply; if no real words come (a
    backchannel such as "mm-hm", a cough, the bot's own echo), it resumes once the voice has
    been quiet this long, or as soon as the words show it was nothing. 0: any voice over
    the reply stops it at once."""
    continue_within_s: float = 1.5
    """Words said over a reply that began less than this before them continue the user's
    turn: the reply is dropped and the whole sentence is answered once (0: never). Words
    that ask it to stop ("stop", "wait", "never mind") are a new turn all the same."""
    speculative_reply: bool = True
    prefill: bool = True
    """The LLM reads the conversation and the words committed so far while the user speaks
    (backends with a prompt cache: llama.cpp), so the reply evaluates only what is new."""
    log_dir: str | None = None

    def check(self) -> None:
        for key in ("resume_after_s", "continue_within_s"):
            if not 0 <= getattr(self, key) <= 10:
                raise ParamError(key, getattr(self, key), "must be between 0 and 10 seconds")

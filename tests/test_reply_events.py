"""The reply path's care for its first chunk: the LLM stream is paused while that chunk is
synthesized (a stream that can pause), and a chunk cut mid-sentence ends soon after its last
sound instead of with the voice's sentence-final silence."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

import numpy as np

from voicebot.audio.levels import first_audible, trim_trailing_silence
from voicebot.config import TextConfig
from voicebot.events import ChatMessage
from voicebot.reply import JOIN_KEEP_S, AudioChunk, ends_mid_sentence, reply_events

RATE = 16000
TAIL_S = 0.2  # the fake voice's trailing silence, like piper's 0.14-0.20 s


class PausableTokens:
    """A token stream that records when it was asked to pause."""

    def __init__(self, tokens: Sequence[str], log: list[str]) -> None:
        self._tokens = iter(tokens)
        self.log = log

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        token = next(self._tokens)
        self.log.append(f"token {token.strip()}")
        return token

    def pause(self) -> None:
        self.log.append("pause")


class Llm:
    def __init__(self, tokens: Sequence[str], log: list[str]) -> None:
        self.tokens, self.log = tokens, log

    def stream(self, messages: Sequence[ChatMessage], *, cancel: threading.Event
               ) -> PausableTokens:
        return PausableTokens(self.tokens, self.log)

    def count_tokens(self, text: str) -> int:
        return len(text.split())


class Voice:
    """0.1 s of tone per word, then TAIL_S of silence."""

    sample_rate = RATE

    def __init__(self, log: list[str]) -> None:
        self.log = log

    def synthesize(self, text: str) -> Iterator[np.ndarray]:
        self.log.append(f"speak {text}")
        tone = np.full(round(0.1 * RATE * len(text.split())), 0.3, dtype=np.float32)
        yield np.concatenate([tone, np.zeros(round(TAIL_S * RATE), dtype=np.float32)])


def run(tokens: Sequence[str], text_cfg: TextConfig) -> tuple[list[str], list[AudioChunk]]:
    log: list[str] = []
    events = reply_events(Llm(tokens, log), Voice(log), text_cfg,
                          [ChatMessage("user", "Hi?")], threading.Event())
    chunks = [e for e in events if isinstance(e, AudioChunk)]
    return log, chunks


TOKENS = ["The", " capital", " of", " France", " is", " Paris", ".", " It", " is", " big", "."]


def test_the_stream_pauses_before_the_first_chunk_is_synthesized_and_only_then() -> None:
    log, _ = run(TOKENS, TextConfig(first_chunk_min_words=2, first_chunk_max_words=3))
    first_speak = next(i for i, line in enumerate(log) if line.startswith("speak"))
    assert log[first_speak - 1] == "pause"
    assert log[first_speak] == "speak The capital of"
    assert log.count("pause") == 1
    assert [line for line in log if line.startswith("speak")] == [
        "speak The capital of", "speak France is Paris.", "speak It is big."]


def silence_after(samples: np.ndarray) -> float:
    """Seconds of silence after the last audible sample."""
    last = first_audible(samples[::-1].copy())
    assert last is not None
    return last / RATE


def test_a_chunk_cut_mid_sentence_ends_soon_after_its_last_sound() -> None:
    _, chunks = run(TOKENS, TextConfig(first_chunk_min_words=2, first_chunk_max_words=3))
    assert silence_after(chunks[0].samples) <= JOIN_KEEP_S + 1e-3
    assert silence_after(chunks[1].samples) >= TAIL_S - 1e-3  # a sentence keeps its pause


def test_without_an_early_chunk_every_chunk_keeps_its_silence() -> None:
    _, chunks = run(TOKENS, TextConfig(early_first_chunk=False))
    assert [silence_after(c.samples) >= TAIL_S - 1e-3 for c in chunks] == [True, True]


def test_mid_sentence_means_no_closing_punctuation() -> None:
    assert ends_mid_sentence("The capital of")
    assert ends_mid_sentence("It was 1455")
    assert not ends_mid_sentence("Paris.")
    assert not ends_mid_sentence("Well,")
    assert not ends_mid_sentence('He read "Dune"')
    assert not ends_mid_sentence("")


def test_trim_trailing_silence_keeps_the_sound_and_a_little_after() -> None:
    audio = np.concatenate([np.zeros(100, np.float32), np.full(800, 0.2, np.float32),
                            np.zeros(3200, np.float32)])
    trimmed = trim_trailing_silence(audio, RATE, keep_s=0.01)
    assert len(trimmed) == 900 + 160
    silent = np.zeros(500, np.float32)
    assert len(trim_trailing_silence(silent, RATE)) == 500

"""Listener: VAD-gated streaming recognition, with fakes (exact) and on real speech (slow)."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from voicebot.clock import FakeClock
from voicebot.config import EndpointConfig, StreamingConfig
from voicebot.events import (
    AudioFrame,
    SpeechEnded,
    SpeechStarted,
    TranscriptUpdate,
    UtteranceFinal,
    Word,
)
from voicebot.listener import Listener
from voicebot.testing.fakes import FakeAsr, FakeVad, scripted_audio

RATE = 16000
BLOCK = 480  # 30 ms


def run(listener: Listener, audio: np.ndarray) -> list[object]:
    """Feed audio block by block, doing all pending work after each block."""
    out: list[object] = []
    for i in range(0, len(audio), BLOCK):
        frame = AudioFrame(audio[i : i + BLOCK], RATE, i / RATE)
        out.extend(listener.push_audio(frame))
        while listener.has_work():
            out.append(listener.work())
    return out


def finals(events: list[object]) -> list[UtteranceFinal]:
    return [e for e in events if isinstance(e, UtteranceFinal)]


def test_one_utterance_streams_then_finalises() -> None:
    asr = FakeAsr(FakeClock(), "one two three four five six", compute_s=0.0)
    listener = Listener(FakeVad(), asr, EndpointConfig(), StreamingConfig(min_chunk_s=0.5))
    events = run(listener, scripted_audio([(0.5, 2.5)], total_s=4.0))
    kinds = [type(e).__name__ for e in events if not isinstance(e, TranscriptUpdate)]
    assert kinds == ["SpeechStarted", "SpeechEnded", "UtteranceFinal"]
    started = next(e for e in events if isinstance(e, SpeechStarted))
    ended = next(e for e in events if isinstance(e, SpeechEnded))
    (final,) = finals(events)
    assert final.text == "one two three four five six"
    assert final.speech_start == pytest.approx(started.at) == pytest.approx(0.51, abs=0.03)
    assert final.last_speech == pytest.approx(ended.last_speech)
    assert final.endpoint == pytest.approx(ended.at) and not final.forced
    assert final.words[0].start == pytest.approx(0.5, abs=0.02)  # absolute audio time
    streamed = [w for e in events if isinstance(e, TranscriptUpdate) for w in e.committed]
    assert streamed, "words are committed while the user is still speaking"
    assert not listener.in_speech and not listener.has_work()


def test_silence_costs_no_decode() -> None:
    asr = FakeAsr(FakeClock(), "never", compute_s=0.0)
    listener = Listener(FakeVad(), asr, EndpointConfig(), StreamingConfig())
    assert run(listener, np.zeros(5 * RATE, dtype=np.float32)) == []
    assert asr.calls == 0


def test_forced_cuts_keep_the_buffer_bounded() -> None:
    asr = FakeAsr(FakeClock(), " ".join(["word"] * 200), compute_s=0.0)
    endpoint = EndpointConfig(max_utterance_s=3.0)
    listener = Listener(FakeVad(), asr, endpoint, StreamingConfig(min_chunk_s=0.5))
    longest = 0.0
    events: list[object] = []
    audio = scripted_audio([(0.3, 10.3)], total_s=11.0)
    for i in range(0, len(audio), BLOCK):
        events.extend(listener.push_audio(AudioFrame(audio[i : i + BLOCK], RATE, i / RATE)))
        while listener.has_work():
            events.append(listener.work())
        current = listener._current
        if current is not None:
            longest = max(longest, current.transcriber.buffer_seconds)
    got = finals(events)
    assert [f.forced for f in got] == [True, True, True, False]
    assert longest <= 3.0 + 0.3 + 0.1  # max_utterance_s plus the pre-roll
    for a, b in pairwise(got):
        assert b.speech_start == pytest.approx(a.endpoint)  # no gap and no overlap
    assert all(f.text for f in got)


def test_discard_drops_the_utterance() -> None:
    asr = FakeAsr(FakeClock(), "one two three", compute_s=0.0)
    listener = Listener(FakeVad(), asr, EndpointConfig(), StreamingConfig())
    audio = scripted_audio([(0.2, 1.5)], total_s=1.5)
    for i in range(0, len(audio), BLOCK):
        listener.push_audio(AudioFrame(audio[i : i + BLOCK], RATE, i / RATE))
    assert listener.in_speech
    listener.discard()
    assert not listener.in_speech and not listener.has_work()
    rest = run(listener, np.zeros(RATE, dtype=np.float32))
    assert finals(rest) == []


def test_end_of_input_closes_an_open_utterance() -> None:
    asr = FakeAsr(FakeClock(), "one two", compute_s=0.0)
    listener = Listener(FakeVad(), asr, EndpointConfig(), StreamingConfig())
    run(listener, scripted_audio([(0.2, 1.5)], total_s=1.5))
    events = listener.end_of_input()
    assert [type(e) for e in events] == [SpeechEnded]
    assert listener.has_work()
    final = listener.work()
    assert isinstance(final, UtteranceFinal) and final.text == "one two"


class LaggingVad(FakeVad):
    """Calls speech on for `hangover` frames after the sound stops, as Silero does."""

    def __init__(self, hangover: int) -> None:
        super().__init__()
        self.hangover = hangover
        self._left = 0

    def speech_prob(self, frame: np.ndarray) -> float:
        if super().speech_prob(frame) >= 0.5:
            self._left = self.hangover
            return 1.0
        self._left -= 1
        return 1.0 if self._left >= 0 else 0.0


def pause_decode_times(audio: np.ndarray) -> list[float]:
    """Audio times at which the listener decoded (min_chunk_s long: only pause decodes)."""
    asr = FakeAsr(FakeClock(), "one two three four", compute_s=0.0)
    listener = Listener(LaggingVad(hangover=4), asr, EndpointConfig(end_ms=600),
                        StreamingConfig(min_chunk_s=30.0))
    times = []
    transcribe = asr.transcribe

    def timed(audio: np.ndarray, *, prompt: str = "") -> list[Word]:
        times.append(round(listener.audio_time, 3))
        return transcribe(audio, prompt=prompt)

    asr.transcribe = timed  # type: ignore[method-assign]
    run(listener, audio)
    return times


def test_the_pause_decode_counts_its_silence_from_where_the_sound_ends() -> None:
    # The sound ends at 2.01 s; the VAD calls speech on to 2.13 s. The decode runs once
    # SETTLE_S (0.09) has passed since 2.01 and the VAD called a frame silent: 2.16 s, not
    # 0.09 s after the VAD's last speech frame (2.22 s).
    audio = scripted_audio([(0.51, 2.01)], total_s=3.0)
    assert pause_decode_times(audio)[0] == pytest.approx(2.16)


def test_in_loud_noise_the_pause_decode_waits_settle_after_the_vads_last_speech() -> None:
    # Steady noise 10 dB under the voice (the VAD hears no speech in it): too loud to be
    # told from speech as room tone, so the level rule finds no end of the sound, and the
    # VAD's last speech frame (2.13 s) + 0.09 counts.
    audio = scripted_audio([(0.51, 2.01)], total_s=3.0)
    noise = np.random.default_rng(1).choice([-0.0316, 0.0316], size=len(audio))
    assert pause_decode_times((audio + noise).astype(np.float32))[0] == pytest.approx(2.22)


def test_in_room_tone_the_sound_ends_where_its_level_falls_into_the_noise_floor() -> None:
    # Steady noise 20 dB under the voice: above the -35 dB bar under the loud level, so
    # without the noise floor the sound would never end; it ends at 2.01 s, as in quiet.
    audio = scripted_audio([(0.51, 2.01)], total_s=3.0)
    noise = np.random.default_rng(1).choice([-0.01, 0.01], size=len(audio))
    assert pause_decode_times((audio + noise).astype(np.float32))[0] == pytest.approx(2.16)


@pytest.mark.slow
def test_jfk_end_to_end(speech_dir: Path, speech_manifest: dict[str, str]) -> None:
    from voicebot.asr.faster_whisper import FasterWhisperAsr
    from voicebot.audio.wav import read_wav
    from voicebot.bench.asr import normalized_wer
    from voicebot.vad.webrtc import WebRtcVad

    asr = FasterWhisperAsr(FasterWhisperAsr.Params())
    listener = Listener(WebRtcVad(), asr, EndpointConfig(), StreamingConfig())
    audio = read_wav(speech_dir / "jfk.wav")
    events = run(listener, np.concatenate([audio, np.zeros(RATE, dtype=np.float32)]))
    got = finals(events)
    assert got and not listener.in_speech
    text = " ".join(f.text for f in got)
    assert normalized_wer(speech_manifest["jfk.wav"], text) <= 0.2
    words = [w for f in got for w in f.words]
    assert all(a.start <= b.start for a, b in pairwise(words))
    assert 0.0 <= words[0].start < 1.0 and 9.5 < words[-1].end <= 11.2


def test_a_close_next_utterance_rehears_the_previous_words_without_repeating_them() -> None:
    asr = FakeAsr(FakeClock(), " ".join(f"w{i}" for i in range(30)), compute_s=0.0)
    listener = Listener(FakeVad(), asr, EndpointConfig(), StreamingConfig(min_chunk_s=0.5))
    events = run(listener, scripted_audio([(0.3, 1.8), (2.6, 4.0)], total_s=5.0))
    first, second = finals(events)
    assert first.text and second.text
    assert second.words[0].start > first.words[-1].end - 0.1
    starts = [w.start for f in (first, second) for w in f.words]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)


class SkipsAfterTheCarriedSentence:
    """Whisper's failure on a carried-over head: with the previous utterance's audio at the
    start of the buffer it transcribes only that sentence and stops; the new speech alone
    (louder here, so the fake can tell) is heard fine."""

    sample_rate = RATE
    word_timestamps = True

    def transcribe(self, audio: np.ndarray, *, prompt: str = "") -> list[Word]:
        loud = np.flatnonzero(np.abs(audio) > 0.05)
        if not len(loud):
            return []
        first_is_old = abs(audio[loud[0]]) < 0.15
        run = loud[np.abs(audio[loud]) < 0.15] if first_is_old else loud
        start, end = run[0] / RATE, (run[-1] + 1) / RATE
        texts = ["one", "two", "three."] if first_is_old else ["four", "five", "six."]
        step = (end - start) / len(texts)
        return [Word(start + i * step, start + (i + 1) * step, t) for i, t in enumerate(texts)]


def two_close_utterances(asr: Any) -> tuple[UtteranceFinal, UtteranceFinal]:
    """The finals of two utterances 0.8 s apart, the second louder (so the fakes can tell
    the carried-over audio from the new speech)."""
    audio = scripted_audio([(0.3, 1.8), (2.6, 4.0)], total_s=5.0)
    audio[round(2.6 * RATE) : round(4.0 * RATE)] *= 2.0
    listener = Listener(FakeVad(), asr, EndpointConfig(), StreamingConfig(min_chunk_s=0.5))
    first, second = finals(run(listener, audio))
    return first, second


def test_a_continuation_whisper_skips_behind_the_carried_words_is_decoded_again() -> None:
    first, second = two_close_utterances(SkipsAfterTheCarriedSentence())
    assert first.text == "one two three."
    assert second.text == "four five six."
    assert 2.2 < second.words[0].start < 2.7


class SkipsMostOfTheContinuation(SkipsAfterTheCarriedSentence):
    """The other failure on a carried-over head (jfk.wav's "ask what you can do for your
    country" heard as "your country"): the carried sentence, then only the last new word,
    timed at the end of the speech, so the final does not stop short."""

    def transcribe(self, audio: np.ndarray, *, prompt: str = "") -> list[Word]:
        words = super().transcribe(audio, prompt=prompt)
        loud = np.flatnonzero(np.abs(audio) > 0.15)
        if not words or words[0].text != "one" or not len(loud):
            return words
        start, end = loud[0] / RATE, (loud[-1] + 1) / RATE
        return [*words, Word(end - (end - start) / 3, end, "six.")]


def test_a_continuation_heard_as_too_few_words_is_decoded_again() -> None:
    first, second = two_close_utterances(SkipsMostOfTheContinuation())
    assert first.text == "one two three."
    assert second.text == "four five six."


JOINED = (
    ("lj_LJ001-0001.wav", "lj_LJ001-0002.wav"),
    ("lj_LJ001-0005.wav", "lj_LJ001-0006.wav"),
    ("jfk.wav", "timit_LDC93S1.wav"),
)


@pytest.mark.slow
@pytest.mark.parametrize("pause_s", [0.3, 0.9, 1.5])
def test_joined_recordings_lose_and_repeat_no_word(speech_dir: Path, pause_s: float) -> None:
    """Two recordings joined by a pause (a thought continued after it): the streaming
    transcript of the joined audio holds every word the two separate offline decodes give,
    none twice. Aligned after normalising; a word heard differently ("concern" /
    "concerned", "dark suit and" / "ducks in") is recognition, not carry-over: allowed. Not
    allowed: a lost word (a deletion that is not part of such a re-heard phrase, or two in
    a row) and a repeated one (an inserted word that one of the 3 before it already says)."""
    from voicebot.asr.faster_whisper import FasterWhisperAsr
    from voicebot.audio.wav import read_wav
    from voicebot.bench.asr import normalize_text
    from voicebot.vad.webrtc import WebRtcVad

    asr = FasterWhisperAsr()
    for first, second in JOINED:
        a, b = read_wav(speech_dir / first, RATE), read_wav(speech_dir / second, RATE)
        separate = " ".join(w.text for part in (a, b) for w in asr.transcribe(part))
        audio = np.concatenate([a, np.zeros(round(pause_s * RATE), np.float32), b,
                                np.zeros(RATE, np.float32)])
        listener = Listener(WebRtcVad(), asr, EndpointConfig(), StreamingConfig())
        events = run(listener, audio)
        listener.end_of_input()
        while listener.has_work():
            events.append(listener.work())
        joined = " ".join(f.text for f in finals(events))
        lost, repeated = carry_errors(normalize_text(separate), normalize_text(joined))
        assert (lost, repeated) == ([], []), (first, second, separate, joined)


def carry_errors(reference: str, hypothesis: str) -> tuple[list[str], list[str]]:
    """(lost words, repeated words) of `hypothesis` against `reference` (see above)."""
    import jiwer

    ref, hyp = reference.split(), hypothesis.split()
    chunks = jiwer.process_words(reference, hypothesis).alignments[0]
    lost: list[str] = []
    repeated: list[str] = []
    for i, chunk in enumerate(chunks):
        if chunk.type == "delete":
            beside = {c.type for c in chunks[max(i - 1, 0) : i + 2]}
            if chunk.ref_end_idx - chunk.ref_start_idx > 1 or "substitute" not in beside:
                lost += ref[chunk.ref_start_idx : chunk.ref_end_idx]
        elif chunk.type == "insert":
            for j in range(chunk.hyp_start_idx, chunk.hyp_end_idx):
                if hyp[j] in hyp[max(j - 3, 0) : j]:
                    repeated.append(hyp[j])
    return lost, repeated


def test_carry_errors_tell_lost_and_repeated_words_from_re_heard_ones() -> None:
    assert carry_errors("a dark suit and b", "a ducks in b") == ([], [])
    assert carry_errors("the exhibition in being", "the exhibition exhibition in being") == (
        [], ["exhibition"])
    assert carry_errors("for you ask what you", "for you what you") == (["ask"], [])
    assert carry_errors("she had your dog suit", "") == (
        ["she", "had", "your", "dog", "suit"], [])


@pytest.mark.parametrize(("over_reply", "preroll_s"), [(False, 0.3), (True, 0.7)])
def test_over_the_reply_the_recognizer_hears_a_longer_preroll(over_reply: bool,
                                                              preroll_s: float) -> None:
    # AEC3 hides a voice's first syllables over a loud reply, so the VAD hears it late: the
    # recognizer (which hears the words' filter, where they are) starts further back
    asr = FakeAsr(FakeClock(), "wait stop please", compute_s=0.0)
    listener = Listener(FakeVad(), asr, EndpointConfig(preroll_ms=300, preroll_over_reply_ms=700),
                        StreamingConfig(min_chunk_s=0.5))
    listener.over_reply(over_reply)
    audio = scripted_audio([(2.0, 3.5)], total_s=4.0)
    for i in range(0, len(audio), BLOCK):
        pushed = listener.push_audio(AudioFrame(audio[i : i + BLOCK], RATE, i / RATE))
        started = [e for e in pushed if isinstance(e, SpeechStarted)]
        if started:
            assert started[0].over_reply is over_reply
            assert listener._current is not None
            begin = listener._current.transcriber.buffer_start
            assert begin == pytest.approx(started[0].at - preroll_s, abs=1e-6)
            return
    raise AssertionError("no utterance started")


def test_an_utterance_begun_before_the_previous_final_keeps_its_whole_preroll() -> None:
    # The decoder is busy (no work done) from the first endpoint until the next onset: the
    # next utterance begins at its full pre-roll, not at the previous one's final pad, and
    # gets the previous words as history once they are final (nothing emitted twice).
    asr = FakeAsr(FakeClock(), " ".join(f"w{i}" for i in range(30)), compute_s=0.0)
    listener = Listener(FakeVad(), asr, EndpointConfig(), StreamingConfig(min_chunk_s=0.5))
    audio = scripted_audio([(0.3, 1.8), (2.25, 3.6)], total_s=4.6)
    events: list[object] = []
    begins: list[float] = []
    for i in range(0, len(audio), BLOCK):
        pushed = listener.push_audio(AudioFrame(audio[i : i + BLOCK], RATE, i / RATE))
        events.extend(pushed)
        if i / RATE > 2.0 and any(isinstance(e, SpeechStarted) for e in pushed):
            assert listener._current is not None
            begins.append(listener._current.transcriber.buffer_start)
        busy = 1.8 < i / RATE < 2.6
        while not busy and listener.has_work():
            events.append(listener.work())
    # the pre-roll (0.3 s before 2.25) reaches behind the previous final's pad (1.8 + 0.3)
    assert begins and abs(begins[0] - (2.25 - 0.3)) < 0.05
    first, second = finals(events)
    assert first.text and second.text
    starts = [w.start for f in (first, second) for w in f.words]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)


def test_a_carried_word_is_in_the_history_or_the_prompt_never_both() -> None:
    from voicebot.asr.carry import prompt_before
    from voicebot.asr.streaming import LocalAgreement

    policy = LocalAgreement()
    said = ["than", "cod", "liver", "oil."]
    words = [Word(1.0 + 0.3 * i, 1.25 + 0.3 * i, t) for i, t in enumerate(said)]
    policy.reset("Why, the average review is more nauseating")
    policy.committed = list(words)
    # the new buffer starts at 2.2: "oil." (1.9-2.15) ends within FINAL_PAD_S of it and
    # is carried; the prompt at the buffer start would hold it as well
    carried = [w for w in words if w.end > 2.2 - 0.3]
    assert [w.text for w in carried] == ["oil."]
    assert policy.prompt(2.2).endswith("liver oil.")
    assert prompt_before(policy, carried).endswith("nauseating than cod liver")
    assert prompt_before(policy, []) == policy.prompt(float("inf"))


class HearsOnlyTheFirstWord:
    """A decoder that, for its first `misses` calls, hears one word at the speech's start
    and nothing after it (as a streaming decode over the bot's reply did: five seconds of
    "Mr. Quilter is the apostle..." heard as "The"), and the whole line after that."""

    sample_rate = RATE
    word_timestamps = True

    def __init__(self, misses: int) -> None:
        self.misses = misses
        self.calls = 0

    def transcribe(self, audio: np.ndarray, *, prompt: str = "") -> list[Word]:
        self.calls += 1
        loud = np.flatnonzero(np.abs(audio) > 0.05)
        if not len(loud):
            return []
        start, end = loud[0] / RATE, (loud[-1] + 1) / RATE
        if self.calls <= self.misses:
            return [Word(start, start + 0.2, "The")]
        texts = ["Mister", "Quilter", "is", "the", "apostle", "of", "the", "middle", "classes."]
        step = (end - start) / len(texts)
        return [Word(start + i * step, start + (i + 1) * step, t) for i, t in enumerate(texts)]


def one_line(asr: Any, speech_s: float = 4.0) -> tuple[UtteranceFinal, Listener]:
    audio = scripted_audio([(0.3, 0.3 + speech_s)], total_s=speech_s + 1.5)
    listener = Listener(FakeVad(), asr, EndpointConfig(), StreamingConfig(min_chunk_s=0.5))
    (final,) = finals(run(listener, audio))
    return final, listener


def test_a_final_with_one_word_in_four_seconds_of_speech_is_decoded_again() -> None:
    deaf = HearsOnlyTheFirstWord(misses=10**6)
    final, listener = one_line(deaf)
    assert final.text == "The"  # a decode that hears no more is not kept
    assert listener.finals_decoded_again == (1, 0)
    misses = deaf.calls - 1  # every decode but the last: the one decode more
    final, listener = one_line(HearsOnlyTheFirstWord(misses))
    assert final.text == "Mister Quilter is the apostle of the middle classes."
    assert 0.2 < final.words[0].start < 0.4 and final.words[-1].end > 4.0
    assert listener.finals_decoded_again == (1, 1)


def test_one_word_in_a_second_and_a_half_of_speech_is_not_decoded_again() -> None:
    # a backchannel with the bot's residue after it: a second decode could only add a word
    # heard in the residue, and turn the backchannel into a turn
    final, listener = one_line(HearsOnlyTheFirstWord(misses=10**6), speech_s=1.5)
    assert final.text == "The" and listener.finals_decoded_again == (0, 0)

"""One time base: sources whose audio time starts before the loop or arrives in late bursts,
a sink whose device plays later than it is handed audio, and a voice with leading silence.
Every mark is on the loop's clock, so the figures are exact and never negative."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import numpy as np
import pytest
from test_pipeline_scenarios import REPLY, make_conversation

from voicebot.audio.clockmap import AudioClockMap
from voicebot.audio.levels import first_audible, trim_leading_silence
from voicebot.audio.sinks import Playback
from voicebot.audio.sources import WavReplaySource
from voicebot.audio.wav_sink import WavSink
from voicebot.clock import FakeClock
from voicebot.config import EndpointConfig, StreamingConfig
from voicebot.events import AudioFrame, SpeechEnded
from voicebot.listener import Listener
from voicebot.metrics import TurnRecord
from voicebot.testing.fakes import FakeAsr, FakeLlm, FakeTts, FakeVad, scripted_audio

RATE = 16000
FRAME = 480  # 30 ms

# The one-turn scenario of test_pipeline_scenarios: speech 0.48-2.52 s, endpoint 300 ms
# later, transcript final at the endpoint, LLM 0.2 s to the first token, first sentence
# 0.4 s after the request, TTS first audio 50 ms later.
ONE_TURN = {"speech_start": 0.48, "speech_end": 2.52, "endpoint": 2.82, "asr_final": 2.82,
            "llm_start": 2.82, "llm_first_token": 3.02, "first_sentence": 3.22,
            "tts_first_audio": 3.27, "playback_start": 3.27}


class EarlySource(WavReplaySource):
    """A microphone that was recording `head_start` seconds before the loop started: its
    backlog is there at the first read."""

    def __init__(self, audio: np.ndarray, head_start: float) -> None:
        super().__init__(audio, RATE, FRAME, speed=1.0)
        self.head_start = head_start

    def read_available(self, elapsed: float) -> list[AudioFrame]:
        return super().read_available(elapsed + self.head_start)

    def seconds_until_next(self, elapsed: float) -> float:
        return super().seconds_until_next(elapsed + self.head_start)


class BurstySource(WavReplaySource):
    """Blocks are delivered in bursts of `burst` (as a sound server with a long period
    does): a block arrives only when the last block of its burst is complete."""

    def __init__(self, audio: np.ndarray, burst: int) -> None:
        super().__init__(audio, RATE, FRAME, speed=1.0)
        self.burst = burst

    def _ready(self, elapsed: float) -> int:
        complete = super()._ready(elapsed)
        return min(complete - complete % self.burst, self._blocks) if complete < self._blocks \
            else complete

    def seconds_until_next(self, elapsed: float) -> float:
        if self.finished:
            return math.inf
        burst_end = (self._next // self.burst + 1) * self.burst
        return max(self._block_end(min(burst_end, self._blocks) - 1) - elapsed, 0.0)


class DeviceSink(WavSink):
    """A speaker whose device plays each block `lead` seconds after it is handed over."""

    def __init__(self, lead: float) -> None:
        super().__init__(None, RATE)
        self.lead = lead

    def play(self, samples: np.ndarray, sample_rate: int, at: float) -> Playback:
        laid = super().play(samples, sample_rate, at)
        return Playback(laid.expected, laid.expected + self.lead)


class SilentStartTts:
    """FakeTts's voice with `silence_s` of near-silence before every sentence."""

    def __init__(self, inner: FakeTts, silence_s: float) -> None:
        self.inner = inner
        self.silence = np.full(round(silence_s * RATE), 1e-4, dtype=np.float32)
        self.sample_rate = RATE

    def synthesize(self, text: str) -> Iterator[np.ndarray]:
        for chunk in self.inner.synthesize(text):
            yield np.concatenate([self.silence, chunk])


def one_turn(
    source_factory: Callable[[], WavReplaySource],
    sink: WavSink | None = None,
    tts_silence_s: float = 0.0,
) -> TurnRecord:
    clock = FakeClock()
    llm = FakeLlm(clock, REPLY, ttft_s=0.2, per_token_s=0.05)
    conversation, _, tts = make_conversation(clock, llm)
    if tts_silence_s:
        conversation.tts = SilentStartTts(tts, tts_silence_s)
    turns = conversation.run(source_factory(), sink or WavSink(None, RATE))
    assert [t.status for t in turns] == ["ok"]
    return turns[0]


def assert_marks(turn: TurnRecord, expected: dict[str, float]) -> None:
    for name, value in expected.items():
        assert turn.marks[name] == pytest.approx(value, abs=1e-6), name
    assert all(v >= -1e-9 for v in turn.figures.values()), turn.figures


def test_a_source_that_started_3_s_before_the_loop_is_mapped_onto_the_clock() -> None:
    # Speech at audio time 3.48-5.52 s is 0.48-2.52 s on the loop's clock: the 3 s backlog
    # arrives at the first read, so the mapping is learned there.
    audio = scripted_audio([(3.48, 5.52)], 7.0)
    turn = one_turn(lambda: EarlySource(audio, head_start=3.0))
    assert_marks(turn, ONE_TURN)
    assert turn.figures["e2e_latency"] == pytest.approx(0.75, abs=1e-6)


def test_bursty_late_blocks_do_not_shift_the_end_of_speech() -> None:
    # Blocks come in bursts of four (120 ms): the last block of a burst arrives on time,
    # the others up to 90 ms late. The end of speech stays at its true time 2.52 s; the
    # endpoint (audio 2.82 s, block 93) is seen when its burst (blocks 92-95) arrives at 2.88.
    audio = scripted_audio([(0.48, 2.52)], 4.0)
    turn = one_turn(lambda: BurstySource(audio, burst=4))
    assert turn.marks["speech_end"] == pytest.approx(2.52, abs=1e-6)
    assert turn.marks["endpoint"] == pytest.approx(2.88, abs=1e-6)
    assert turn.figures["end_of_turn_delay"] == pytest.approx(0.36, abs=1e-6)
    assert all(v >= -1e-9 for v in turn.figures.values()), turn.figures


def test_e2e_ends_when_the_device_plays_the_first_sample() -> None:
    audio = scripted_audio([(0.48, 2.52)], 4.0)
    turn = one_turn(lambda: WavReplaySource(audio, RATE, FRAME), sink=DeviceSink(lead=0.07))
    assert_marks(turn, {**ONE_TURN, "playback_start": 3.34})
    assert turn.figures["e2e_latency"] == pytest.approx(0.82, abs=1e-6)


def test_the_voice_leading_silence_is_not_waited_for() -> None:
    # 40 ms of near-silence before each sentence: the reply's first chunk starts at its
    # first audible sample (less 5 ms), so the user hears it 5 ms after the plain voice.
    audio = scripted_audio([(0.48, 2.52)], 4.0)
    sink = WavSink(None, RATE)
    turn = one_turn(lambda: WavReplaySource(audio, RATE, FRAME), sink=sink,
                    tts_silence_s=0.04)
    assert_marks(turn, {**ONE_TURN, "playback_start": 3.275})
    out = sink.samples()
    assert first_audible(out) == round(3.275 * RATE)


def test_clock_map_takes_the_smallest_arrival_lag() -> None:
    m = AudioClockMap()
    assert not m.known
    with pytest.raises(RuntimeError):
        m.to_clock(1.0)
    m.observe(audio_end=3.0, now=0.0)  # a 3 s backlog at the loop's start
    m.observe(audio_end=3.3, now=0.45)  # late: does not move the mapping
    assert m.to_clock(3.48) == pytest.approx(0.48)
    m.observe(audio_end=3.6, now=0.55)  # earlier than any before: the better estimate
    assert m.to_clock(3.48) == pytest.approx(0.43)
    lagged = AudioClockMap(latency=0.02)
    lagged.observe(1.0, 1.0)
    assert lagged.to_clock(0.5) == pytest.approx(0.48)
    fast = AudioClockMap(speed=2.0)
    fast.observe(2.0, 1.0)
    assert fast.to_clock(1.0) == pytest.approx(0.5)


def test_first_audible_and_trim() -> None:
    rate = 1000
    x = np.concatenate([np.zeros(40), np.full(5, 1e-4), np.full(10, 0.5)]).astype(np.float32)
    assert first_audible(x) == 45
    assert first_audible(np.zeros(10)) is None and first_audible(np.zeros(0)) is None
    trimmed = trim_leading_silence(x, rate)
    assert len(trimmed) == len(x) - 40 and first_audible(trimmed) == 5
    assert trim_leading_silence(np.zeros(7), rate).shape == (7,)


class RunOnVad(FakeVad):
    """Calls speech until audio time `until`, as a VAD's frame decisions run on past the
    sound of a word's end."""

    def __init__(self, until: float) -> None:
        super().__init__(RATE, FRAME)
        self.until = until
        self.seen = 0

    def speech_prob(self, frame: np.ndarray) -> float:
        start = self.seen / RATE
        self.seen += len(frame)
        return 1.0 if 0.48 <= start < self.until - 1e-9 else 0.0


def test_the_end_of_speech_is_where_the_sound_ends_not_the_vad_frame() -> None:
    audio = scripted_audio([(0.48, 2.0)], 3.0)
    audio[round(2.0 * RATE):round(2.1 * RATE)] = 1e-4  # a faint tail the VAD calls speech
    clock = FakeClock()
    listener = Listener(RunOnVad(until=2.1), FakeAsr(clock, "hello", compute_s=0.1),
                        EndpointConfig(end_ms=300), StreamingConfig(), RATE)
    source = WavReplaySource(audio, RATE, FRAME, speed=None)
    ended: list[SpeechEnded] = []
    while not source.finished:
        for frame in source.read_available(0.0):
            ended += [e for e in listener.push_audio(frame) if isinstance(e, SpeechEnded)]
    assert len(ended) == 1
    assert ended[0].at == pytest.approx(2.4, abs=1e-6)  # the endpoint: VAD end + 300 ms
    assert ended[0].last_speech == pytest.approx(2.0, abs=1e-6)  # the sound's end

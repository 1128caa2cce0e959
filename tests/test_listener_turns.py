"""The listener with a turn detector: a scripted detector and the text rule on fake speech,
exact in audio time (the decode in the pause runs at once: compute 0 on a FakeClock)."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from voicebot.clock import FakeClock
from voicebot.config import EndpointConfig, StreamingConfig, TurnConfig
from voicebot.events import AudioFrame, SpeechEnded, SpeechStarted, UtteranceFinal, Word
from voicebot.listener import Listener
from voicebot.testing.fakes import FakeAsr, FakeVad, ScriptedDetector, scripted_audio
from voicebot.workers import Workers

RATE = 16000
BLOCK = 480  # 30 ms
TEXT = "I went to the shop and bought some bread"  # 3 words a second: "to" ends at 1.5 s
PAUSED = [(0.5, 1.5), (2.5, 3.5)]  # a 1.0 s pause right after "to"


def run(listener: Listener, audio: np.ndarray) -> list[object]:
    out: list[object] = []
    for i in range(0, len(audio), BLOCK):
        out.extend(listener.push_audio(AudioFrame(audio[i : i + BLOCK], RATE, i / RATE)))
        while listener.has_work():
            out.append(listener.work())
    return out


def listener(detector: ScriptedDetector | None, text_rule: bool) -> Listener:
    asr = FakeAsr(FakeClock(), TEXT, compute_s=0.0)
    return Listener(FakeVad(), asr, EndpointConfig(end_ms=210), StreamingConfig(), RATE,
                    turn=detector, turn_cfg=TurnConfig(backend="smart-turn", text_rule=text_rule,
                                                       recheck_ms=600, max_silence_ms=2000))


def finals(events: list[object]) -> list[str]:
    return [e.text for e in events if isinstance(e, UtteranceFinal)]


def test_silence_rule_cuts_the_sentence_at_the_pause() -> None:
    events = run(listener(None, text_rule=True), scripted_audio(PAUSED, total_s=4.5))
    assert finals(events) == ["I went to", "the shop and bought some bread"]


def test_text_rule_holds_the_turn_over_a_pause_after_a_function_word() -> None:
    detector = ScriptedDetector(0.9)  # the audio model is fooled: "finished"
    events = run(listener(detector, text_rule=True), scripted_audio(PAUSED, total_s=4.5))
    assert finals(events) == [TEXT]
    (ended,) = [e for e in events if isinstance(e, SpeechEnded)]
    assert ended.last_speech == pytest.approx(3.51, abs=0.01)
    assert ended.at == pytest.approx(3.51 + 0.21, abs=0.031)  # the short pause: 210 ms
    # asked once, at the end only (the text ruled the first pause), on the turn's audio
    (call,) = detector.calls
    assert call[1] == TEXT
    assert call[0] == pytest.approx(3.72 - 0.51 + 0.3, abs=0.04)  # onset - preroll .. now


def test_detector_alone_decides_without_the_text_rule() -> None:
    events = run(listener(ScriptedDetector(0.9), text_rule=False),
                 scripted_audio(PAUSED, total_s=4.5))
    assert finals(events) == ["I went to", "the shop and bought some bread"]


def test_a_question_mark_ends_the_turn_without_asking_the_model() -> None:
    detector = ScriptedDetector(0.0)
    asr = FakeAsr(FakeClock(), "Why is the sky blue?", compute_s=0.0)
    listener = Listener(FakeVad(), asr, EndpointConfig(end_ms=210), StreamingConfig(), RATE,
                        turn=detector, turn_cfg=TurnConfig(backend="smart-turn"))
    events = run(listener, scripted_audio([(0.5, 2.2)], total_s=3.5))
    assert finals(events) == ["Why is the sky blue?"]
    (ended,) = [e for e in events if isinstance(e, SpeechEnded)]
    assert ended.at - ended.last_speech == pytest.approx(0.21, abs=0.031)
    assert detector.calls == []


def test_not_finished_waits_for_the_hard_timeout() -> None:
    detector = ScriptedDetector(0.1)
    events = run(listener(detector, text_rule=False), scripted_audio([(0.5, 1.5)], total_s=4.5))
    (ended,) = [e for e in events if isinstance(e, SpeechEnded)]
    assert ended.at - ended.last_speech == pytest.approx(2.0, abs=0.031)
    # asked after 210 ms, then every 600 ms more: 0.21, 0.81, 1.41 s of silence
    assert len(detector.calls) == 3


class InventsAnEnding(FakeAsr):
    """Whisper at a pause inside a sentence: the hypothesis that stops on "to" ends with a
    word that was never said, squeezed into 80 ms ("She had you?", "as the invention.")."""

    def transcribe(self, audio: np.ndarray, *, prompt: str = "") -> list[Word]:
        words = super().transcribe(audio, prompt=prompt)
        if words and words[-1].text == "to":
            end = words[-1].end
            words.append(Word(end, end + 0.08, "you?"))
        return words


def test_a_squeezed_invented_last_word_does_not_hide_the_function_word() -> None:
    detector = ScriptedDetector(0.9)  # the audio model is fooled: "finished"
    asr = InventsAnEnding(FakeClock(), TEXT, compute_s=0.0)
    listener = Listener(FakeVad(), asr, EndpointConfig(end_ms=210), StreamingConfig(), RATE,
                        turn=detector, turn_cfg=TurnConfig(backend="smart-turn"))
    events = run(listener, scripted_audio(PAUSED, total_s=4.5))
    (ended,) = [e for e in events if isinstance(e, SpeechEnded)]  # held over the pause
    assert ended.last_speech == pytest.approx(3.51, abs=0.01)
    assert all(text.endswith("bread") for _, text in detector.calls)


class HearsNothingAtFirst(FakeAsr):
    """A short first word after a pause that Whisper decodes as nothing ("But" of
    ls_1089-134691-0001 behind a finished sentence): no words until more speech comes."""

    def transcribe(self, audio: np.ndarray, *, prompt: str = "") -> list[Word]:
        words = super().transcribe(audio, prompt=prompt)
        return words if len(words) > 3 else []


def test_a_pause_after_speech_with_no_word_heard_yet_does_not_end_the_turn() -> None:
    detector = ScriptedDetector(0.9)  # the audio model is fooled: "finished"
    asr = HearsNothingAtFirst(FakeClock(), TEXT, compute_s=0.0)
    listener = Listener(FakeVad(), asr, EndpointConfig(end_ms=210), StreamingConfig(), RATE,
                        turn=detector, turn_cfg=TurnConfig(backend="smart-turn"))
    events = run(listener, scripted_audio([(0.5, 1.1), (2.1, 3.5)], total_s=4.5))
    (ended,) = [e for e in events if isinstance(e, SpeechEnded)]  # held over the pause
    assert ended.last_speech == pytest.approx(3.51, abs=0.01)
    assert detector.calls and all(text for _, text in detector.calls)


class BlockingDetector(ScriptedDetector):
    """Answers only once the test releases it, and records the thread it ran on."""

    def __init__(self, p: float) -> None:
        super().__init__(p)
        self.release = threading.Event()
        self.threads: list[str] = []

    def p_finished(self, audio: np.ndarray, text: str) -> float:
        self.threads.append(threading.current_thread().name)
        assert self.release.wait(5), "the test never released the detector"
        return super().p_finished(audio, text)


def test_a_detector_on_its_own_thread_never_holds_up_the_audio() -> None:
    detector = BlockingDetector(0.9)
    asr = FakeAsr(FakeClock(), TEXT, compute_s=0.0)
    live = Listener(FakeVad(), asr, EndpointConfig(end_ms=210), StreamingConfig(), RATE,
                    turn=detector, workers=Workers(threaded=True),
                    turn_cfg=TurnConfig(backend="smart-turn", text_rule=False))
    audio = scripted_audio([(0.5, 1.5)], total_s=3.0)
    events = run(live, audio[: round(2.4 * RATE)])  # asked at ~1.71 s; still thinking
    assert not [e for e in events if isinstance(e, SpeechEnded)]
    assert detector.threads == ["voicebot-turn"]
    detector.release.set()
    deadline = time.monotonic() + 5
    assert live.judge is not None
    verdicts = live.judge.verdicts
    while verdicts.latest is not None and not verdicts.latest.future.done():
        assert time.monotonic() < deadline
        time.sleep(0.005)
    events = run_from(live, audio, 2.4)
    (ended,) = [e for e in events if isinstance(e, SpeechEnded)]
    assert ended.at == pytest.approx(2.43, abs=0.031)  # the first frame after the verdict
    assert finals(events) == ["I went to"]
    assert len(detector.threads) == 1  # one call for the pause, not one per frame


def run_from(listener: Listener, audio: np.ndarray, start_s: float) -> list[object]:
    out: list[object] = []
    for i in range(round(start_s * RATE), len(audio), BLOCK):
        out.extend(listener.push_audio(AudioFrame(audio[i : i + BLOCK], RATE, i / RATE)))
        while listener.has_work():
            out.append(listener.work())
    return out


def first_verdict_audio_end(audio: np.ndarray, others_idle: bool = True
                            ) -> tuple[float, list[object]]:
    """Where the audio of the detector's first call ended, and the events, with the
    detector on its thread (answering before the next frame is read)."""
    detector = ScriptedDetector(0.9)
    asr = FakeAsr(FakeClock(), TEXT, compute_s=0.0)
    live = Listener(FakeVad(), asr, EndpointConfig(end_ms=210), StreamingConfig(), RATE,
                    turn=detector,
                    workers=Workers(threaded=True, others_idle=lambda: others_idle),
                    turn_cfg=TurnConfig(backend="smart-turn", text_rule=False))
    events: list[object] = []
    for i in range(0, len(audio), BLOCK):
        events.extend(live.push_audio(AudioFrame(audio[i : i + BLOCK], RATE, i / RATE)))
        while live.has_work():
            events.append(live.work())
        assert live.judge is not None
        live.judge.verdicts.wait(timeout=5)  # let the thread answer before the next frame
    (started,) = [e for e in events if isinstance(e, SpeechStarted)]
    assert len(detector.calls) == 1
    return started.at - 0.3 + detector.calls[0][0], events  # the pre-roll is 300 ms


def test_the_detector_starts_with_the_pause_decode_on_the_audio_up_to_then() -> None:
    # The sound ends at 1.5 s: the pause decode runs at 1.59 s (SETTLE_S of silence) and
    # the detector starts with it, on the audio up to 1.59 s; the policy's ask at 210 ms
    # of VAD silence (1.71 s) takes that answer, and the turn ends there.
    heard_until, events = first_verdict_audio_end(scripted_audio([(0.5, 1.5)], total_s=3.0))
    assert heard_until == pytest.approx(1.59, abs=1e-6)
    (ended,) = [e for e in events if isinstance(e, SpeechEnded)]
    assert ended.at == pytest.approx(1.71, abs=1e-6)
    assert finals(events) == ["I went to"]


def test_in_loud_noise_the_detector_starts_at_the_ask() -> None:
    # Noise 10 dB under the voice (too loud to be room tone): the level rule finds no end
    # of the sound, so the detector hears the 210 ms of VAD silence the ask waits for.
    audio = scripted_audio([(0.5, 1.5)], total_s=3.0)
    noise = np.random.default_rng(1).choice([-0.0316, 0.0316], size=len(audio))
    heard_until, events = first_verdict_audio_end((audio + noise).astype(np.float32))
    assert heard_until == pytest.approx(1.71, abs=1e-6)
    assert finals(events) == ["I went to"]


def test_beside_busy_processes_the_detector_starts_at_the_ask() -> None:
    # The pause decode keeps the other core then: the detector waits for the ask (1.71 s).
    audio = scripted_audio([(0.5, 1.5)], total_s=3.0)
    heard_until, events = first_verdict_audio_end(audio, others_idle=False)
    assert heard_until == pytest.approx(1.71, abs=1e-6)
    assert finals(events) == ["I went to"]

"""Both VAD backends on real speech, digital silence and white noise; params and errors.

Measured on jfk.wav (11 s, 30/32 ms frames, threshold 0.5): webrtcvad aggressiveness 3 marks
~89% of frames as speech, silero ~68% (it skips the pauses between phrases). White noise at
RMS 0.1 is ~100% "speech" for webrtcvad at every aggressiveness, and 0% for silero.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from voicebot.audio.framing import Reframer
from voicebot.audio.wav import read_wav
from voicebot.config import EndpointConfig, build_dataclass
from voicebot.errors import ConfigError, ModelNotFoundError
from voicebot.events import SpeechEnded, SpeechStarted
from voicebot.vad.segmenter import Endpointer
from voicebot.vad.silero import SileroVad, builtin_model_path
from voicebot.vad.webrtc import WebRtcVad


def probs(vad: WebRtcVad | SileroVad, audio: np.ndarray) -> np.ndarray:
    vad.reset()
    frames = Reframer(vad.frame_samples).push(audio)
    return np.array([vad.speech_prob(f) for f in frames])


def white_noise(seconds: float, rms: float = 0.1) -> np.ndarray:
    rng = np.random.default_rng(7)
    return (rng.standard_normal(round(16000 * seconds)) * rms).astype(np.float32)


SILENCE = np.zeros(32000, dtype=np.float32)


@pytest.fixture(scope="module")
def silero() -> SileroVad:
    return SileroVad()


@pytest.fixture
def jfk(speech_dir: Path) -> np.ndarray:
    return read_wav(speech_dir / "jfk.wav")


# ---- webrtcvad -----------------------------------------------------------------------


@pytest.mark.parametrize("frame_ms", [10, 20, 30])
def test_webrtc_frame_sizes(frame_ms: int) -> None:
    vad = WebRtcVad(WebRtcVad.Params(frame_ms=frame_ms))  # type: ignore[arg-type]
    assert vad.frame_samples == 16 * frame_ms
    assert set(probs(vad, SILENCE).tolist()) == {0.0}


def test_webrtc_on_real_speech(jfk: np.ndarray) -> None:
    p = probs(WebRtcVad(), jfk)
    assert set(p.tolist()) <= {0.0, 1.0}
    assert p.mean() > 0.8


def test_webrtc_silence_and_white_noise() -> None:
    for aggressiveness in range(4):
        vad = WebRtcVad(WebRtcVad.Params(aggressiveness=aggressiveness))
        assert probs(vad, SILENCE).max() == 0.0
        # a known limit of the WebRTC GMM: steady broadband noise counts as speech
        assert probs(vad, white_noise(2.0)).mean() > 0.9
    assert probs(WebRtcVad(), white_noise(2.0, rms=0.01)).mean() < 0.1


def test_webrtc_rejects_wrong_frame_length() -> None:
    with pytest.raises(ValueError, match="480 samples"):
        WebRtcVad().speech_prob(np.zeros(512, dtype=np.float32))


def test_webrtc_params_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"vad\.aggressiveness: 5 must be 0, 1, 2 or 3"):
        build_dataclass(WebRtcVad.Params, {"aggressiveness": 5}, tmp_path / "c.yaml", "vad")
    with pytest.raises(ConfigError, match=r"vad\.frame_ms: 25 is not allowed"):
        build_dataclass(WebRtcVad.Params, {"frame_ms": 25}, tmp_path / "c.yaml", "vad")


# ---- silero --------------------------------------------------------------------------


def test_silero_builtin_model_is_the_package_onnx() -> None:
    path = builtin_model_path()
    assert path.name in ("silero_vad.onnx", "silero_vad_v6.onnx") and path.is_file()


def test_silero_on_real_speech_silence_and_noise(silero: SileroVad, jfk: np.ndarray) -> None:
    p = probs(silero, jfk)
    assert 0.55 < (p >= 0.5).mean() < 0.85  # speech, but not the pauses between phrases
    assert p.max() > 0.95
    assert probs(silero, SILENCE).max() < 0.1
    assert (probs(silero, white_noise(2.0)) >= 0.5).mean() < 0.05


def test_silero_state_is_carried_and_reset(silero: SileroVad, jfk: np.ndarray) -> None:
    first = probs(silero, jfk[:32000])
    again = probs(silero, jfk[:32000])  # probs() resets first: same stream, same answer
    np.testing.assert_allclose(first, again, atol=1e-6)
    # without a reset the recurrent state changes the answer for the same frame
    silero.reset()
    frame = jfk[16000:16512]
    fresh = silero.speech_prob(frame)
    for f in Reframer(512).push(jfk[:16000]):
        silero.speech_prob(f)
    assert abs(silero.speech_prob(frame) - fresh) > 1e-3


def test_silero_faster_whisper_layout_agrees(jfk: np.ndarray) -> None:
    try:
        from voicebot.assets import package_file

        path = package_file("faster_whisper", "faster-whisper", "assets/silero_vad_v6.onnx")
    except ModelNotFoundError:
        pytest.skip("faster-whisper's silero_vad_v6.onnx is not installed")
    other = SileroVad(SileroVad.Params(model=str(path)))
    a = probs(other, jfk) >= 0.5
    assert 0.5 < a.mean() < 0.85


def test_silero_missing_and_bad_model(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="Silero VAD model not found"):
        SileroVad(SileroVad.Params(model=str(tmp_path / "none.onnx")))
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(ModelNotFoundError, match="cannot load as an ONNX model"):
        SileroVad(SileroVad.Params(model=str(bad)))
    with pytest.raises(ValueError, match="512 samples"):
        SileroVad().speech_prob(np.zeros(480, dtype=np.float32))


# ---- VAD + endpointer on real speech -------------------------------------------------


@pytest.mark.parametrize("backend", ["webrtcvad", "silero"])
def test_endpointing_real_speech(backend: str, jfk: np.ndarray, silero: SileroVad) -> None:
    vad = WebRtcVad() if backend == "webrtcvad" else silero
    audio = np.concatenate([jfk, np.zeros(16000, dtype=np.float32)])
    ep = Endpointer(EndpointConfig())
    events: list[object] = []
    frame_s = vad.frame_samples / 16000
    for i, p in enumerate(probs(vad, audio)):
        events += ep.push(i * frame_s, frame_s, p)
    starts = [e for e in events if isinstance(e, SpeechStarted)]
    ends = [e for e in events if isinstance(e, SpeechEnded)]
    assert len(starts) == len(ends) >= 2  # JFK pauses between phrases
    assert starts[0].at < 0.5
    assert 10.5 < ends[-1].last_speech < 11.3 and not ends[-1].forced
    assert ends[-1].at == pytest.approx(ends[-1].last_speech + 0.4, abs=0.04)

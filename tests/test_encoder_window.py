"""The shorter Whisper encoder window (voicebot/asr/encoder_window.py): pure parts."""

from __future__ import annotations

import numpy as np

from voicebot.asr.encoder_window import content_frames, trimming_encoder, window_frames

PAD = -0.5  # the value faster-whisper's padding frames take after normalisation


def _features(content: int, total: int = 3000, mels: int = 80) -> np.ndarray:
    rng = np.random.default_rng(content)
    features = np.full((mels, total), PAD, dtype=np.float32)
    features[:, :content] = rng.standard_normal((mels, content))
    return features


def test_content_ends_where_the_padding_starts() -> None:
    assert content_frames(_features(201)) == 201
    assert content_frames(np.full((80, 3000), PAD, dtype=np.float32)) == 0


def test_a_batch_keeps_its_longest_content() -> None:
    batch = np.stack([_features(150), _features(420)])
    assert content_frames(batch) == 420


def test_window_is_content_plus_padding_even_and_capped() -> None:
    assert window_frames(_features(201), 8.0) == 1050  # 201 + 800, up to whole 0.5 s
    assert window_frames(_features(201), 8.0, step_s=0.0) == 1002  # ... or to even frames
    assert window_frames(_features(200), 8.0) == 1000  # already whole: no more padding
    assert {window_frames(_features(n), 8.0) for n in range(1, 1000)} == set(
        range(850, 1801, 50))  # 999 content lengths, 20 windows
    assert window_frames(_features(2500), 8.0) == 3000  # never more than the input has
    assert window_frames(_features(3000), 0.0) == 3000  # a full window stays full
    assert window_frames(_features(200), 0.0) == 200
    assert window_frames(_features(201), 0.0) == 250


def test_the_encoder_gets_the_trimmed_window() -> None:
    seen: list[tuple[int, ...]] = []

    def encode(features: np.ndarray) -> str:
        seen.append(features.shape)
        assert features.flags["C_CONTIGUOUS"]
        return "encoded"

    features = _features(300)[None]
    assert trimming_encoder(encode, 5.0)(features) == "encoded"
    assert seen == [(1, 80, 800)]
    np.testing.assert_array_equal(features[..., :300], _features(300)[None, :, :300])

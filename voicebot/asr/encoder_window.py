"""A shorter Whisper encoder window: the speech plus some padding, not always 30 s.

Whisper's encoder was trained on 30 s windows, and faster-whisper pads every input to
3000 mel frames, so a 2 s question costs as much encoder time as 30 s of speech: ~0.42 s
of a ~0.45 s decode with tiny.en on one core here. CTranslate2's encoder accepts shorter
inputs, but with no padding at all the model loses its bearings (most short dev recordings
decode to nothing). Keeping a few seconds of the padding Whisper saw in training brings the
transcripts back. On the 19 dev recordings under 28 s, one thread
(`scripts/encoder_window.py`): WER 0.044 with the full 30 s, 0.604 with no padding, 0.089
with 3 s, 0.044 with 5 s, 0.055 with 8 s, 0.048 with 10 s; median decode 476 ms at 30 s,
112-209 ms with 3-10 s. The default, 8 s, was chosen before that run as a margin over the
smallest padding that held the WER, so unseen speech is not decoded on the edge.

The window's length is rounded up to whole steps of `STEP_S`. CTranslate2 keeps what it
built for each input shape it has seen, so windows of every length to the 20 ms made a
long session grow: 120 streamed questions cut at arbitrary points grew the heap by 140 MB
before levelling off; with 0.5 s steps, RSS stayed at 301 MB. That bounds the shapes to the 60 a
window can have, at no cost measured: median decode 95.0 ms with 20 ms steps, 95.3 ms
with 0.5 s, 97.0 ms with 1 s, alternating on the same cuts (tiny.en, one thread).

Padding is recognised in the features themselves: faster-whisper pads with digital
silence, whose log-mel frames are all equal to the last frame of the window. So the trim
needs no state and is safe when several threads decode at once (voicebot serve).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

FRAMES_PER_S = 100  # Whisper's mel hop: 10 ms
STEP_S = 0.5
"""Windows are whole multiples of this (see the module docstring)."""


def content_frames(features: np.ndarray) -> int:
    """Frames up to the last one that differs from the padding (the window's last frame,
    so a window with no padding counts one frame short): the largest over a batch
    (batch, mels, frames) or of one window (mels, frames)."""
    batch = features if features.ndim == 3 else features[None]
    last = batch[:, :, -1:]
    differs = np.any(batch != last, axis=1)  # (batch, frames)
    if not differs.any():
        return 0
    return int(np.nonzero(differs.any(axis=0))[0].max()) + 1


def window_frames(features: np.ndarray, pad_s: float, step_s: float = STEP_S) -> int:
    """The encoder window for these features: their content plus at least `pad_s` of
    padding, rounded up to a whole number of `step_s` and to an even number of frames (the
    encoder halves it), never more than they have."""
    total = int(features.shape[-1])
    wanted = content_frames(features) + round(pad_s * FRAMES_PER_S)
    step = max(2, round(step_s * FRAMES_PER_S))
    wanted = -(-wanted // step) * step
    wanted += wanted % 2
    return min(total, max(2, wanted))


def trimming_encoder(encode: Callable[[np.ndarray], Any], pad_s: float) -> Callable[
        [np.ndarray], Any]:
    """Wrap faster-whisper's `WhisperModel.encode(features)` to encode a shorter window."""

    def encode_window(features: np.ndarray) -> Any:
        frames = window_frames(features, pad_s)
        return encode(np.ascontiguousarray(features[..., :frames]))

    return encode_window

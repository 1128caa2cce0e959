"""A linear echo filter for what the recognizer hears while the bot talks (double talk).

AEC3 (audio/echo.py) removes the bot's voice from the microphone with a linear filter and
then a suppressor that attenuates whatever still sounds like echo. The suppressor is what
keeps the VAD from hearing the bot (77 dB of echo removed in `bench duplex`), but when the
user speaks over a loud reply it also eats the user's first words: "Mr. Quilter is..."
came out "With the creator is...". pywebrtc-audio exposes none of AEC3's settings, and
its linear stage's output is not reachable.

So the words get a filter of their own: a partitioned-block frequency-domain NLMS filter
(the classic FDAF, as in Speex's MDF and AEC3's own linear stage) that subtracts the
predicted echo and nothing else. Its residue is 20-25 dB under the echo, which Whisper
ignores beside the user's voice, while the voice passes whole. The VAD still hears AEC3,
so the bot's residue never starts an utterance; this filter only changes what an
utterance that the VAD started is transcribed from.

The filter must not learn from the user's voice (double talk would pull its weights off
the room), and AEC3 cannot say when the user speaks: it takes a voice under the echo for
echo. The filter tells on its own: where it removes much less from a block than it has
been removing (DOUBLE_TALK_DB), something it cannot predict from the speaker is in the room,
and it holds still. A room that changed looks the same, so a filter that has held still
through STALL_S of the bot's voice starts learning again.

The words take the filter's output wherever the bot's voice may be in the room, not only
where the filter hears a voice besides it: gated so, the quiet start of a line came from
AEC3's output and its first words were lost again (`bench duplex`: 15.7 % WER against
2.0 % alone, where the ungated filter gave 3.9 % against 3.9 %).
"""

from __future__ import annotations

import numpy as np

BLOCK = 160
"""10 ms at 16 kHz: the canceller's frame; the FFT is twice as long (overlap-save)."""
TAIL_S = 0.5
"""The longest echo path the filter models: delay plus reverberation (audio/echo.py's
ECHO_TAIL_S; a laptop's is 50-200 ms of delay and a short tail)."""
STEP = 0.5
"""NLMS step size (0-1): 0.5 learned the simulated room to ~23 dB in 8 s of reply."""
DOUBLE_TALK_DB = 10.0
"""A block from which the filter removes this much less than its running ERLE holds more
than the echo: it does not learn from it."""
STALL_S = 3.0
"""Held still this long while the bot spoke: the room changed (nobody speaks over the bot
that long: a barge-in stops it), so the filter relearns, and until it is trusted again the
words get AEC3's output."""
QUIET_DBFS = -60.0  # a quieter microphone block says nothing about the room
TRUSTED_ERLE_DB = 15.0
"""The filter's output goes to the recognizer only once it removes at least this much of
the echo (smoothed over adapting frames); until then the words get AEC3's output."""
ERLE_SMOOTHING = 0.98
RECOMPUTE_BLOCKS = 100


class LinearEchoFilter:
    """Subtracts the echo of `far` predicted by an adaptive linear filter from `near`, in
    blocks of BLOCK samples (the gradient is not constrained: on the dev lines in the
    simulated room the constrained filter took 1.5x the CPU for no fewer word errors)."""

    def __init__(self, sample_rate: int = 16000, tail_s: float = TAIL_S,
                 step: float = STEP) -> None:
        if sample_rate != 16000:
            raise ValueError(f"the linear echo filter works at 16000 Hz, not {sample_rate}")
        self.sample_rate = sample_rate
        self.step = step
        self.partitions = int(np.ceil(tail_s * sample_rate / BLOCK))
        bins = BLOCK + 1
        self._weights = np.zeros((self.partitions, bins), dtype=np.complex64)
        # The far end's spectra, newest first, as a window into a doubled ring (each
        # spectrum is written twice, so the window is always one contiguous view).
        self._ring = np.zeros((2 * self.partitions, bins), dtype=np.complex64)
        self._head = self.partitions
        self._spectra = self._ring[self._head: self._head + self.partitions]
        self._power = np.zeros(bins, dtype=np.float64)  # of the spectra, per bin
        self._blocks = 0
        self._previous = np.zeros(BLOCK, dtype=np.float32)
        self._echo_in = 1e-12
        self._echo_out = 1e-12
        self._held = 0  # blocks held still in a row
        self._stall_blocks = round(STALL_S * sample_rate / BLOCK)

    @property
    def erle_db(self) -> float:
        """Echo removed so far, smoothed over the frames it adapted on."""
        return float(10.0 * np.log10(self._echo_in / self._echo_out))

    @property
    def holding(self) -> bool:
        """Whether it held still on the last block: something besides the echo (double
        talk), or a room it no longer knows."""
        return self._held > 0

    @property
    def trusted(self) -> bool:
        return self.erle_db >= TRUSTED_ERLE_DB

    def rest(self) -> None:
        """The speaker has been silent for the whole tail: no echo to predict. Clears the
        far end's history, which is all but silent anyway (cheaper than filtering)."""
        if self._previous.any() or self._power.any():
            self._ring[:] = 0.0
            self._power[:] = 0.0
            self._previous = np.zeros(BLOCK, dtype=np.float32)

    def process(self, near: np.ndarray, far: np.ndarray) -> np.ndarray:
        """One block: `near` from the microphone, `far` what the speaker played meanwhile
        (on the microphone's time base, as AEC3 gets it); learns where the block is echo
        alone."""
        if len(near) != BLOCK or len(far) != BLOCK:
            raise ValueError(f"the linear echo filter takes blocks of {BLOCK} samples")
        far = np.asarray(far, dtype=np.float32)
        spectrum = np.fft.rfft(np.concatenate([self._previous, far])).astype(np.complex64)
        self._previous = far
        self._push(spectrum)
        echo = np.fft.irfft(np.sum(self._weights * self._spectra, axis=0))[BLOCK:]
        near = np.asarray(near, dtype=np.float32)
        error = (near - echo).astype(np.float32)
        self._follow(float(np.dot(near, near)), float(np.dot(error, error)), error)
        return error

    def _push(self, spectrum: np.ndarray) -> None:
        """The newest spectrum in, the oldest out, and the per-bin power kept up to date
        (recomputed now and then, so rounding does not build up)."""
        oldest = self._spectra[-1].copy()  # its slot in the ring is about to be written
        self._head = self._head - 1 if self._head > 0 else self.partitions - 1
        self._ring[self._head] = self._ring[self._head + self.partitions] = spectrum
        self._spectra = self._ring[self._head: self._head + self.partitions]
        self._blocks += 1
        if self._blocks % RECOMPUTE_BLOCKS == 0:
            self._power = np.asarray(np.sum(np.abs(self._spectra) ** 2, axis=0), dtype=np.float64)
        else:
            self._power += np.abs(spectrum) ** 2 - np.abs(oldest) ** 2

    def _follow(self, near_energy: float, error_energy: float, error: np.ndarray) -> None:
        """Learn from an echo-alone block; count the blocks held still (see STALL_S)."""
        if near_energy < BLOCK * 10 ** (QUIET_DBFS / 10):
            return
        removed_db = 10.0 * np.log10(near_energy / max(error_energy, 1e-20))
        if removed_db < self.erle_db - DOUBLE_TALK_DB:
            self._held += 1
            if self._held >= self._stall_blocks:
                self._echo_in = self._echo_out = 1e-12
                self._held = 0
            return
        self._held = 0
        self._learn(error)
        self._echo_in = ERLE_SMOOTHING * self._echo_in + near_energy
        self._echo_out = ERLE_SMOOTHING * self._echo_out + error_energy

    def _learn(self, error: np.ndarray) -> None:
        power = np.maximum(self._power, 0.0)
        norm = power + 1e-2 * float(power.mean()) + 1e-6  # the far end's power over the span
        gradient = np.fft.rfft(np.concatenate([np.zeros(BLOCK, dtype=np.float32), error]))
        self._weights += (self.step * np.conj(self._spectra)
                          * (gradient / norm).astype(np.complex64)[None, :])

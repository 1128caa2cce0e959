"""A WAV file as the speaker: the reply audio laid out on the session's timeline, exactly
where it would have been heard (for machines with no audio device, benches and tests)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from voicebot.audio.played import PlayedAudio
from voicebot.audio.resample import resample
from voicebot.audio.sinks import Playback

SETTLED_AFTER_S = 2.0  # reply audio this far behind the latest hand-over can no longer be cut


class WavSink:
    """Lays the reply audio out on session time (silence in the gaps), as a 16-bit WAV at
    `path`. `played` holds what was laid out, for an echo canceller or a simulated room
    (voicebot/testing/room.py).

    Memory stays bounded in a long session: audio that ended `SETTLED_AFTER_S` before the
    latest time handed to the sink can no longer be cut by a barge-in, so it is settled:
    written to the file (when there is one) and dropped. Only with `keep=True` (no path:
    benches and tests that read `samples()`) is the whole session kept in memory."""

    live = False

    def __init__(self, path: str | Path | None, sample_rate: int = 22050,
                 keep: bool | None = None) -> None:
        from voicebot.audio.wav import WavWriter, open_wav_early

        self.path = Path(path) if path is not None else None
        if self.path is not None:  # a bad path fails now, not after the session
            open_wav_early(self.path, "the reply audio", sample_rate)
        self.keep = self.path is None if keep is None else keep
        self._writer = WavWriter(self.path, sample_rate) if self.path is not None else None
        self.sample_rate = sample_rate
        self.min_length_s = 0.0  # pad to this (the input's length) when written
        self._chunks: list[tuple[int, np.ndarray]] = []  # (start sample, samples), in order
        self._settled = 0  # samples before this were written out (or dropped) and forgotten
        self._latest_at = 0.0  # the latest session time handed to the sink
        self._length = 0  # samples laid out so far
        self._busy_until = 0.0
        self._closed = False
        self.played = PlayedAudio()
        self._held: list[tuple[np.ndarray, Playback | None]] | None = None  # while paused

    def play(self, samples: np.ndarray, sample_rate: int, at: float) -> Playback:
        data = resample(np.asarray(samples, dtype=np.float32).reshape(-1), sample_rate,
                        self.sample_rate)
        self._settle(at)
        if self._held is not None:  # paused: it plays after what is held, once resumed
            playback = Playback(math.inf)
            self._held.append((data, playback))
            return playback
        return self._lay_out(data, at)

    def _lay_out(self, data: np.ndarray, at: float) -> Playback:
        start = max(at, self._busy_until)
        index = max(round(start * self.sample_rate), self._length)
        if len(data):
            self._chunks.append((index, data))
            self._length = index + len(data)
            self.played.add(index / self.sample_rate,
                            self.played.prepare(data, self.sample_rate))
        self._busy_until = start + len(data) / self.sample_rate
        return Playback(start, start)

    def busy_until(self) -> float:
        return self._busy_until

    def stop(self, at: float) -> None:
        self._settle(at)
        self._held = None
        self._cut(at)

    def _settle(self, at: float) -> None:
        """Write out and forget the chunks that ended long enough before `at`."""
        self._latest_at = max(self._latest_at, at)
        if self.keep:
            return
        boundary = round((self._latest_at - SETTLED_AFTER_S) * self.sample_rate)
        done = 0
        for index, data in self._chunks:
            if index + len(data) > boundary:
                break
            self._write_silence(index - self._settled)
            self._write(data)
            self._settled = index + len(data)
            done += 1
        del self._chunks[:done]

    def _write(self, samples: np.ndarray) -> None:
        if self._writer is not None:
            self._writer.write(samples)

    def _write_silence(self, count: int) -> None:
        """`count` zero samples, a second at a time (a long gap is not one big buffer)."""
        block = np.zeros(self.sample_rate, dtype=np.float32)
        while count > 0 and self._writer is not None:
            self._writer.write(block[:count])
            count -= len(block)

    def _cut(self, at: float) -> np.ndarray:
        """Drop what was laid out from `at` on, and return it (silent gaps included)."""
        if at >= self._busy_until:
            return np.zeros(0, dtype=np.float32)
        cut = max(round(at * self.sample_rate), self._settled)
        rest = np.zeros(max(self._length - cut, 0), dtype=np.float32)
        kept = []
        for index, data in self._chunks:
            if index < cut:
                kept.append((index, data[: cut - index]))
            tail = data[max(cut - index, 0):]
            if len(tail):
                offset = max(index - cut, 0)
                rest[offset : offset + len(tail)] = tail
        self._chunks = kept
        self._length = min(self._length, cut)
        self._busy_until = max(at, self._settled / self.sample_rate, 0.0)
        self.played.cut(self._busy_until)
        return rest

    def pause(self, at: float) -> None:
        self._settle(at)
        if self._held is None:
            self._held = [(self._cut(at), None)]

    def resume(self, at: float) -> None:
        self._settle(at)
        held, self._held = self._held, None
        for data, playback in held or []:
            laid = self._lay_out(data, at)
            if playback is not None:
                playback.expected = playback.started = laid.start

    def samples(self) -> np.ndarray:
        """Everything played so far, from session time 0, as float32 (a sink that keeps
        it: `keep`), or what is still held, from `held_from()` on."""
        if not self.keep and self._settled:
            raise RuntimeError("this WavSink does not keep the whole session (keep=False)")
        return self._held_samples()

    def held_from(self) -> float:
        """Session time of the first sample still held in memory."""
        return self._settled / self.sample_rate

    def _held_samples(self) -> np.ndarray:
        out = np.zeros(max(self._length - self._settled, 0), dtype=np.float32)
        for index, data in self._chunks:
            out[index - self._settled : index - self._settled + len(data)] = data
        return out

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._writer is not None:
            audio = self._held_samples()
            short = round(self.min_length_s * self.sample_rate) - self._settled - len(audio)
            if not self._settled and not len(audio) and short <= 0:
                return  # nothing was played: the empty WAV written at the start stays
            self._writer.write(audio)
            self._write_silence(short)
            self._writer.close()

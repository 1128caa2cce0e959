"""The VAD over the bot's voice: it hears AEC3's output, and the words' filter too.

With echo cancellation the VAD hears AEC3's output, whose suppressor keeps the bot's own
voice from starting an utterance. Over a loud reply it also holds back the first syllables
of a user who speaks: Silero heard such lines 547 ms after their first audible sample at
the median (p90 707 ms) on AEC3's output, and 451 ms (p90 653 ms) on the words' linear
filter's output (audio/linear_echo.py), with no onset in the bot's voice alone on either
(`scripts/double_talk_wer.py --onsets`, the dev lines in three rooms). A late onset costs
twice: the reply is paused later (barge-in), and the recognizer's pre-roll starts after the
first words.

So while the recognizer hears the filter (the bot's voice may be in the room and the
filter has learned it), a second VAD listens to it, and a block is speech if either VAD
hears speech there; the second one counts only where the filter held still through most
of the block (DOUBLE_TALK_SHARE): it heard something it could not explain from the
speaker. Its residue of the bot's voice alone, 20-25 dB under the echo, is speech to Silero
too: ungated, `bench duplex` heard "And it's up." in the bot's voice and cut the reply, and
gated it still opened an utterance in the bot's voice now and then. So it also counts only
where the first VAD hears a trace of a voice in AEC3's output (P >= AEC3_TRACE_P): the
suppressor holds a user's first syllables back but lets a little through, and leaves
nothing of the bot's residue (offline, Silero's P on AEC3's output of the bot alone stayed
<= 0.021 over 47 s of replies in five rooms).
Elsewhere the two outputs are the same audio and the second VAD rests; it starts fresh
whenever the filter's output comes back (its state is about other audio).
"""

from __future__ import annotations

import numpy as np

from voicebot.vad.base import Vad

DOUBLE_TALK_SHARE = 0.5
"""The second VAD's verdict counts where the filter held still for this share of the block
(offline, 0.2 and 0.5 found the dev lines' onsets as soon as the ungated ear did)."""
AEC3_TRACE_P = 0.05
"""The second VAD's verdict counts where the first one gives AEC3's output at least this.
Offline (the dev lines in three rooms, 2 frames, onset after the clean line's own): 0.05
found them 10 / 74 ms late (median / p90) with no onset in the bot's voice alone, where the
hold gate alone found them 10 / 42 ms late with 9 onsets in the bot's voice, and AEC3's
output alone 74 / 183 ms; 0.1 and 0.2: 42 / 74-119 ms (docs/duplex.md)."""


class TwoEars:
    def __init__(self, vad: Vad, words_vad: Vad | None = None) -> None:
        if words_vad is not None and words_vad.frame_samples != vad.frame_samples:
            raise ValueError("the two VADs must take the same frame length")
        self.vad = vad
        self.words_vad = words_vad
        self._words_listening = False

    def speech_prob(self, heard: np.ndarray, words: np.ndarray, double_talk: float) -> float:
        """P(speech) of one block: `heard` is what the VAD hears (AEC3's output), `words`
        what the recognizer hears of the same block, `double_talk` the share of the block
        where the words' filter held still."""
        prob = self.vad.speech_prob(heard)
        if self.words_vad is None or words is heard or np.array_equal(words, heard):
            self._words_listening = False
            return prob
        if not self._words_listening:
            self.words_vad.reset()
            self._words_listening = True
        words_prob = self.words_vad.speech_prob(words)  # every block: the VAD keeps state
        if double_talk >= DOUBLE_TALK_SHARE and prob >= AEC3_TRACE_P:
            return max(prob, words_prob)
        return prob

    def reset(self) -> None:
        self.vad.reset()
        self._words_listening = False

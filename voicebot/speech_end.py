"""Where the sound of speech ends in the input audio: the level rule (audio/levels.py's
`speech_offset`, against the room's noise floor) on the listener's timeline, and the pause
decode's time that it sets (`Pause`, SETTLE_S).

A VAD frame decision runs on past a word's end, or cuts a soft last syllable: the VAD's last
speech frame runs on 0.04-0.14 s past the sound's end (dev questions). The listener counts
the user's wait, and the silence before its pause decode, from where the sound ends.
"""

from __future__ import annotations

from dataclasses import replace

from voicebot.asr.carry import CARRY_S
from voicebot.asr.online import FINAL_PAD_S
from voicebot.audio.levels import frame_db, room_noise, speech_offset
from voicebot.audio.timeline import AudioTimeline
from voicebot.events import SpeechEnded

SETTLE_S = 0.09
"""After this much silence the listener runs a decode at once (not waiting for
`min_chunk_s`): if the endpoint then fires with no speech in between, that hypothesis already
heard the whole utterance and the final needs no decode of its own, so the transcript is
final right at the endpoint instead of one decode later. The silence is counted from where
the sound of speech ends in the audio (`speech_offset`), once the VAD has called a frame
silent: the VAD's last speech frame runs on 0.04-0.14 s past it (dev questions), so counting
from the VAD would start every pause decode, and so every reply, that much later. Never later
than SETTLE_S after the VAD's last speech frame (in noise the sound never ends by the level
rule)."""


class Pause:
    """The VAD's last speech frame and, in the pause after it, where the sound ended."""

    def __init__(self, timeline: AudioTimeline, frame_s: float) -> None:
        self.timeline = timeline
        self.frame_s = frame_s
        self.last_voiced = 0.0  # end of the last frame classified as speech
        self.sound_end: float | None = None  # where the sound ended, in this VAD pause

    def frame(self, voiced: bool, now: float, onset: float | None) -> None:
        """A VAD frame ending at `now`, in the utterance whose speech began at `onset` (None
        outside one)."""
        if voiced:
            self.last_voiced = now
            self.sound_end = None
        elif onset is not None and self.sound_end is None:
            self.sound_end = sound_end(self.timeline, onset, now)

    def sound_ended(self) -> bool:
        """The level rule found where the sound ended, before the VAD's last speech frame
        (not so in noise: the audio never falls below the speech level)."""
        return self.sound_end is not None and self.sound_end <= self.last_voiced + 1e-9

    def settled_at(self, now: float) -> float:
        """The audio a pause decode must hear up to: SETTLE_S past the sound's end, at least
        one silent VAD frame, at most SETTLE_S past the VAD's last speech frame."""
        latest = self.last_voiced + SETTLE_S
        if self.sound_end is None or now <= self.last_voiced:
            return latest
        return min(latest, max(self.sound_end + SETTLE_S, self.last_voiced + self.frame_s))


def heard_end(timeline: AudioTimeline, event: SpeechEnded, onset: float) -> SpeechEnded:
    """The event with `last_speech` moved to where the sound of speech ends in the audio
    (the start of the user's wait), in the utterance whose speech began at `onset`. It moves
    at most FINAL_PAD_S later, the audio the final decode hears past the VAD's last speech
    frame anyway."""
    if event.forced:
        return event
    begin = max(onset, timeline.start)
    end = min(event.last_speech + FINAL_PAD_S, timeline.end)
    found = speech_offset(timeline.slice(begin, end), timeline.sample_rate,
                          noise_dbfs=_room_noise(timeline))
    if found is None:
        return event
    return replace(event, last_speech=begin + found)


def sound_end(timeline: AudioTimeline, onset: float, now: float) -> float:
    """Where the sound of speech ends before the pause at audio time `now` (the level rule
    of `heard_end` on the utterance's recent audio: its last CARRY_S, which the timeline
    keeps); `now` when it has not ended."""
    begin = max(timeline.start, onset, now - CARRY_S)
    found = speech_offset(timeline.slice(begin, now), timeline.sample_rate,
                          noise_dbfs=_room_noise(timeline))
    return now if found is None else begin + found


def _room_noise(timeline: AudioTimeline) -> float:
    """The room's noise floor over all the input audio kept (the pauses before and between
    utterances), which one utterance's slice may not hold."""
    kept = timeline.slice(timeline.start, timeline.end)
    return room_noise(frame_db(kept, timeline.sample_rate))

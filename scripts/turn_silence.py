"""Smart Turn's P(finished) against the silence it hears after the sound of speech ends.

The detector starts with the decode that hears a pause (SETTLE_S or more after the sound's
end), no longer at the ask (endpoint.end_ms of VAD silence, ~0.25-0.35 s after it). This
prints P at 0.10, 0.15, 0.20 and 0.30 s of silence for the finished turns of `bench talk`,
the mid-sentence pauses of `bench turns` (1.0 s inserted after a function word), and counts
the natural pauses inside the dev recordings (those the VAD holds for 200 ms, speech after
them) heard as finished early (0.12 s, or the VAD's last frame + SETTLE_S if sooner) and at
the ask, and how long those pauses last: an end of turn that waits longer than the ask would
hold the shorter ones, at the cost of that wait after every finished turn.

    python scripts/turn_silence.py [--config configs/default.yaml] [--speech-dir DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from voicebot.audio.levels import speech_offset
from voicebot.audio.wav import read_wav
from voicebot.bench import talk
from voicebot.bench.speech_set import DEFAULT_SPEECH_DIR, read_manifest
from voicebot.bench.turn_sets import paused_set
from voicebot.bench.turns_rig import set_builder
from voicebot.config import load_config
from voicebot.loading import load_tts, load_turn, load_vad
from voicebot.speech_end import SETTLE_S

RATE = 16000
SILENCES = (0.10, 0.15, 0.20, 0.30)
EARLY_S = 0.12
ASK_S = 0.2


def p_at(detector: Any, audio: np.ndarray, until: float) -> float:
    """P(finished) on the 8 s of `audio` before `until` (silence past its end)."""
    end = round(until * RATE)
    clip = audio[max(0, end - 8 * RATE):end]
    if end > len(audio):
        clip = np.concatenate([clip, np.zeros(end - len(audio), np.float32)])
    return float(detector.p_finished(clip, ""))


def table(name: str, rows: list[tuple[str, float]], audio_of: dict[str, np.ndarray],
          detector: Any) -> None:
    print(f"{name}: P at {', '.join(f'{s:.2f}' for s in SILENCES)} s of silence")
    ps = np.array([[p_at(detector, audio_of[label], end + s) for s in SILENCES]
                   for label, end in rows])
    for (label, _), row in zip(rows, ps, strict=True):
        print(f"  {label[:48]:48s} " + " ".join(f"{p:.2f}" for p in row))
    print("  P >= 0.5: " + ", ".join(f"{int(np.sum(ps[:, i] >= 0.5))}/{len(ps)}"
                                     for i in range(len(SILENCES))))


def silence_runs(probs: list[float], frame_s: float, at_least: float) -> list[float]:
    """Lengths of the VAD-silent runs of at least `at_least` s between speech frames."""
    runs, silence, spoke = [], 0.0, False
    for prob in probs:
        if prob >= 0.5:
            if spoke and silence >= at_least - 1e-6:
                runs.append(silence)
            spoke, silence = True, 0.0
        elif spoke:
            silence += frame_s
    return runs


def natural_pauses(speech_dir: Path, vad: Any, detector: Any) -> None:
    early = at_ask = count = 0
    lengths: list[float] = []
    for row in read_manifest(speech_dir):
        audio = read_wav(speech_dir / row["file"], RATE)
        vad.reset()
        size = vad.frame_samples
        probs = [vad.speech_prob(audio[i:i + size]) for i in range(0, len(audio) - size + 1,
                                                                    size)]
        frame_s = size / RATE
        lengths += silence_runs(probs, frame_s, ASK_S)
        last_voiced: float | None = None
        silence, asked = 0.0, False
        for k, prob in enumerate(probs):
            if prob >= 0.5:
                last_voiced, silence, asked = (k + 1) * frame_s, 0.0, False
                continue
            silence += frame_s
            if last_voiced is None or asked or silence < ASK_S - 1e-6:
                continue
            asked = True
            if not any(p >= 0.5 for p in probs[k + 1:]):
                continue  # the end of the recording, not a pause inside it
            begin = max(0.0, last_voiced - 3.0)
            found = speech_offset(audio[round(begin * RATE):round(last_voiced * RATE)], RATE)
            sound_end = begin + found if found is not None else last_voiced
            count += 1
            early += p_at(detector, audio, min(sound_end + EARLY_S,
                                               last_voiced + SETTLE_S)) >= 0.5
            at_ask += p_at(detector, audio, (k + 1) * frame_s) >= 0.5
    print(f"natural pauses inside the recordings: {count}; heard as finished early "
          f"{early}, at the ask {at_ask}")
    shorter = ", ".join(f"< {cap:.1f} s: {sum(x < cap - 1e-6 for x in lengths)}"
                        for cap in (0.3, 0.4, 0.5, 0.6, 1.0))
    print(f"their VAD silences ({len(lengths)}): {shorter}; median "
          f"{float(np.median(lengths)):.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--config", type=Path, help="YAML config (default: the default one)")
    parser.add_argument("--speech-dir", type=Path, default=DEFAULT_SPEECH_DIR,
                        help="real speech with manifest.tsv (default ../shared/speech/dev)")
    args = parser.parse_args()  # before any model loads: --help is instant
    cfg = load_config(args.config)
    detector, vad, tts = load_turn(cfg), load_vad(cfg), load_tts(cfg)
    speech_dir = args.speech_dir
    turns = talk.synthesized_turns(tts, cfg, 6) + talk.real_turns(speech_dir, RATE, 4)
    audio_of = {t.label: t.audio for t in turns}
    finished = [(t.label, speech_offset(t.audio, RATE) or 0.0) for t in turns]
    table("finished turns (bench talk)", finished, audio_of, detector)
    paused = paused_set(speech_dir, set_builder(), RATE, 15)
    audio_of.update({u.label: u.audio for u in paused})
    table("mid-sentence pauses (bench turns)", [(u.label, u.pause_at) for u in paused],
          audio_of, detector)
    natural_pauses(speech_dir, vad, detector)


if __name__ == "__main__":
    main()

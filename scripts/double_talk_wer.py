"""What the recognizer hears of a user who speaks over the bot: offline WER of the configured
ASR on real lines said over a piper reply in the simulated room, through the echo stage as
the VAD hears it (AEC3's output) and as the recognizer hears it (`audio.echo_words: linear`,
voicebot/audio/linear_echo.py), against the same lines alone.

    .venv/bin/python scripts/double_talk_wer.py                        # the dev lines
    .venv/bin/python scripts/double_talk_wer.py --speech-dir DIR       # any set with manifest.tsv

Each line (2-6 s, said at -26 dBFS, 6 dB under the bot's echo at a 0 dB path) begins 0.8 s
into a reply that follows 8 s of another (the room is learned, as in `bench duplex` from the
second reply on). The reply stops `--react` seconds after the line's first audible sample
(barge-in), and the rooms are `bench duplex`'s: 0 dB at 100 and 200 ms, and -10 dB at 50 ms.
The recognizer hears the line from 0.3 s before its first audible sample (the pre-roll).

    .venv/bin/python scripts/double_talk_wer.py --onsets

measures instead how soon Silero hears each line under a reply that goes on (3 frames of
speech in a row, as `endpoint.start_over_reply_ms` 90, and 2 frames, as 60) after its first
audible sample: on AEC3's output alone, on the words' filter output alone, and on either
(`audio.echo_onsets: either`, vad/two_ears.py, what the listener does); and the onsets each
finds in the bot's voice alone before the line (each one a reply paused for nothing).

    .venv/bin/python scripts/double_talk_wer.py --preroll 300 600 900

measures the WER as the listener gets it: the utterance begins where Silero hears the line
on AEC3's output (2 frames in a row, `endpoint.start_over_reply_ms` 60), and the recognizer
hears the words' filter output from each pre-roll before that onset (`endpoint.preroll_ms`
and `endpoint.preroll_over_reply_ms`); the reply stops 0.1 s after the onset is heard. A line
that AEC3 hides is heard late, so a 0.3 s pre-roll can miss its first word.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

RATE = 16000
FRAME = 480
LINE_DBFS = -26.0
ROOMS = ((0.0, 100.0), (0.0, 200.0), (-10.0, 50.0))  # (gain dB, delay ms)
LEARN_TEXT = ("The capital of France is Paris. It sits on the river Seine and has about two "
              "million people. Paris is known for the Eiffel Tower, the Louvre and its cafes.")
REPLY_TEXT = ("Photosynthesis is how plants turn sunlight, water and carbon dioxide into sugar "
              "and oxygen. It happens in the leaves, inside tiny green parts called "
              "chloroplasts.")


def main() -> None:
    from voicebot.bench.speech_set import DEFAULT_SPEECH_DIR

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--speech-dir", type=Path, default=DEFAULT_SPEECH_DIR)
    parser.add_argument("--config", type=Path, default=Path("configs/default.yaml"))
    parser.add_argument("--react", type=float, nargs="+", default=[0.2, 0.5],
                        help="seconds from the line's onset to the reply stopping")
    parser.add_argument("--onsets", action="store_true",
                        help="Silero's onsets under the reply instead of the WER")
    parser.add_argument("--threshold", type=float, nargs="+", default=[0.5],
                        help="with --onsets: Silero's speech thresholds to try")
    parser.add_argument("--preroll", type=float, nargs="+", metavar="MS",
                        help="WER from each pre-roll (ms) before the onset Silero hears")
    parser.add_argument("--listener", type=float, nargs="+", metavar="S",
                        help="WER of the whole listener's finals, each line said this many "
                        "seconds into the reply")
    args = parser.parse_args()
    if args.listener:
        measure_listener(args.speech_dir, args.config, args.listener)
    elif args.preroll:
        measure_prerolls(args.speech_dir, args.config, args.preroll)
    elif args.onsets:
        measure_onsets(args.speech_dir, args.config, args.threshold)
    else:
        measure(args.speech_dir, args.config, args.react)


def _material(speech_dir: Path, cfg: Any) -> tuple[np.ndarray, np.ndarray,
                                                    list[tuple[str, str, np.ndarray]]]:
    """The reply that teaches the room, the reply spoken over, and the lines at LINE_DBFS."""
    from voicebot.audio.levels import rms_dbfs
    from voicebot.audio.resample import resample
    from voicebot.audio.wav import read_wav
    from voicebot.bench.speech_set import read_manifest
    from voicebot.loading import load_tts

    tts = load_tts(cfg)

    def say(text: str) -> np.ndarray:
        pcm = np.concatenate(list(tts.synthesize(text))).astype(np.float32)
        return resample(pcm, tts.sample_rate, RATE)

    lines = []
    for row in read_manifest(speech_dir):
        audio = read_wav(speech_dir / row["file"], RATE)
        if 2.0 <= len(audio) / RATE <= 6.0:
            scaled = audio * np.float32(10 ** ((LINE_DBFS - rms_dbfs(audio)) / 20))
            lines.append((row["file"], row["reference_text"], scaled))
    return say(LEARN_TEXT), say(REPLY_TEXT + " " + REPLY_TEXT), lines


def measure(speech_dir: Path, config: Path, reacts: list[float]) -> None:
    from voicebot.config import load_config
    from voicebot.loading import load_asr

    cfg = load_config(config)
    asr = load_asr(cfg)
    learn, reply, lines = _material(speech_dir, cfg)
    print(f"{len(lines)} lines of 2-6 s from {speech_dir}, {len(ROOMS)} rooms each")
    print("| reply stops after | alone | AEC3 (what the VAD hears) | words (linear) |")
    print("|---|---:|---:|---:|")
    for react in reacts:
        errors = {"alone": [0, 0], "aec3": [0, 0], "words": [0, 0]}
        for _, reference, line in lines:
            for gain_db, delay_ms in ROOMS:
                heard, _ = over_the_bot(line, learn, reply, react, gain_db, delay_ms)
                for name, audio in heard.items():
                    text = " ".join(w.text for w in asr.transcribe(audio))
                    _count(errors[name], reference, text)
        cells = [f"{100 * e / max(n, 1):.1f} %" for e, n in errors.values()]
        print(f"| {react * 1000:.0f} ms | " + " | ".join(cells) + " |")


def _count(total: list[int], reference: str, text: str) -> None:
    from voicebot.bench.asr import word_errors

    e, n = word_errors(reference, text)
    total[0] += e
    total[1] += n


def measure_onsets(speech_dir: Path, config: Path, thresholds: list[float]) -> None:
    from voicebot.config import load_config
    from voicebot.vad.silero import SileroVad
    from voicebot.vad.two_ears import TwoEars

    learn, reply, lines = _material(speech_dir, load_config(config))
    ears = {"aec3": TwoEars(SileroVad()), "words": TwoEars(SileroVad()),
            "either (echo_onsets: either)": TwoEars(SileroVad(), SileroVad())}
    runs = {f"{name}, {frames} frames, P >= {threshold}": (name, frames, threshold)
            for name in ears for frames in (3, 2) for threshold in thresholds}
    late: dict[str, list[float]] = {row: [] for row in runs}
    false = dict.fromkeys(late, 0)
    for _, _, line in lines:
        for gain_db, delay_ms in ROOMS:
            heard, at = over_the_bot(line, learn, reply, None, gain_db, delay_ms)
            for row, (name, frames, threshold) in runs.items():
                vad_hears = heard["words" if name == "words" else "aec3"]
                found = _onsets(ears[name], vad_hears, heard["words"], heard["double talk"],
                                frames, threshold)
                false[row] += sum(3.0 < t < at for t in found)
                after = [t - at for t in found if t >= at]
                late[row].append(after[0] if after else float("inf"))
    print(f"{len(lines)} lines of 2-6 s from {speech_dir}, {len(ROOMS)} rooms each")
    print("| Silero hears, speech frames in a row | onset median | p90 | "
          "onsets in the bot's voice alone |")
    print("|---|---:|---:|---:|")
    for row, values in late.items():
        median, p90 = np.median(values) * 1000, np.percentile(values, 90) * 1000
        print(f"| {row} | {median:.0f} ms | {p90:.0f} ms | {false[row]} |")


def measure_prerolls(speech_dir: Path, config: Path, prerolls_ms: list[float]) -> None:
    from voicebot.config import load_config
    from voicebot.loading import load_asr
    from voicebot.vad.silero import SileroVad
    from voicebot.vad.two_ears import TwoEars

    cfg = load_config(config)
    asr = load_asr(cfg)
    learn, reply, lines = _material(speech_dir, cfg)
    ears = TwoEars(SileroVad())
    errors = {ms: [0, 0] for ms in prerolls_ms}
    alone = [0, 0]
    late: list[float] = []
    for _, reference, line in lines:
        _count(alone, reference, " ".join(w.text for w in asr.transcribe(line)))
        for gain_db, delay_ms in ROOMS:
            heard, at = over_the_bot(line, learn, reply, None, gain_db, delay_ms)
            found = [t for t in _onsets(ears, heard["aec3"], heard["words"],
                                        heard["double talk"], 2) if t >= at - 0.1]
            if not found:
                late.append(float("inf"))
                continue
            heard_at = found[0]
            late.append(heard_at - at)
            stopped, _ = over_the_bot(line, learn, reply, heard_at + 0.1 - at, gain_db,
                                      delay_ms, keep_all=True)
            run_start = heard_at - 2 * 512 / RATE
            for ms in prerolls_ms:
                begin = max(0, round((run_start - ms / 1000) * RATE))
                end = round((at + len(line) / RATE) * RATE)
                text = " ".join(w.text for w in asr.transcribe(stopped["words"][begin:end]))
                _count(errors[ms], reference, text)
    print(f"{len(lines)} lines of 2-6 s from {speech_dir}, {len(ROOMS)} rooms each; "
          f"onset heard {np.median(late) * 1000:.0f} ms (median), "
          f"{np.percentile(late, 90) * 1000:.0f} ms (p90) after the line's first audible sample")
    print("| pre-roll before the onset | WER over the reply (words' filter) | alone |")
    print("|---|---:|---:|")
    for ms, (e, n) in errors.items():
        print(f"| {ms:.0f} ms | {100 * e / max(n, 1):.1f} % | "
              f"{100 * alone[0] / max(alone[1], 1):.1f} % |")


def measure_listener(speech_dir: Path, config: Path, intos: list[float]) -> None:
    """The streaming listener as `talk` builds it (two ears, the turn detector, inline),
    fed the echo stage's outputs frame by frame; the reply stops REACT_S after the listener
    hears a voice over it (found in a first pass). Prints every line whose final loses
    words against the same line said alone."""
    from voicebot.config import load_config
    from voicebot.loading import load_asr, load_turn, load_vad

    cfg = load_config(config)
    asr, turn = load_asr(cfg), load_turn(cfg)
    ears = (load_vad(cfg), load_vad(cfg))
    learn, reply, lines = _material(speech_dir, cfg)
    print(f"{len(lines)} lines of 2-6 s from {speech_dir}, {len(ROOMS)} rooms, "
          f"said {intos} s into the reply")
    totals = {"alone": [0, 0], "over": [0, 0]}
    for name, reference, line in lines:
        padded = np.concatenate([np.zeros(RATE // 2, np.float32), line,
                                 np.zeros(RATE, np.float32)])
        alone = " ".join(_listen(cfg, ears, asr, turn, padded, padded, padded, None))
        _count(totals["alone"], reference, alone)
        for into in intos:
            for gain_db, delay_ms in ROOMS:
                text, cut = _over_the_reply(cfg, ears, asr, turn, line, learn, reply, into,
                                            gain_db, delay_ms)
                before = totals["over"][0]
                _count(totals["over"], reference, text)
                if totals["over"][0] - before > 1:
                    print(f"  {name} {into} s {gain_db:+.0f} dB {delay_ms:.0f} ms "
                          f"(reply cut at {cut}): {text!r}  [alone: {alone!r}]")
    for key, (e, n) in totals.items():
        print(f"{key}: {100 * e / max(n, 1):.1f} % ({e}/{n})")


REACT_S = 0.15


def _over_the_reply(cfg: Any, ears: Any, asr: Any, turn: Any, line: np.ndarray,
                    learn: np.ndarray, reply: np.ndarray, into: float, gain_db: float,
                    delay_ms: float) -> tuple[str, float | None]:
    at = len(learn) + round(into * RATE)
    total = (at + len(line) + 3 * RATE) // FRAME * FRAME
    user = np.zeros(total, dtype=np.float32)
    user[at:at + len(line)] = line[:total - at]
    playing = np.concatenate([learn, reply])
    heard_at: list[float] = []
    cut = None
    for _ in range(2):
        far = playing if cut is None else playing[:round(cut * RATE)]
        far = np.concatenate([far, np.zeros(max(0, total - len(far)), np.float32)])[:total]
        words = _listen_room(cfg, ears, asr, turn, far.astype(np.float32), user, gain_db,
                             delay_ms, heard_at, at / RATE - 0.2)
        if cut is not None or not heard_at:
            break
        cut = heard_at[0] + REACT_S
        heard_at.clear()
    return " ".join(words), cut


def _listen_room(cfg: Any, ears: Any, asr: Any, turn: Any, far: np.ndarray,
                 user: np.ndarray, gain_db: float, delay_ms: float, heard_at: list[float],
                 after: float) -> list[str]:
    from voicebot.testing.room import echo_path, through_the_echo_stage

    mic = (np.convolve(far, echo_path(RATE, delay_ms=delay_ms, gain_db=gain_db))[:len(far)]
           + user).astype(np.float32)
    cleaned, words, held, _ = through_the_echo_stage(far, mic, RATE, FRAME)
    playing_until = float(np.flatnonzero(np.abs(far) > 1e-4)[-1]) / RATE
    return _listen(cfg, ears, asr, turn, cleaned, words, held, (playing_until, heard_at,
                                                                after))


def _listen(cfg: Any, ears: Any, asr: Any, turn: Any, cleaned: np.ndarray,
            words: np.ndarray, held: np.ndarray,
            reply: tuple[float, list[float], float] | None) -> list[str]:
    """The finals' texts of the listener over one stream; `reply`: (where the bot's audio
    ends, a list to note the onsets heard over it in, from when)."""
    from voicebot.assembly import Overrides, build_listener
    from voicebot.events import AudioFrame, SpeechStarted, UtteranceFinal

    for vad in ears:
        vad.reset()
    two = reply is not None
    listener = build_listener(cfg, ears[0], asr, turn, Overrides(inline=True),
                              words_vad=ears[1] if two else None)
    texts: list[str] = []
    for i in range(0, len(cleaned) // FRAME * FRAME, FRAME):
        now = i / RATE
        if reply is not None:
            listener.over_reply(now < reply[0])
        frame = AudioFrame(cleaned[i:i + FRAME], RATE, now,
                           words=words[i:i + FRAME] if two else None,
                           double_talk=held[i:i + FRAME] if two else None)
        for event in listener.push_audio(frame):
            if reply is not None and isinstance(event, SpeechStarted) and \
                    event.at >= reply[2] and event.over_reply:
                reply[1].append(event.at)
        while listener.has_work():
            result = listener.work()
            if isinstance(result, UtteranceFinal) and result.speech_start >= (
                    reply[2] if reply is not None else 0.0):
                texts.append(result.text)
    listener.end_of_input()
    while listener.has_work():
        result = listener.work()
        if isinstance(result, UtteranceFinal):
            texts.append(result.text)
    return texts


def _onsets(ears: Any, heard: np.ndarray, words: np.ndarray, held: np.ndarray,
            frames: int = 3, threshold: float = 0.5) -> list[float]:
    """Where `frames` blocks of 512 in a row are speech (the listener's rule,
    vad/two_ears.py: either ear, the words' where they differ from what the VAD hears and
    the filter held still; "words" alone: as if it always held still)."""
    ears.reset()
    found, run = [], 0
    for i in range(0, len(heard) - 512, 512):
        share = 1.0 if ears.words_vad is None else float(held[i:i + 512].mean())
        speech = ears.speech_prob(heard[i:i + 512], words[i:i + 512], share) >= threshold
        run = run + 1 if speech else 0
        if run == frames:
            found.append((i + 512) / RATE)
    return found


def over_the_bot(line: np.ndarray, learn: np.ndarray, reply: np.ndarray, react: float | None,
                 gain_db: float, delay_ms: float,
                 keep_all: bool = False) -> tuple[dict[str, np.ndarray], float]:
    """The line as the recognizer would get it (alone, from AEC3, from the words filter)
    and when the line became audible (seconds into what is returned). `react`: None lets
    the reply go on; `keep_all`: the whole stream, not the line's span."""
    from voicebot.audio.levels import first_audible

    onset = first_audible(line, -50.0) or 0
    into = round(0.8 * RATE)
    spoken = reply if react is None else reply[: into + onset + round(react * RATE)]
    far = np.concatenate([learn, spoken])
    total = (len(learn) + into + len(line) + RATE // 2) // FRAME * FRAME
    far = np.concatenate([far, np.zeros(max(0, total - len(far)))])[:total].astype(np.float32)
    user = np.zeros(total, dtype=np.float32)
    at = len(learn) + into
    user[at: at + len(line)] = line[: total - at]
    cleaned, words, held = through_the_stage(far, user, gain_db, delay_ms)
    if react is None or keep_all:
        heard = {"aec3": cleaned, "words": words, "double talk": held}
        return heard, (at + onset) / RATE
    span = slice(at + onset - round(0.3 * RATE), at + len(line))
    heard = {"alone": user[span], "aec3": cleaned[span], "words": words[span]}
    return heard, onset / RATE


def through_the_stage(far: np.ndarray, user: np.ndarray, gain_db: float, delay_ms: float
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The bot's voice `far` through a room into the microphone beside `user` (as long as
    `far`, a whole number of frames), and the echo stage's outputs from it: AEC3's (what
    the VAD hears), the words' filter's (what the recognizer hears) and, per sample, the
    share of its frame where that filter held still."""
    from voicebot.testing.room import echo_path, through_the_echo_stage

    mic = (np.convolve(far, echo_path(RATE, delay_ms=delay_ms, gain_db=gain_db))[:len(far)]
           + user).astype(np.float32)
    cleaned, words, held, _ = through_the_echo_stage(far, mic, RATE, FRAME)
    return cleaned, words, held


if __name__ == "__main__":
    main()

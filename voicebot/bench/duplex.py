"""`voicebot bench duplex`: full duplex on open speakers, in a simulated room, at 1x.

A simulated user (testing/user.py) says real recorded utterances (each at LINE_DBFS) to the
default pipeline and takes turns with it; the bot's reply comes back into the microphone
through an echo path
(testing/room.py: 0 dB, 50-200 ms, a reverberant tail), and the echo canceller
(audio/echo.py) has to keep it out. Three kinds of session, alternating:
- `duplex`: the user waits for each reply to end. Any turn the bot interrupts, or any extra
  turn (words heard from its own voice), is a self-interruption.
- `half-duplex`: the same lines without a room or a canceller, the microphone muted while
  the bot talks (today's behaviour with headphones): the e2e baseline.
- `barge-in`: the fourth and sixth lines are spoken into the reply, 0.8 s after it began
  (by then the canceller has learned the room: it cannot be interrupted while it learns).
  Reaction time is measured from outside, on the reply audio: from the first audible sample
  of the user's line to the last audible sample of the cut reply. Said that early, within
  `conversation.continue_within_s`, a line continues the user's turn (the reply is dropped
  and the two lines answered once); its words are still compared alone.
- `backchannel`: four lines, with a backchannel ("Mm-hm.", "Okay."... spoken by the TTS at
  the lines' level) said 0.8 s into the third and fourth replies. The reply should pause
  and go on where it paused; "resumed" counts the replies that did and were not cut.
The double-talk WER compares each barged-in line's transcript with the same line's in a
duplex session (said alone), both against the recording's reference text.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from voicebot.bench.duplex_figures import BACKCHANNEL_LABEL, Session, lost_lines
from voicebot.bench.speech_set import DEFAULT_SPEECH_DIR, has_manifest, read_manifest

if TYPE_CHECKING:
    from voicebot.config import Config
    from voicebot.engines import Engines

HELP = ("full duplex in a simulated room: self-interruptions, barge-in reaction, ERLE, "
        "double-talk WER, canceller cost, e2e vs half-duplex, at 1x")
ROOMS = ((0.0, 100.0), (0.0, 200.0), (0.0, 50.0), (0.0, 150.0), (-10.0, 100.0))
"""(gain dB, delay ms) of the echo path, session by session."""
INTO_REPLY_S = 0.8
LINE_S = (2.0, 6.0)  # lines this long: one sentence, one turn
LINE_DBFS = -26.0
"""Each line is said at this RMS level (the recordings range from -17 to -44 dBFS); the bot's
voice comes back at about -20 dBFS through a 0 dB echo path, so the user speaks 6 dB under
the bot's echo, as someone near a laptop playing at a comfortable level."""
BACKCHANNELS = ("Mm-hm.", "Okay.", "Yeah.", "Uh-huh.", "Right.", "I see.")


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="YAML config (default: configs/default.yaml)")
    parser.add_argument("--out", type=Path, default=Path("bench-out/duplex"),
                        help="folder for report.md, duplex.png and sessions.jsonl")
    parser.add_argument("--speech-dir", type=Path, default=DEFAULT_SPEECH_DIR,
                        help="real speech with manifest.tsv (needed)")
    parser.add_argument("--sessions", type=int, default=5,
                        help="duplex sessions, each with a half-duplex one beside it (default "
                        "5: 20 replies with a 0 dB echo path, 50-200 ms, then 5 at -10 dB)")
    parser.add_argument("--lines", type=int, default=5, help="lines per session (default 5)")
    parser.add_argument("--barge-sessions", type=int, default=5,
                        help="sessions with barge-ins (default 5: 6 lines each, 2 of them "
                        "said into the reply, so 10 lines over a reply that walk through "
                        "the recordings)")
    parser.add_argument("--backchannel-sessions", type=int, default=3,
                        help="sessions with backchannels (default 3: 4 lines each, and a "
                        "backchannel said into the third and fourth replies)")


def run(args: argparse.Namespace) -> int:
    from voicebot.bench.duplex_report import write_report
    from voicebot.config import load_config
    from voicebot.engines import load_engines
    from voicebot.progress import say

    if not has_manifest(args.speech_dir):
        say(f"bench duplex needs real speech with manifest.tsv: none at {args.speech_dir}")
        return 2
    cfg = load_config(args.config)
    if cfg.conversation.barge_in is False:
        say(f"{cfg.source}: conversation.barge_in is false, so nothing can interrupt a "
            "reply: the barge-in figures will say so")
    utterances = _utterances(args.speech_dir, cfg.audio.sample_rate,
                             max(args.sessions * args.lines, 6))
    engines = load_engines(cfg)
    try:
        sessions = _plan(utterances, args.sessions, args.lines, args.barge_sessions)
        utterances = utterances + _backchannels(engines, cfg.audio.sample_rate)
        sessions += _plan_backchannels(utterances, args.backchannel_sessions)
        for i, session in enumerate(sessions, start=1):
            say(f"[{i}/{len(sessions)}] {session.kind}"
                + (f", room {session.room[0]:+.0f} dB {session.room[1]:.0f} ms"
                   if session.room else ""))
            recording = args.out / "recordings" / f"session-{i}.echo.wav" \
                if session.kind == "barge-in" else None
            run_session(session, utterances, engines, cfg, recording)
            say("    " + ", ".join(f"{t.status}" for t in session.turns))
            if recording is not None:
                _keep_if_lost(session, recording)
    finally:
        engines.close()
    args.out.mkdir(parents=True, exist_ok=True)
    say(f"Report: {write_report(sessions, args.out)}")
    return 0


def _utterances(speech_dir: Path, rate: int, count: int) -> list[tuple[str, str, np.ndarray]]:
    """(file, reference, audio) of up to `count` recordings of one sentence (LINE_S long),
    in the manifest's order; sessions cycle through them."""
    from voicebot.audio.wav import read_wav

    rows = [r for r in read_manifest(speech_dir)
            if LINE_S[0] <= float(r["duration_s"]) <= LINE_S[1]][:count]
    return [(r["file"], r["reference_text"], _at_level(read_wav(speech_dir / r["file"], rate)))
            for r in rows]


def _backchannels(engines: Engines, rate: int) -> list[tuple[str, str, np.ndarray]]:
    """The backchannels, spoken by the TTS, at the lines' level (labelled apart)."""
    from voicebot.audio.resample import resample

    out = []
    for text in BACKCHANNELS:
        audio = np.concatenate(list(engines.tts.synthesize(text)))
        out.append((BACKCHANNEL_LABEL + text, text,
                    _at_level(resample(audio, engines.tts.sample_rate, rate))))
    return out


def _plan_backchannels(utterances: list[tuple[str, str, np.ndarray]],
                       sessions: int) -> list[Session]:
    lines = [u for u in utterances if not u[0].startswith(BACKCHANNEL_LABEL)]
    channels = [u for u in utterances if u[0].startswith(BACKCHANNEL_LABEL)]
    plan = []
    for s in range(sessions):
        said = [lines[(s * 4 + i) % len(lines)] for i in range(4)]
        chosen = [*said[:3], channels[(2 * s) % len(channels)], said[3],
                  channels[(2 * s + 1) % len(channels)]]
        into = [u[0].startswith(BACKCHANNEL_LABEL) for u in chosen]
        plan.append(Session("backchannel", ROOMS[s % 2], [u[0] for u in chosen],
                            [u[1] for u in chosen], into))
    return plan


def _at_level(audio: np.ndarray) -> np.ndarray:
    from voicebot.audio.levels import rms_dbfs

    gain = 10 ** ((LINE_DBFS - rms_dbfs(audio)) / 20)
    return np.clip(audio * gain, -1.0, 1.0).astype(np.float32)


def _plan(utterances: list[tuple[str, str, np.ndarray]], sessions: int, lines: int,
          barge_sessions: int) -> list[Session]:
    plan: list[Session] = []
    for s in range(sessions):
        chosen = [utterances[(s * lines + i) % len(utterances)] for i in range(lines)]
        labels, refs = [u[0] for u in chosen], [u[1] for u in chosen]
        plan.append(Session("duplex", ROOMS[s % len(ROOMS)], labels, refs, [False] * lines))
        plan.append(Session("half-duplex", None, labels, refs, [False] * lines))
    n = len(utterances)
    for s in range(barge_sessions):
        # the two lines said into a reply walk through every recording, two a session
        over = [(2 * s) % n, (2 * s + 1) % n]
        rest = [(2 * s + 2 + j) % n for j in range(4)]
        chosen = [utterances[i] for i in (*rest[:3], over[0], rest[3], over[1])]
        into = [i in (3, 5) for i in range(6)]  # once the canceller has learned the room
        plan.append(Session("barge-in", ROOMS[s % 2], [u[0] for u in chosen],
                            [u[1] for u in chosen], into))
    return plan


def _keep_if_lost(session: Session, recording: Path) -> None:
    """Keep a barge-in session's echo recording only where a line said over the reply got
    more than half its words wrong (to replay why); the others are deleted."""
    from voicebot.progress import say

    lost = lost_lines(session)
    if not lost:
        recording.unlink(missing_ok=True)
        return
    session.recording = str(recording)
    say(f"    kept {recording}: over half their words wrong: " + "; ".join(
        f"{label} as {heard!r}" for label, heard in lost))


def run_session(session: Session, utterances: list[tuple[str, str, np.ndarray]],
                engines: Engines, cfg: Config, recording: Path | None = None) -> None:
    """One session at 1x; `recording`: write what the echo canceller saw there (4 channels,
    see `talk --echo-recording`)."""
    from voicebot.assembly import Overrides, build_conversation
    from voicebot.audio.echo import EchoMode
    from voicebot.audio.wav_sink import WavSink
    from voicebot.bench.audible import measure_turns
    from voicebot.clock import MonotonicClock
    from voicebot.testing.room import EchoRoomSource
    from voicebot.testing.user import Line, SimulatedUser
    from voicebot.view import QuietView

    audio = {u[0]: u[2] for u in utterances}
    rate = cfg.audio.sample_rate
    sink = WavSink(None, sample_rate=rate)
    lines = [Line(audio[label], INTO_REPLY_S if into else None)
             for label, into in zip(session.labels, session.into, strict=True)]
    user = SimulatedUser(lines, sink.played, rate * cfg.audio.frame_ms // 1000, pause_s=1.5)
    source: Any = user
    if session.room is not None:
        source = EchoRoomSource(user, sink.played, gain_db=session.room[0],
                                delay_ms=session.room[1])
    echo: EchoMode = "on" if session.room is not None else "off"
    if recording is not None and session.room is not None:
        recording.parent.mkdir(parents=True, exist_ok=True)
    else:
        recording = None
    conversation = build_conversation(cfg, engines, clock=MonotonicClock(), view=QuietView(),
                                      overrides=Overrides(echo=echo, echo_recording=recording))
    session.turns = conversation.run(source, sink)
    session.onsets = user.onsets
    session.ends = user.ends
    session.reply = sink.samples()
    session.outside_e2e = [turn.e2e for turn in measure_turns(user.track(), session.reply, rate)]
    if conversation.echo is not None:
        stage = conversation.echo
        session.echo = {"cpu_s": stage.cpu_s, "audio_s": stage.audio_s,
                        "gated_s": stage.gated_s, "echo_in": stage.echo_in,
                        "echo_out": stage.echo_out, "learned": float(stage.learned)}


# ---- figures --------------------------------------------------------------------------

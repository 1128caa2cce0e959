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
import itertools
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from voicebot.bench.speech_set import DEFAULT_SPEECH_DIR, has_manifest, read_manifest

if TYPE_CHECKING:
    from voicebot.config import Config
    from voicebot.engines import Engines
    from voicebot.metrics import TurnRecord

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
ENDED_BY_ITSELF_S = 0.4  # a reply not cut that fell silent this soon after the onset
NEXT_REPLY_MARGIN_S = 0.02
"""The next reply's logged start is its first audible sample; the span measured for the cut
reply ends this much before it (a span up to it counted that sample as the old reply's)."""
AUDIBLE = 10 ** (-45 / 20)
BACKCHANNELS = ("Mm-hm.", "Okay.", "Yeah.", "Uh-huh.", "Right.", "I see.")
BACKCHANNEL_LABEL = "backchannel: "


@dataclass
class Session:
    kind: str  # duplex | half-duplex | barge-in
    room: tuple[float, float] | None
    labels: list[str]
    references: list[str]
    into: list[bool]
    turns: list[TurnRecord] = field(default_factory=list)
    onsets: list[float] = field(default_factory=list)
    ends: list[float] = field(default_factory=list)
    reply: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    outside_e2e: list[float] = field(default_factory=list)
    echo: dict[str, float] = field(default_factory=dict)


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
    parser.add_argument("--barge-sessions", type=int, default=4,
                        help="sessions with barge-ins (default 4: 6 lines each, 2 of them "
                        "said into the reply)")
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
            run_session(session, utterances, engines, cfg)
            say("    " + ", ".join(f"{t.status}" for t in session.turns))
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
    for s in range(barge_sessions):
        chosen = [utterances[(s * 6 + i) % len(utterances)] for i in range(6)]
        into = [i in (3, 5) for i in range(6)]  # once the canceller has learned the room
        plan.append(Session("barge-in", ROOMS[s % 2], [u[0] for u in chosen],
                            [u[1] for u in chosen], into))
    return plan


def run_session(session: Session, utterances: list[tuple[str, str, np.ndarray]],
                engines: Engines, cfg: Config) -> None:
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
    conversation = build_conversation(cfg, engines, clock=MonotonicClock(), view=QuietView(),
                                      overrides=Overrides(echo=echo))
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
def turn_for_line(session: Session, line: int) -> TurnRecord | None:
    """The turn that began with this line: the first whose speech start is within 0.3 s
    before to 1.2 s after the line's onset (a barge-in is detected late, not early)."""
    if line >= len(session.onsets):
        return None
    onset = session.onsets[line]
    near = [t for t in session.turns
            if -0.3 < t.marks.get("speech_start", -99.0) - onset < 1.2]
    return near[0] if near else None


def _said(session: Session, t: float) -> bool:
    """Whether a line was being said at `t` (with 0.3 s of slack either side)."""
    return any(onset - 0.3 <= t <= end + 0.3
               for onset, end in zip(session.onsets, session.ends, strict=False))


def self_interruptions(session: Session) -> list[str]:
    """Each reply cut by speech that was not the user's (no line was being said), and each
    turn that began while no line was being said (words heard from the bot). A reply cut
    by the user's own line going on after a pause is a cut-in (`cut_ins`), not this."""
    found = []
    turns = session.turns
    for turn, after in itertools.pairwise(turns):
        if turn.status == "interrupted" and not _said(session,
                                                      after.marks.get("speech_start", -1)):
            found.append(f"turn {turn.index} cut by {after.user_text!r}")
    found += [f"turn {t.index} heard {t.user_text!r} while no line was said" for t in turns
              if not _said(session, t.marks.get("speech_start", -99.0))]
    return found


def cut_ins(session: Session) -> list[tuple[bool, float]]:
    """Replies cut by the user's own line, going on after a pause (not a line said into the
    reply on purpose): the end of turn came too early. For each: (recovered: the reply was
    dropped and the whole line answered once, seconds from the continuation's onset to the
    reply's last audible sample, measured on the reply audio)."""
    found = []
    for turn, after in itertools.pairwise(session.turns):
        start = after.marks.get("speech_start", -99.0)
        if turn.status == "interrupted" and _said(session, start) and not any(
                abs(start - onset) < 1.2 for onset, into in
                zip(session.onsets, session.into, strict=False) if into):
            found.append((turn.continued_by == after.index,
                          _silent_after(session, start, after)))
    return found


def _silent_after(session: Session, start: float, after: TurnRecord, rate: int = 16000,
                  ) -> float:
    """Seconds from `start` to the last audible reply sample before `after`'s reply."""
    until = after.marks.get("playback_start", len(session.reply) / rate) - NEXT_REPLY_MARGIN_S
    span = session.reply[round(start * rate): round(until * rate)]
    loud = np.flatnonzero(np.abs(span) >= AUDIBLE)
    return float(loud[-1] + 1) / rate if len(loud) else 0.0


def reactions(session: Session, rate: int = 16000) -> list[float | None]:
    """For each line said into a reply that was still playing: seconds from the line's
    onset to the last audible sample of that reply, measured on the reply audio; None where
    the reply was not cut and played on. A reply that ended by itself within
    ENDED_BY_ITSELF_S of the onset, or before it, says nothing and is left out."""
    out: list[float | None] = []
    for i, into in enumerate(session.into):
        if not into or i >= len(session.onsets):
            continue
        onset = session.onsets[i]
        playing = [t for t in session.turns
                   if t.marks.get("playback_start", 1e9) < onset < t.marks.get("turn_end", 0)]
        if not playing:
            continue  # the reply was over before the line began
        later = [t.marks["playback_start"] for t in session.turns
                 if t.marks.get("playback_start", -1.0) > onset]
        until = min(later) - NEXT_REPLY_MARGIN_S if later else len(session.reply) / rate
        span = session.reply[round(onset * rate): round(until * rate)]
        loud = np.flatnonzero(np.abs(span) >= AUDIBLE)
        silent_after = float(loud[-1] + 1) / rate if len(loud) else 0.0
        if playing[0].status == "interrupted":
            out.append(silent_after)
        elif silent_after > ENDED_BY_ITSELF_S:
            out.append(None)
    return out


def line_texts(session: Session) -> dict[str, str]:
    """Line label -> what the bot heard of it (its turn's user text, less the earlier
    line's words where the line continued that turn)."""
    texts = {}
    for i, label in enumerate(session.labels):
        turn = turn_for_line(session, i)
        if turn is None:
            continue
        went_on = [t for t in session.turns if t.index == turn.continued_by]
        if went_on:  # the line went on after a pause: the turn that answered all of it
            turn = went_on[0]
            texts[label] = turn.user_text
            continue
        text = turn.user_text
        earlier = [t for t in session.turns if t.continued_by == turn.index]
        if earlier and text.startswith(earlier[0].user_text):
            text = text[len(earlier[0].user_text):].strip()  # a barge-in that continued
        texts[label] = text
    return texts


def continued(session: Session) -> int:
    """Replies dropped because a line went on with the user's turn (continue_within_s)."""
    return sum(1 for t in session.turns if t.continued_by is not None)


def backchannels(session: Session) -> list[tuple[str, str]]:
    """For each backchannel said over a reply: (what was said, what became of the reply:
    `resumed` (paused, went on and was not cut), `cut`, or `not paused`)."""
    out = []
    for i, label in enumerate(session.labels):
        if not label.startswith(BACKCHANNEL_LABEL) or i >= len(session.onsets):
            continue
        onset = session.onsets[i]
        playing = [t for t in session.turns
                   if t.marks.get("playback_start", 1e9) < onset < t.marks.get("turn_end", 0)]
        if not playing:
            out.append((label[len(BACKCHANNEL_LABEL):], "reply over before it"))
            continue
        turn = playing[0]
        paused = [p for p in turn.pauses if onset - 0.3 < p.at < onset + 1.2]
        fate = "cut" if turn.status != "ok" else "resumed" if paused else \
            "went on (not paused)"
        heard = f" (heard {paused[0].heard!r} as {paused[0].kind})" if paused else ""
        out.append((label[len(BACKCHANNEL_LABEL):], fate + heard))
    return out


def self_pauses(session: Session) -> int:
    """Pauses while no line was being said: the bot paused for its own voice."""
    return sum(1 for t in session.turns for p in t.pauses if not _said(session, p.at))


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def p90(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]

"""bench duplex's figures, measured from outside on what a session recorded: the turns, the
user's line onsets and ends, and the reply audio (voicebot/bench/duplex.py runs the
sessions; duplex_report.py writes them up)."""

from __future__ import annotations

import itertools
import statistics
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from voicebot.metrics import TurnRecord

ENDED_BY_ITSELF_S = 0.4  # a reply not cut that fell silent this soon after the onset
NEXT_REPLY_MARGIN_S = 0.02
"""The next reply's logged start is its first audible sample; the span measured for the cut
reply ends this much before it (a span up to it counted that sample as the old reply's)."""
AUDIBLE = 10 ** (-45 / 20)
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
    recording: str | None = None  # the echo recording, kept when a line lost its words


def turn_for_line(session: Session, line: int) -> TurnRecord | None:
    """The turn that began with this line: the first whose speech start is within 0.3 s
    before to 1.2 s after the line's onset (a barge-in is detected late, not early); else
    the turn whose speech was going on at the onset (one opened early by something else,
    the bot's residue, that then heard the line: its words still count)."""
    if line >= len(session.onsets):
        return None
    onset = session.onsets[line]
    near = [t for t in session.turns
            if -0.3 < t.marks.get("speech_start", -99.0) - onset < 1.2]
    spanning = [t for t in session.turns
                if t.marks.get("speech_start", 1e9) <= onset < t.marks.get("speech_end", -1.0)]
    return near[0] if near else spanning[0] if spanning else None


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
    """For each line said into a reply that was sounding: seconds from the line's onset to
    the last audible sample of that reply, measured on the reply audio; None where the
    reply was not cut and played on. A reply that ended by itself within ENDED_BY_ITSELF_S
    of the onset, or before it, says nothing and is left out; so does a cut reply that made
    no sound after the onset (the line began between its sentences: there was nothing to
    silence, and no VAD reacts in 0 ms)."""
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
            if len(loud):
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


def lines_over_reply(session: Session) -> list[tuple[str, str, str]]:
    """(label, reference, what was heard) of each line said into a reply."""
    heard = line_texts(session)
    return [(label, reference, heard.get(label, ""))
            for label, reference, into in zip(session.labels, session.references,
                                              session.into, strict=True) if into]


def lost_lines(session: Session) -> list[tuple[str, str]]:
    """(label, what was heard) of each line said into a reply whose transcript got more
    than half its reference's words wrong ("Next one. Watch for all year." for "She had
    your dark suit in greasy wash water all year": 9 errors in 11 words)."""
    from voicebot.bench.asr import word_errors

    lost = []
    for label, reference, heard in lines_over_reply(session):
        errors, words = word_errors(reference, heard)
        if 2 * errors > words:
            lost.append((label, heard))
    return lost


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

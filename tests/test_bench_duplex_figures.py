"""bench duplex's figures, on hand-made sessions (voicebot/bench/duplex.py)."""

from __future__ import annotations

import numpy as np

from voicebot.bench.duplex_figures import (
    BACKCHANNEL_LABEL,
    Session,
    backchannels,
    cut_ins,
    line_texts,
    lost_lines,
    reactions,
)
from voicebot.metrics import PauseRecord, TurnRecord

RATE = 16000


def turn(index: int, text: str, start: float, playback: float, end: float,
         **fields: object) -> TurnRecord:
    record = TurnRecord(index=index, user_text=text, **fields)  # type: ignore[arg-type]
    record.marks = {"speech_start": start, "playback_start": playback, "turn_end": end}
    return record


def test_a_line_that_went_on_is_a_recovered_cut_in_and_its_words_are_the_whole_line() -> None:
    reply = np.zeros(20 * RATE, dtype=np.float32)
    reply[int(3.0 * RATE): int(3.7 * RATE)] = 0.3  # the dropped reply, silent at 3.7 s
    reply[int(6.0 * RATE): int(8.0 * RATE)] = 0.3  # the answer to the whole line
    session = Session("duplex", (0.0, 100.0), ["a.wav"], ["a man said sir i exist"], [False],
                      onsets=[0.5], ends=[4.5], reply=reply)
    session.turns = [
        turn(1, "A man said", 0.5, 3.0, 3.6, status="interrupted", continued_by=2),
        turn(2, "A man said sir I exist", 3.5, 6.0, 8.0),
    ]
    ((recovered, silent_after),) = cut_ins(session)
    assert recovered and silent_after == 0.2  # 3.5 s -> 3.7 s
    assert line_texts(session) == {"a.wav": "A man said sir I exist"}


def test_a_backchannel_resumed_cut_or_never_paused() -> None:
    labels = ["q.wav", BACKCHANNEL_LABEL + "Mm-hm.", "q2.wav", BACKCHANNEL_LABEL + "Okay.",
              "q3.wav", BACKCHANNEL_LABEL + "Yeah."]
    session = Session("backchannel", (0.0, 100.0), labels, [""] * 6,
                      [False, True, False, True, False, True],
                      onsets=[0.5, 4.0, 10.0, 14.0, 20.0, 24.0])
    paused = turn(1, "q", 0.5, 3.2, 8.0, pauses=[PauseRecord(4.2, 1.4, "Mm-hm.",
                                                            "backchannel")])
    cut = turn(2, "q2", 10.0, 13.2, 14.5, status="interrupted")
    never = turn(4, "q3", 20.0, 23.2, 27.0)
    session.turns = [paused, cut, turn(3, "Okay", 14.0, 15.5, 16.0), never]
    fates = [fate.split(" (")[0] for _, fate in backchannels(session)]
    assert fates == ["resumed", "cut", "went on"]


def test_a_reaction_is_measured_only_where_the_reply_sounded_after_the_onset() -> None:
    reply = np.zeros(20 * RATE, dtype=np.float32)
    reply[int(3.0 * RATE): int(4.25 * RATE)] = 0.3  # sounding at 4.0 s, silent at 4.25 s
    reply[int(10.0 * RATE): int(11.45 * RATE)] = 0.3  # between sentences at 11.5 s: cut
    session = Session("barge-in", (0.0, 100.0), ["q.wav", "stop.wav", "q2.wav", "wait.wav"],
                      [""] * 4, [False, True, False, True], onsets=[0.5, 4.0, 7.0, 11.5],
                      reply=reply)
    session.turns = [turn(1, "q", 0.5, 3.0, 4.3, status="interrupted"),
                     turn(2, "stop", 4.0, 6.0, 6.5),
                     turn(3, "q2", 7.0, 10.0, 11.6, status="interrupted"),
                     turn(4, "wait", 11.5, 13.0, 14.0)]
    assert reactions(session) == [0.25]  # the line between sentences is left out


def test_a_line_heard_by_an_utterance_opened_early_still_counts() -> None:
    # something besides the user (the bot's residue) opened the utterance 0.84 s before the
    # line, and the utterance went on to hear the whole line
    session = Session("barge-in", (0.0, 100.0), ["q.wav", "mr.wav"], ["", ""], [False, True],
                      onsets=[0.5, 24.65], ends=[3.0, 30.0])
    session.turns = [turn(1, "For a full hour", 0.5, 23.3, 23.9, status="interrupted",
                          continued_by=2),
                     turn(2, "For a full hour Mr. Quilter is the apostle.", 23.81, 31.0, 35.0)]
    session.turns[1].marks["speech_end"] = 29.5
    # the words of the turn it continued are left out, as for any barge-in that continued
    assert line_texts(session)["mr.wav"] == "Mr. Quilter is the apostle."


def test_a_line_over_the_reply_with_over_half_its_words_wrong_is_lost() -> None:
    session = Session("barge-in", (0.0, 100.0), ["q.wav", "mr.wav", "q2.wav", "ok.wav",
                                                 "q3.wav", "sa1.wav"],
                      ["", "Mr. Quilter is the apostle of the middle classes", "",
                       "a man said to the universe", "",
                       "she had your dark suit in greasy wash water all year"],
                      [False, True, False, True, False, True],
                      onsets=[0.5, 4.0, 10.0, 14.0, 20.0, 24.0],
                      ends=[3.0, 9.0, 12.0, 16.0, 22.0, 27.0])
    session.turns = [turn(1, "q", 0.5, 3.0, 4.3, status="interrupted"),
                     turn(2, "The", 4.0, 6.0, 6.5),
                     turn(3, "q2", 10.0, 13.0, 14.1, status="interrupted"),
                     turn(4, "a man said to the", 14.0, 17.0, 18.0),
                     turn(5, "q3", 20.0, 23.0, 24.1, status="interrupted"),
                     turn(6, "Next one. Watch for all year.", 24.0, 28.0, 29.0)]
    # 1 error in 6 words is not lost; 9 in 11 is, though 6 words were heard
    assert lost_lines(session) == [("mr.wav", "The"),
                                   ("sa1.wav", "Next one. Watch for all year.")]


def test_the_lines_said_over_a_reply_walk_through_every_recording() -> None:
    from voicebot.bench.duplex import _plan

    recordings = [(f"{i}.wav", f"line {i}", np.zeros(1, np.float32)) for i in range(9)]
    plan = _plan(recordings, sessions=0, lines=5, barge_sessions=5)
    over = [label for s in plan for label, into in zip(s.labels, s.into, strict=True) if into]
    assert len(over) == 10 and set(over) == {f"{i}.wav" for i in range(9)}
    assert all(len(s.labels) == 6 and s.into == [False] * 3 + [True, False, True]
               for s in plan)
    assert all(len(set(s.labels)) == 6 for s in plan)  # no line twice in a session


def test_the_report_lists_each_line_over_a_reply_beside_the_same_line_alone(tmp_path) -> None:
    from voicebot.bench.duplex_report import write_report

    alone = Session("duplex", (0.0, 100.0), ["mr.wav"], ["mr quilter is the apostle"],
                    [False], onsets=[0.5], ends=[3.0])
    alone.turns = [turn(1, "Mr. Quilter is the apostle.", 0.5, 4.0, 6.0)]
    barge = Session("barge-in", (0.0, 100.0), ["q.wav", "mr.wav"],
                    ["", "mr quilter is the apostle"], [False, True],
                    onsets=[0.5, 4.0], ends=[3.0, 7.0], recording="recordings/session-2.wav")
    barge.turns = [turn(1, "q", 0.5, 3.0, 4.3, status="interrupted"),
                   turn(2, "The", 4.0, 8.0, 9.0)]
    text = write_report([alone, barge], tmp_path).read_text()
    assert "| 2 | mr.wav | The | 4 | Mr. Quilter is the apostle. | 0 |" in text
    assert "`recordings/session-2.wav`" in text
    assert "80.0% vs 0.0%" in text

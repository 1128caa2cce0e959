"""`bench soak --chat`: chat's timing line is parsed as chat prints it; a child process is
fed questions and measured from outside; the verdict on RSS growth."""

from __future__ import annotations

import sys
from pathlib import Path

from voicebot.bench.soak_chat import (
    ChatChild,
    ChatReply,
    ask_all,
    chat_report_lines,
    chat_verdicts,
    parse_timing,
)
from voicebot.commands.chat import _timings

FAKE_CHAT = """
import sys
for n, line in enumerate(sys.stdin, 1):
    if line.startswith("boom"):
        print("voicebot: error: the model returned an empty reply", file=sys.stderr, flush=True)
        continue
    print("bot> an answer", flush=True)
    print(f"  LLM first token {100 + n} ms · first sentence 200 ms · TTS first audio 250 ms"
          f" · total {400 + n} ms for 1.2 s of speech", file=sys.stderr, flush=True)
"""


def test_the_timing_line_chat_prints_is_parsed() -> None:
    line = _timings({"llm_first_token": 0.321, "first_sentence": 0.5}, 1.234, 2.0)
    assert parse_timing(line) == (0.321, 1.234)
    assert parse_timing("Loading LLM (llama.cpp)…") is None


def test_a_child_is_asked_in_turn_and_measured_from_outside(tmp_path: Path) -> None:
    child = ChatChild([sys.executable, "-c", FAKE_CHAT], tmp_path)
    replies = ask_all(child, ["one?", "boom", "three?"])
    assert [r.status for r in replies] == ["ok", "failed", "ok"]
    assert (replies[0].ttft_s, replies[0].total_s) == (0.101, 0.401)
    assert replies[2].ttft_s == 0.103
    assert "empty reply" in replies[1].error
    assert all(r.rss_mb and r.rss_mb > 1 and r.threads and r.fds for r in replies)
    assert child.proc.returncode == 0  # stdin closed: the child finished
    assert (tmp_path / "chat-transcript.txt").read_text().count("bot>") == 2


def reply(index: int, rss: float) -> ChatReply:
    return ChatReply(index, "q", "ok", 0.3, 1.0, rss, 12, 9)


def test_chat_verdicts_and_report(tmp_path: Path) -> None:
    flat = [reply(i, 700 + i * 0.2) for i in range(1, 101)]
    assert chat_verdicts(flat)[1] == ("RSS reply 10 -> 100: 702 -> 720 MB (+18 MB; target "
                                      "<= 40 MB: met).")
    growing = [reply(i, 700 + i) for i in range(1, 101)]
    assert "(+90 MB; target <= 40 MB: NOT met)" in chat_verdicts(growing)[1]
    assert chat_verdicts(flat[:5])[1].startswith("Growth needs more than 10 replies")
    text = "\n".join(chat_report_lines(flat, tmp_path))
    assert "| 50 | ok | 300 ms | 710 | 12 | 9 |" in text
    assert (tmp_path / "chat.png").stat().st_size > 5000
    assert len((tmp_path / "chat.jsonl").read_text().splitlines()) == 100

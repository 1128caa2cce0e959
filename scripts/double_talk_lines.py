"""WER of every line said over the reply in `bench duplex` sessions, the lines that continued
the user's turn included: each one scored against the best-matching tail of its turn's
text (a continued turn holds the earlier line first). The report's own double-talk figure
counts only lines also said alone in a duplex session; this one counts them all.

    .venv/bin/python scripts/double_talk_lines.py OUT/sessions.jsonl [MORE/sessions.jsonl ...]
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from typing import Any

from voicebot.bench.asr import word_errors
from voicebot.bench.speech_set import DEFAULT_SPEECH_DIR


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sessions", type=Path, nargs="+", help="bench duplex sessions.jsonl")
    parser.add_argument("--speech-dir", type=Path, default=DEFAULT_SPEECH_DIR)
    args = parser.parse_args()
    with open(args.speech_dir / "manifest.tsv", encoding="utf-8") as f:
        references = {row["file"]: row["reference_text"]
                      for row in csv.DictReader(f, delimiter="\t")}
    for path in args.sessions:
        errors = words = 0
        per_line = []
        for line in path.read_text(encoding="utf-8").splitlines():
            session = json.loads(line)
            if session["kind"] != "barge-in":
                continue
            for label, onset, into in zip(session["labels"], session["onsets"],
                                          session["into"], strict=True):
                if not into:
                    continue
                e, n = best_tail_errors(references[label], heard(session["turns"], onset))
                errors, words = errors + e, words + n
                per_line.append(e)
        print(f"{path}: {100 * errors / max(words, 1):.1f} % ({errors} errors in {words} "
              f"words, {len(per_line)} lines; errors per line {per_line})")


def heard(turns: list[dict[str, Any]], onset: float) -> str:
    """The user text of the turn that answered the line said at `onset`: the turn that began
    with it (as bench duplex's turn_for_line finds it), or the one it continued into."""
    def start(turn: dict[str, Any]) -> float:
        return float(turn["marks"].get("speech_start", -99.0))

    near = [t for t in turns if -0.3 < start(t) - onset < 1.2]
    spanning = [t for t in turns
                if start(t) <= onset < float(t["marks"].get("speech_end", -1.0))]
    found = near or spanning
    if not found:
        return ""
    turn = found[0]
    went_on = [t for t in turns if t["index"] == turn.get("continued_by")]
    return str((went_on[0] if went_on else turn)["user_text"])


def best_tail_errors(reference: str, heard: str) -> tuple[int, int]:
    """(errors, reference words) against the tail of `heard` that matches best."""
    said = heard.split()
    return min(word_errors(reference, " ".join(said[k:])) for k in range(len(said) + 1))


if __name__ == "__main__":
    main()

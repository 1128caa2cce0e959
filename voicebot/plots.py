"""Latency plots (matplotlib, headless): a per-turn waterfall of the stages and a histogram
of e2e latency, both with the GPT-4o and old Voice Mode anchors drawn in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from voicebot.metrics import GPT4O_S, VOICE_MODE_GPT4_S, VOICE_MODE_GPT35_S, TurnRecord

# (label, from mark, to mark, colour, lane): lane 0 is listening, lane 1 the reply, which a
# speculative reply starts before the endpoint, so the lanes overlap in time.
STAGES = (
    ("end of turn (silence)", "speech_end", "endpoint", "#9e9e9e", 0),
    ("final transcript", "endpoint", "asr_final", "#42a5f5", 0),
    ("LLM first token", "llm_start", "llm_first_token", "#ab47bc", 1),
    ("LLM first sentence", "llm_first_token", "first_sentence", "#ce93d8", 1),
    ("TTS first audio", "first_sentence", "tts_first_audio", "#ffa726", 1),
    ("held / queued", "tts_first_audio", "playback_start", "#66bb6a", 1),
)
ANCHORS = (
    (GPT4O_S, "GPT-4o 0.32 s", "#2e7d32"),
    (VOICE_MODE_GPT35_S, "Voice Mode (GPT-3.5) 2.8 s", "#c62828"),
    (VOICE_MODE_GPT4_S, "Voice Mode (GPT-4) 5.4 s", "#8e0000"),
)


def _pyplot():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def waterfall(runs: Mapping[str, Sequence[TurnRecord]], path: Path, title: str) -> Path:
    """One row per (turn, mode), two lanes: listening (endpoint, final transcript) above,
    the reply (LLM, TTS, held audio) below, from the end of the user's speech to the first
    reply audio; the number is the e2e latency."""
    plt = _pyplot()
    rows = [(f"{turn.index} {mode}", turn) for mode, turns in runs.items() for turn in turns]
    rows.sort(key=lambda row: (int(row[0].split()[0]), row[0]))
    fig, ax = plt.subplots(figsize=(11, 0.5 * len(rows) + 1.8))
    labelled: set[str] = set()
    for y, (_, turn) in enumerate(rows):
        if "speech_end" not in turn.marks:
            continue
        for label, a, b, colour, lane in STAGES:
            if a in turn.marks and b in turn.marks and turn.marks[b] >= turn.marks[a]:
                start = turn.marks[a] - turn.marks["speech_end"]
                ax.barh(y - 0.19 + 0.38 * lane, turn.marks[b] - turn.marks[a], left=start,
                        color=colour, height=0.36,
                        label=None if label in labelled else label)
                labelled.add(label)
        e2e = turn.figures.get("e2e_latency")
        if e2e is not None:
            ax.text(e2e + 0.03, y, f"{e2e:.2f} s", va="center", fontsize=8)
    _anchors(ax)
    ax.set_yticks(range(len(rows)), [f"turn {name}" for name, _ in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("seconds after the user stopped speaking")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8, ncol=2)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def e2e_histogram(values: Mapping[str, Sequence[float]], path: Path, title: str) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9, 4.2))
    top = max([v for vs in values.values() for v in vs] + [VOICE_MODE_GPT4_S]) * 1.05
    bins = [i * top / 40 for i in range(41)]
    for (mode, vs), colour in zip(values.items(), ("#1e88e5", "#e53935", "#fb8c00"),
                                  strict=False):
        ax.hist(vs, bins=bins, alpha=0.6, color=colour, label=f"{mode} (n={len(vs)})")
    _anchors(ax)
    ax.set_xlabel("e2e latency: first reply audio − end of user speech (s)")
    ax.set_ylabel("turns")
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _anchors(ax) -> None:  # type: ignore[no-untyped-def]
    for x, label, colour in ANCHORS:
        ax.axvline(x, color=colour, linestyle="--", linewidth=1)
        ax.text(x, 1.0, f" {label}", color=colour, fontsize=7, rotation=90, va="top",
                transform=ax.get_xaxis_transform())

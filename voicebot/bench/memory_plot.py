"""Resident memory over a run on the left axis, with other figures on a right one: the
plot `bench serve --cycles` and `bench soak --chat` both draw."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

MIN_SPAN_MB = 100.0
"""The RSS axis is at least this tall, so a few MB of noise do not look like growth."""


def rss_with_right_axis(points: Sequence[tuple[int, float]], path: Path, *, xlabel: str,
                        rss_label: str, title: str, draw_right: Callable[[Any], None],
                        legend_loc: Literal["upper right", "lower right"] = "upper right") -> Path:
    """RSS (MB) by `points` (x, MB) in blue; `draw_right` draws on the twin axis; one
    legend holds both axes' lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, rss_ax = plt.subplots(figsize=(8, 4))
    rss = [mb for _, mb in points]
    rss_ax.plot([x for x, _ in points], rss, color="tab:blue", label="RSS (MB)")
    if rss:
        middle = (max(rss) + min(rss)) / 2
        half = max(MIN_SPAN_MB / 2, (max(rss) - min(rss)) / 2 * 1.1)
        rss_ax.set_ylim(middle - half, middle + half)
    rss_ax.set_xlabel(xlabel)
    rss_ax.set_ylabel(rss_label, color="tab:blue")
    right: Any = rss_ax.twinx()
    draw_right(right)
    handles = rss_ax.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    rss_ax.legend(handles=handles, loc=legend_loc)
    rss_ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path

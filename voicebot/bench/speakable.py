"""Whether a reply can reach a TTS as it stands: no markdown, list lines, emoji or
"As an AI" (the answer-quality bench counts these in raw and in spoken replies)."""

from __future__ import annotations

import re

_UNSPEAKABLE = (
    ("markdown", re.compile(r"[*_`#|~]|\[[^\]]*\]\(")),
    ("list", re.compile(r"(?m)^\s*(?:[-•]|\d+[.)])\s")),
    ("emoji", re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\ufe0f]")),
    ("as an AI", re.compile(r"\bas an ai\b|\blanguage model\b", re.IGNORECASE)),
)


def unspeakable(text: str) -> str:
    """Why `text` should not reach a TTS as it stands ('' when it is fine)."""
    return ", ".join(name for name, pattern in _UNSPEAKABLE if pattern.search(text))

"""OpenAI-style chat completion stream chunks, as the HTTP backend reads them from a server
and as llama.cpp's engine hands them to the in-process backend."""

from __future__ import annotations

from typing import Any


def chunk_content(chunk: Any) -> tuple[list[str], bool]:
    """The texts of one stream chunk, and whether it ends the reply (a choice with a
    `finish_reason`: a stop word or max_tokens)."""
    if not isinstance(chunk, dict):
        return [], False
    texts = []
    ended = False
    for choice in chunk.get("choices") or []:
        content = (choice.get("delta") or {}).get("content")
        if content:
            texts.append(str(content))
        ended = ended or bool(choice.get("finish_reason"))
    return texts, ended

"""Clean text for a TTS: drop what it would read aloud or choke on (markdown, code, emoji).

`clean_for_speech` works on whole text; `FenceFilter` drops fenced code blocks from a stream
of deltas (it holds back at most the first few characters of a line, until it is clear
whether the line opens or closes a fence). Numbers, currency, %, units and abbreviations are
kept (and spelled out by `normalize_for_speech` where espeak-ng misreads them).
"""

from __future__ import annotations

import re
import unicodedata

from voicebot.text.normalize import normalize_for_speech

_MAYBE_FENCE = re.compile(r" {0,3}(?:`{0,2}|~{0,2})")
_FENCE = re.compile(r" {0,3}(```|~~~)")


class FenceFilter:
    """Streaming filter that removes fenced code blocks (``` or ~~~ lines and all between).

    The concatenated output does not depend on how the input was cut into deltas.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._head: str | None = ""  # undecided start of the current line; None: decided
        self._in_code = False
        self._fence = ""
        self._drop_line = False

    def push(self, delta: str) -> str:
        return "".join(self._feed(ch) for ch in delta)

    def flush(self) -> str:
        """The held-back rest at the end of the text (nothing inside an unclosed fence)."""
        rest = self._head if (self._head and not self._in_code) else ""
        self.reset()
        return rest

    def _feed(self, ch: str) -> str:
        if self._head is None:
            hidden = self._in_code or self._drop_line
            if ch == "\n":
                self._head = ""
                self._drop_line = False
                return "" if self._in_code else "\n"
            return "" if hidden else ch
        head = self._head + ch
        if _MAYBE_FENCE.fullmatch(head):
            self._head = head
            return ""
        fence = _FENCE.fullmatch(head)
        if fence:
            marker = fence.group(1)
            if not self._in_code:
                self._in_code, self._fence = True, marker
            elif marker == self._fence:
                self._in_code = False
            self._head, self._drop_line = None, True
            return ""
        self._head = None
        if ch == "\n":  # a short line ("``\n"): emit it and start the next one undecided
            self._head = ""
            return "" if self._in_code else head
        return "" if self._in_code else head


_HEADER = re.compile(r"^\s{0,3}#{1,6}\s+")
_QUOTE = re.compile(r"^\s*(?:>\s?)+")
_BULLET = re.compile(r"^\s*(?:[-*+•◦▪‣]|\d{1,3}[.)])\s+")
_RULE = re.compile(r"^\s*(?:[-*_]\s*){3,}$")
_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)\s]*(?:\s+\"[^\"]*\")?\)")
_AUTOLINK = re.compile(r"<((?:https?://|mailto:)[^>\s]+)>")
_SCHEME = re.compile(r"\b(?:https?://|mailto:)(?:www\.)?")
_HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_EMPHASIS = re.compile(r"\*\*|__|~~|(?<!\w)[*_]+|[*_]+(?!\w)")
_TIMES = re.compile(r"(?<=\d)\s?\*\s?(?=\d)")
_STRAY = re.compile(r"[`*_#|\\~^{}<>\[\]•◦▪‣]")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?%])")
_REPEATED_COMMA = re.compile(r"(?:,\s*){2,}")
_LEADING_PUNCT = re.compile(r"^[\s,;:)\]]+")

KEEP_SYMBOLS = set("°×÷±")


def strip_markdown_line(line: str) -> str:
    """One line of markdown -> its plain text (no code fences here: see FenceFilter)."""
    if _RULE.match(line) or _TABLE_SEP.match(line):
        return ""
    line = _HEADER.sub("", line)
    line = _QUOTE.sub("", line)
    line = _BULLET.sub("", line)
    if line.lstrip().startswith("|") or line.count(" | ") >= 2:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        line = ", ".join(c for c in cells if c)
    line = _IMAGE.sub(r"\1", line)
    line = _LINK.sub(r"\1", line)
    line = _AUTOLINK.sub(r"\1", line)
    line = _SCHEME.sub("", line)
    line = _HTML_TAG.sub(" ", line)
    line = _TIMES.sub(" times ", line)
    return _EMPHASIS.sub("", line)


def strip_symbols(text: str) -> str:
    """Drop emoji, pictographs and stray symbols a TTS would name ("grinning face")."""
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch in KEEP_SYMBOLS:
            out.append(ch)
        elif cat in ("So", "Sk", "Cs", "Co", "Me") or (cat == "Sm" and ord(ch) > 127):
            out.append(" ")
        elif (cat in ("Mn", "Cf") and not unicodedata.combining(ch)) or ch in "\ufe0f\ufe0e":
            continue  # zero-width joiners, variation selectors
        else:
            out.append(ch)
    return _STRAY.sub(" ", "".join(out).replace("\u2212", "-"))


def tidy(text: str) -> str:
    """Collapse whitespace and the punctuation debris that removals leave behind."""
    text = " ".join(text.split())
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    text = _REPEATED_COMMA.sub(", ", text)
    return _LEADING_PUNCT.sub("", text).strip()


def clean_line(text: str, normalize: bool = True) -> str:
    """Clean one line (or one splitter chunk) for speech."""
    text = strip_markdown_line(text)
    if normalize:
        text = normalize_for_speech(text)
    return tidy(strip_symbols(text))


def clean_for_speech(text: str, normalize: bool = True) -> str:
    """Text as a TTS should read it: no markdown, code blocks, emoji or stray symbols, with
    lines joined into sentences and whitespace normalised. `normalize` also spells out what
    espeak-ng misreads ("$20" -> "20 dollars"; see normalize.py)."""
    fences = FenceFilter()
    plain = fences.push(text) + fences.flush()
    parts: list[str] = []
    for line in plain.split("\n"):
        cleaned = clean_line(line, normalize)
        if not cleaned:
            continue
        if parts and parts[-1][-1] not in ".!?:;,…":
            parts[-1] += "."
        parts.append(cleaned)
    return " ".join(parts)

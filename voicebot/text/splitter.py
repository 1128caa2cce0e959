"""Streaming sentence splitter: LLM text deltas in, speakable chunks out (for TTS).

Every decision is a pure function of the text itself with a bounded look-ahead, never of
where the deltas were cut: the splitter rescans its small pending buffer and waits
(returns nothing) while a decision needs characters that have not arrived yet, e.g. a "."
at the end of a delta (a decimal point? an abbreviation?). So the chunks are identical
whether the reply arrives whole, character by character or in token-like pieces.

Rules, in text order:
- a newline ends a chunk (paragraphs, list items, table rows, headers);
- a sentence ends at a run of . ! ? … (plus closing quotes/brackets) followed by whitespace,
  except after title abbreviations (Dr., Mr., e.g., i.e.), single-letter initials (J. R.),
  dotted acronyms (U.S.), a list number at the start of a chunk ("1. "); after "etc.",
  "a.m.", "p.m." and an ellipsis only when the next word does not start in lower case;
  decimals, versions, URLs and e-mail addresses never have whitespace after their dots;
- the first chunk of a reply (cfg.early_first_chunk) may end at , ; : or a dash once it has
  first_chunk_min_words words, or at a space after first_chunk_max_words words; when it
  ends so, the second may too, with twice those limits (EARLY_GROWTH): a short first chunk
  plays for less time than the rest of a long sentence takes to generate and synthesize,
  and a second chunk twice as long is ready before the first has played;
- no chunk is longer than cfg.max_chunk_chars: it is cut at the last clause punctuation or
  space before the cap.
Chunks are cleaned for speech (markdown, emoji, code fences, numbers; see clean.py); empty
ones are dropped.
"""

from __future__ import annotations

import re

from voicebot.config import TextConfig
from voicebot.text.clean import FenceFilter, clean_line

TERMINATORS = ".!?…"
CLOSERS = "\"')]}”’»"
OPENERS = "\"'([{“‘«*_"
NEVER_SPLIT = {
    "dr", "mr", "mrs", "ms", "prof", "st", "mt", "vs", "e.g", "i.e", "cf", "approx", "fig",
    "sgt", "capt", "gen", "rev", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
    "sept", "oct", "nov", "dec", "ca", "vol", "pp", "eq",
}
MAYBE_SPLIT = {"etc", "a.m", "p.m", "inc", "ltd", "co", "corp", "jr", "sr", "al", "esq"}
_INITIAL = re.compile(r"[A-Z]")
_UPPER_ACRONYM = re.compile(r"(?:[A-Z]\.)+[A-Z]")
_LOWER_ACRONYM = re.compile(r"(?:[a-z]\.)+[a-z]")
_ALNUM = re.compile(r"\w")

Cut = tuple[int, int]  # (end of the chunk, where the rest of the buffer starts)
EARLY_GROWTH = 2


class SentenceSplitter:
    """`push(delta)` -> chunks completed by this delta; `flush()` -> the rest at the end."""

    def __init__(self, cfg: TextConfig | None = None) -> None:
        self.cfg = cfg or TextConfig()
        self._fences = FenceFilter()
        self.reset()

    def reset(self) -> None:
        """Forget everything (a new reply, or a cancelled one)."""
        self._fences.reset()
        self._buf = ""
        self._early_scale = 1 if self.cfg.early_first_chunk else 0
        """The next chunk may end early with this multiple of the first chunk's limits
        (0: only at a sentence end)."""
        self._cut_early = False

    def push(self, delta: str) -> list[str]:
        self._buf += self._fences.push(delta)
        return self._drain(final=False)

    def flush(self) -> list[str]:
        """The remaining chunks at the end of the reply; the splitter is then reset."""
        self._buf += self._fences.flush()
        out = self._drain(final=True)
        out += self._emit(self._buf)
        self.reset()
        return out

    def _drain(self, final: bool) -> list[str]:
        out: list[str] = []
        while True:
            self._buf = self._buf.lstrip()
            cut = self._find_cut(self._buf, final)
            if cut is None:
                return out
            end, rest = cut
            first_early = self._cut_early and self._early_scale == 1
            self._cut_early = False
            chunks = self._emit(self._buf[:end])
            if chunks and first_early:
                self._early_scale = EARLY_GROWTH  # the sentence goes on: one more early cut
            out += chunks
            self._buf = self._buf[rest:]

    def _emit(self, raw: str) -> list[str]:
        chunks = [c for c in cap_split(clean_line(raw), self.cfg.max_chunk_chars)
                  if _ALNUM.search(c)]
        if chunks:
            self._early_scale = 0
        return chunks

    def _find_cut(self, buf: str, final: bool) -> Cut | None:
        """The first decidable cut in `buf`, or None while undecided (or none in it)."""
        early = self._early_scale > 0
        words = 0
        in_word = False
        i, n = 0, len(buf)
        while i < n:
            if i >= self.cfg.max_chunk_chars:
                return cap_cut(buf, self.cfg.max_chunk_chars)
            ch = buf[i]
            if ch == "\n":
                return i, i + 1
            if ch in TERMINATORS:
                j = _run_end(buf, i)
                decided = self._sentence_end(buf, i, j, final)
                if decided is None:
                    return None
                if decided:
                    return j, j
                i = j
                continue
            if early:
                cut = self._early_cut(buf, i, words, final)
                if cut == (-1, -1):
                    return None
                if cut is not None:
                    self._cut_early = True
                    return cut
            if ch.isspace():
                in_word = False
            elif not in_word and _ALNUM.match(ch):
                in_word = True
                words += 1
            i += 1
        return None

    def _sentence_end(self, buf: str, i: int, j: int, final: bool) -> bool | None:
        """Whether the terminator run buf[i:j] ends a sentence; None: need more text."""
        if j == len(buf):
            return True if final else None
        if not buf[j].isspace():
            return False  # 3.14, e.g.x, example.com, v1.2.3
        kind = _classify(buf, i, j)
        if kind != "maybe":
            return kind == "always"
        k = j
        while k < len(buf) and buf[k].isspace():
            if buf[k] == "\n":
                return True
            k += 1
        if k == len(buf):
            return True if final else None
        return not buf[k].islower()

    def _early_cut(self, buf: str, i: int, words: int, final: bool) -> Cut | None:
        """An early cut at `i` (first chunks); (-1, -1) means "wait for more text"."""
        least = self.cfg.first_chunk_min_words * self._early_scale
        most = self.cfg.first_chunk_max_words * self._early_scale
        ch = buf[i]
        nxt = buf[i + 1] if i + 1 < len(buf) else None
        if ch in ",;:" or (ch == "-" and i > 0 and buf[i - 1] == " ") or ch in "–—":
            if nxt is None and not final and ch not in "—":
                return -1, -1
            spaced = nxt is None or nxt.isspace()
            if ch == "—" or (ch == "–" and not (i > 0 and buf[i - 1].isdigit())):
                spaced = True
            if spaced and words >= least:
                return (i + 1, i + 1) if ch in ",;:" else (i, i + 1)
        if ch.isspace() and words >= most:
            return i, i + 1
        return None


def _run_end(buf: str, i: int) -> int:
    j = i
    while j < len(buf) and buf[j] in TERMINATORS:
        j += 1
    while j < len(buf) and buf[j] in CLOSERS:
        j += 1
    return j


def _classify(buf: str, i: int, j: int) -> str:
    """"always", "never" or "maybe" (split when the next word is not lower case)."""
    run = buf[i:j].rstrip(CLOSERS)
    if "!" in run or "?" in run:
        return "always"
    if run != ".":
        return "maybe"  # an ellipsis: "Well... I think" splits, "so... maybe" does not
    start = i
    while start > 0 and not buf[start - 1].isspace():
        start -= 1
    word = buf[start:i].lstrip(OPENERS)
    lower = word.lower()
    if lower in NEVER_SPLIT or _UPPER_ACRONYM.fullmatch(word):
        return "never"
    if _INITIAL.fullmatch(word) and word != "I":
        return "never"
    if lower in MAYBE_SPLIT or _LOWER_ACRONYM.fullmatch(word):
        return "maybe"
    if word.isdigit() and len(word) <= 3 and not buf[:start].strip():
        return "never"  # "1. " opening a list item
    return "always"


def cap_cut(text: str, cap: int) -> Cut:
    """Where to cut `text` (longer than `cap`): after the last clause punctuation followed by
    a space before the cap, else at the last space, else hard at the cap."""
    head = text[: cap + 1]
    best = max(head.rfind(p + " ", 0, cap) for p in ",;:")
    if best > 0:
        return best + 1, best + 2
    space = head.rfind(" ", 0, cap + 1)
    if space > 0:
        return space, space + 1
    return cap, cap


def cap_split(text: str, cap: int) -> list[str]:
    """Split cleaned text into pieces of at most `cap` characters."""
    out: list[str] = []
    while len(text) > cap:
        end, rest = cap_cut(text, cap)
        out.append(text[:end].strip())
        text = text[rest:].strip()
    if text:
        out.append(text)
    return out

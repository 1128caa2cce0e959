"""The one place output files are opened and their write errors worded.

Every file the program writes for the user (reply WAVs, the JSONL session log) is opened
before the models load, so a bad path, a read-only folder or a full disk is one line in a
second rather than a traceback after the session: `open_early` creates the folder and the
file and, for a WAV, writes a valid empty WAV at once. A later write error becomes one
`OutputError` line naming the file and the reason (`write_failure`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from voicebot.errors import VoicebotError

WAV_HEADER_BYTES = 44


class OutputError(VoicebotError):
    """An output file cannot be written (bad path, no permission, disk full)."""


def write_failure(path: Path, what: str, exc: BaseException) -> OutputError:
    reason = getattr(exc, "strerror", None) or " ".join(str(exc).split()) or \
        type(exc).__name__
    return OutputError(f"cannot write {what} {path}: {reason}")


@contextlib.contextmanager
def writing(path: Path, what: str) -> Iterator[None]:
    """Run a write; any OSError (or libsndfile's RuntimeError) becomes one OutputError line."""
    try:
        yield
    except OutputError:
        raise
    except (OSError, RuntimeError, ValueError) as exc:
        raise write_failure(path, what, exc) from None


def open_early(path: Path, what: str, *, placeholder: bytes | None = None) -> Path:
    """Check now that `path` can be written: make its folder, then create the file (with
    `placeholder` written and flushed, so even /dev/full is caught here; otherwise opened
    for appending). Returns the path; raises OutputError. WAV files: `audio.wav.open_wav_early`."""
    if path.is_dir():
        raise OutputError(f"cannot write {what} {path}: it is a directory")
    with writing(path, what):
        if path.parent != Path():
            path.parent.mkdir(parents=True, exist_ok=True)
        if placeholder is not None:
            with path.open("wb") as f:  # plain bytes first: the OS names the reason
                f.write(placeholder)
                f.flush()
        else:
            with path.open("a", encoding="utf-8"):
                pass
    return path

"""User-facing errors: each prints as one clear line (no traceback) and sets the exit code."""

from __future__ import annotations


class VoicebotError(Exception):
    """An error the user can act on. `str(error)` is the whole message."""

    exit_code = 1


class ConfigError(VoicebotError):
    """A configuration file is wrong: the message names the file, the key, the value, and
    what is allowed."""

    exit_code = 2


class ModelNotFoundError(VoicebotError):
    """A model is neither installed (the package that provides it is named) nor at a path."""


class AudioInputError(VoicebotError):
    """An input file that cannot be read as audio (empty, corrupt, not audio)."""


class AudioDeviceError(VoicebotError):
    """No usable microphone or speaker (PortAudio missing or no device)."""


class BackendError(VoicebotError):
    """A backend failed at run time (an unreachable server, an empty reply, ...)."""


class TruncatedReply(BackendError):
    """An LLM reply that began but did not complete (the stream broke off or stalled): the
    turn is logged `truncated`, with the partial text, and the fragment is not spoken."""

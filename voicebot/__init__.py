"""voicebot: a local, streaming voice assistant with per-stage latency reports."""

__version__ = "0.1.0"

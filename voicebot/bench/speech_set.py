"""The real-speech set the benchmarks replay: ../shared/speech/dev beside the repo, with its
manifest.tsv (columns file, duration_s, speaker_or_source, reference_text)."""

from __future__ import annotations

import csv
from pathlib import Path

from voicebot.errors import VoicebotError

DEFAULT_SPEECH_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "speech" / "dev"


def has_manifest(speech_dir: Path) -> bool:
    return (speech_dir / "manifest.tsv").is_file()


def read_manifest(speech_dir: Path) -> list[dict[str, str]]:
    """The manifest's rows; a clear error when the folder holds no manifest."""
    if not has_manifest(speech_dir):
        raise VoicebotError(f"no speech set at {speech_dir} (expected manifest.tsv with "
                            "columns file, duration_s, speaker_or_source, reference_text); "
                            "pass --speech-dir")
    with (speech_dir / "manifest.tsv").open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))

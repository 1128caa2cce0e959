"""Shared fixtures. Real speech lives in ../shared/speech/dev beside the clone; tests that
need it skip with a reason when it is absent (a user's clone)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SPEECH_DIR = REPO.parent / "shared" / "speech" / "dev"


def speech_available() -> bool:
    return (SPEECH_DIR / "manifest.tsv").is_file()


@pytest.fixture
def speech_dir() -> Path:
    if not speech_available():
        pytest.skip(f"real speech not found at {SPEECH_DIR} (it sits beside the repo in CI)")
    return SPEECH_DIR


@pytest.fixture
def speech_manifest(speech_dir: Path) -> dict[str, str]:
    """File name -> reference transcript."""
    with (speech_dir / "manifest.tsv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return {row["file"]: row["reference_text"] for row in rows}

"""Layering: `outputs` (checking that a file can be written) is below the audio code, so
`audio/wav.py` may use it and not the other way round (the two used to import each other)."""

from __future__ import annotations

import ast
from pathlib import Path

import voicebot


def voicebot_imports(module: str) -> set[str]:
    path = Path(voicebot.__file__).parent / (module.replace(".", "/") + ".py")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("voicebot")}


def test_outputs_imports_no_audio_code() -> None:
    assert voicebot_imports("outputs") <= {"voicebot.errors"}


def test_wav_writing_uses_outputs() -> None:
    assert "voicebot.outputs" in voicebot_imports("audio.wav")

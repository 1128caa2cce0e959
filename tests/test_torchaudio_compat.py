"""The torchaudio shim's pure parts (its real use is in tests/test_tts_coqui.py)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from voicebot.torchaudio_compat import python_only_extension


def test_stand_in_reports_no_compiled_extension() -> None:
    ext = python_only_extension()
    assert ext.__name__ == "torchaudio._extension"
    assert ext._IS_TORCHAUDIO_EXT_AVAILABLE is False and ext._IS_ALIGN_AVAILABLE is False
    assert ext._load_lib("torchaudio_prefixctc") is False

    @ext.fail_if_no_align
    def forced_align() -> None:
        raise AssertionError("must not run")

    with pytest.raises(RuntimeError, match="forced_align: torchaudio's compiled extension"):
        forced_align()


def test_without_torchaudio_nothing_is_imported() -> None:
    if importlib.util.find_spec("torchaudio") is not None:
        pytest.skip("torchaudio is installed here (tests/test_tts_coqui.py covers that case)")
    code = ("import sys; from voicebot.torchaudio_compat import import_torchaudio_if_installed; "
            "import_torchaudio_if_installed(); "
            "print(sorted(m for m in ('torch', 'torchaudio') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=60)
    assert done.stdout.strip() == "[]"

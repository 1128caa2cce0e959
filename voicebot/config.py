"""YAML -> typed configuration.

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

from voicebot.errors import ConfigError

REPO_CONFIGS = Path(__file__).resolve().parent.parent / "configs"
DEFAULT_CONFIG = REPO_CONFIGS / "default.yaml"

T = TypeVar("T")


class ParamError(ValueError):
    """Raised by a `Params.check()` for one key; the loader adds the file and section."""

    def __init__(self, key: str, value: object, allowed: str) -> None:
        super().__init__(f"{key}: {value!r} {allowed}")
        self.key = key
        self.value = value
        self.allowed = allowed


@dataclass
class AudioConfig:
    """Internal audio format and devices."""

    sample_rate: int = 16000
    frame_ms: Literal[10, 20, 30] = 30
    input_device: str | int | None = None
    output_device: str | int | None = None
    echo_cancellation: Literal["auto", "on", "off"] = "auto"
    """WebRTC AEC3 in front of the VAD (audio/echo.py); auto: on when the input and the
    output are live devices (a microphone and a speaker)."""
    noise_suppression: bool = False
    """WebRTC's noise suppressor with the canceller (it also colours the voice)."""


@dataclass
class EndpointConfig:
    """The endpointing state machine (vad/segmenter.py); all times in audio milliseconds."""

    threshold: float = 0.5
    start_ms: int = 90
    end_ms: int = 400
    preroll_ms: int = 300
    max_utterance_s: float = 30.0

    def check(self) -> None:
        if not 0.0 < self.threshold < 1.0:
            raise ParamError("threshold", self.threshold, "must be between 0 and 1")
        for key in ("start_ms", "end_ms", "preroll_ms"):
            if getattr(self, key) < 0:
                raise ParamError(key, getattr(self, key), "must be >= 0")
        if self.max_utterance_s <= 1.0:
            raise ParamError("max_utterance_s", self.max_utterance_s, "must be > 1 second")


@dataclass
class TurnConfig:
    """The end of the turn (voicebot/turn/): after `endpoint.end_ms` of silence the detector
    says whether the user has finished; if not, the silence needed grows (turn/policy.py)."""

    backend: Literal["silence", "smart-turn"] = "silence"
    model: str = "builtin"
    """smart-turn: `builtin` (the ONNX file in the pipecat-ai wheel) or a path to a .onnx."""
    threshold: float = 0.5
    """P(finished) at or above this ends the turn."""
    recheck_ms: int = 300
    """After a 'not yet', ask again after this much more silence (0: never). Every 300 ms:
    Smart Turn's P on a finished statement often rises past 0.5 a few tenths of a second
    after a low first answer, and may fall again by 1.2 s (docs/end-of-turn.md)."""
    max_silence_ms: int = 2000
    """Hard timeout: this much silence always ends the turn."""
    text_rule: bool = True
    """A transcript ending on 'the', 'of', 'and', 'is', ... is not finished."""
    threads: int = 1

    def check(self) -> None:
        if not 0.0 < self.threshold < 1.0:
            raise ParamError("threshold", self.threshold, "must be between 0 and 1")
        for key in ("recheck_ms", "max_silence_ms"):
            if getattr(self, key) < 0:
                raise ParamError(key, getattr(self, key), "must be >= 0")
        if not 1 <= self.threads <= 64:
            raise ParamError("threads", self.threads, "must be between 1 and 64")


@dataclass
class StreamingConfig:
    """LocalAgreement streaming (asr/streaming.py)."""

    min_chunk_s: float = 0.8
    max_buffer_s: float = 15.0
    prompt_chars: int = 200

    def check(self) -> None:
        if not 0.05 <= self.min_chunk_s <= 5.0:
            raise ParamError("min_chunk_s", self.min_chunk_s, "must be between 0.05 and 5")
        if not 2.0 <= self.max_buffer_s <= 30.0:
            raise ParamError("max_buffer_s", self.max_buffer_s, "must be between 2 and 30")


@dataclass
class TextConfig:
    """Sentence splitting of the LLM stream for TTS (text/splitter.py)."""

    early_first_chunk: bool = True
    first_chunk_min_words: int = 2
    first_chunk_max_words: int = 3
    max_chunk_chars: int = 250
    max_reply_sentences: int = 2  # a spoken reply ends at a sentence boundary after these
    max_reply_words: int = 35  # ... or about these words (x4 when the user asks for more)


SPOKEN_SYSTEM_PROMPT = (
    "You are a voice assistant: your reply is spoken aloud. Give the correct answer first, "
    "in one or two short sentences of plain text. No lists, markdown, emoji or code."
)
OLD_SYSTEM_PROMPT = (
    "You are a helpful voice assistant. Answer in one or two short, plain sentences, "
    "without lists or markdown."
)
"""The prompt before the answer-quality bench (kept to compare against)."""


@dataclass
class ConversationConfig:
    """The chat history and the talk loop (pipeline.py)."""

    system_prompt: str = SPOKEN_SYSTEM_PROMPT
    history_tokens: int = 1024
    barge_in: bool | Literal["auto"] = "auto"
    """Speech over the reply stops it. auto: on when echo cancellation runs (else the bot
    would hear itself and the loop is half-duplex: the microphone muted while it talks)."""
    resume_after_s: float = 1.5
    """With barge-in, the user's voice pauses the reply; if no real words come (a
    backchannel such as "mm-hm", a cough, the bot's own echo), it resumes once the voice has
    been quiet this long, or as soon as the words show it was nothing. 0: any voice over
    the reply stops it at once."""
    continue_within_s: float = 1.5
    """Words said over a reply that began less than this before them continue the user's
    turn: the reply is dropped and the whole sentence is answered once (0: never). Words
    that ask it to stop ("stop", "wait", "never mind") are a new turn all the same."""
    speculative_reply: bool = True
    prefill: bool = True
    """The LLM reads the conversation and the words committed so far while the user speaks
    (backends with a prompt cache: llama.cpp), so the reply evaluates only what is new."""
    log_dir: str | None = None

    def check(self) -> None:
        for key in ("resume_after_s", "continue_within_s"):
            if not 0 <= getattr(self, key) <= 10:
                raise ParamError(key, getattr(self, key), "must be between 0 and 10 seconds")


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

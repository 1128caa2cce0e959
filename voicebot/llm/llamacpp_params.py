"""The llama.cpp backend's parameters (its YAML `llm:` section) and their checks; the
backend itself is llamacpp.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from voicebot.config import ParamError
from voicebot.llm.base import check_sampling
from voicebot.llm.models import check_model_param
from voicebot.threads import Threads


@dataclass
class LlamaCppParams:
    model: str = "smollm2-135m"
    n_ctx: int = 2048
    n_threads: Threads | Literal["adaptive"] = "auto"
    """A number, auto (half the cores: a stolen core stalls llama.cpp's threads) or adaptive:
    two engines, half the cores and all of them; each reply takes the wide one while no
    other process is busy (twice the weights in memory)."""
    load: Literal["memory", "mmap", "mlock"] = "memory"
    """memory: read the weights into the process (they stay resident when another job
    squeezes the page cache); mmap: map the file (shared, evictable); mlock: map and lock
    (needs a high enough RLIMIT_MEMLOCK, else a warning and plain mmap)."""
    n_gpu_layers: int = 0
    temperature: float = 0.2
    top_p: float = 0.9
    top_k: int = 40
    repeat_penalty: float = 1.1
    max_tokens: int = 80
    seed: int = 0
    cache_prompt: bool = True
    ram_cache_mib: int = 0
    """llama.cpp's RAM cache of earlier prompts' KV states, restored when a new prompt
    shares less with the slot than with one of them (its own default: up to 8 GiB). 0: off,
    the slot's own KV cache still reuses the shared prefix; each engine keeps its own."""
    cache_reuse: int = 32
    """Shortest run of cached tokens llama.cpp reuses after it moved (its n_cache_reuse:
    the KV cache is shifted instead of evaluated again). When old turns are dropped from
    the history, the turns after them move up: without it the whole remaining history is
    evaluated again (seconds on a CPU). 0: off."""
    poll: int = 50
    """How hard llama.cpp's idle threads busy-wait for work, 0-100 (its own default 50); 0
    sleeps at once, leaving the core to the ASR, turn detector and TTS threads beside it."""
    n_ubatch: int = 64
    """Prompt tokens evaluated in one step (llama.cpp's physical batch; its default 512).
    The engine's scratch memory is sized for one step but becomes resident only as a step
    fills it: with 512, the first long prompt (a history evaluated again, on the second
    engine or after a trim) made ~59 MB more resident per engine, mid-session; with 64, the
    warm-up touches it all and the growth was 1-2 MB. Prompt evaluation of a ~1100-token
    history: 56.3 vs 59.2 s on one thread, 28.1 vs 29.3 s on two (512 vs 64, one run each);
    a turn's few new words fit one step either way."""

    def check(self) -> None:
        check_model_param(self.model)
        check_sampling(self)
        if not 256 <= self.n_ctx <= 131072:
            raise ParamError("n_ctx", self.n_ctx, "must be between 256 and 131072")
        if isinstance(self.n_threads, int) and not 1 <= self.n_threads <= 256:
            raise ParamError("n_threads", self.n_threads,
                             "must be auto, adaptive or between 1 and 256")
        if self.n_gpu_layers < -1:
            raise ParamError("n_gpu_layers", self.n_gpu_layers, "must be >= 0 (or -1 = all)")
        if self.top_k < 0:
            raise ParamError("top_k", self.top_k, "must be >= 0 (0 = off)")
        if not 1.0 <= self.repeat_penalty <= 2.0:
            raise ParamError("repeat_penalty", self.repeat_penalty, "must be between 1 and 2")
        if self.seed < 0:
            raise ParamError("seed", self.seed, "must be >= 0")
        if not 0 <= self.ram_cache_mib <= 65536:
            raise ParamError("ram_cache_mib", self.ram_cache_mib, "must be between 0 and 65536")
        if not 0 <= self.cache_reuse <= 4096:
            raise ParamError("cache_reuse", self.cache_reuse, "must be between 0 and 4096")
        if not 0 <= self.poll <= 100:
            raise ParamError("poll", self.poll, "must be between 0 and 100")
        if not 1 <= self.n_ubatch <= 4096:
            raise ParamError("n_ubatch", self.n_ubatch, "must be between 1 and 4096")

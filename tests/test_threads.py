"""Thread counts from the machine, the LLM's load mode, and the busy-process rounds."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from voicebot import threads
from voicebot.bench.load import busy_processes, load_levels
from voicebot.config import load_config
from voicebot.errors import ConfigError
from voicebot.llm.llamacpp import _load_mode


def test_auto_takes_half_the_usable_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threads, "usable_cores", lambda: 2)
    assert threads.resolve_threads("auto") == 1
    monkeypatch.setattr(threads, "usable_cores", lambda: 8)
    assert threads.resolve_threads("auto") == 4
    monkeypatch.setattr(threads, "usable_cores", lambda: 1)
    assert threads.resolve_threads("auto") == 1
    assert threads.resolve_threads(3) == 3


def test_default_config_uses_auto_and_adaptive_threads_and_resident_weights() -> None:
    cfg = load_config()
    assert cfg.asr.params.cpu_threads == "auto"
    assert cfg.llm.params.n_threads == "adaptive" and cfg.llm.params.load == "memory"


def test_a_bad_thread_count_names_what_is_allowed(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    default = Path(__file__).parent.parent / "configs" / "default.yaml"
    bad.write_text(f"extends: {default}\nllm:\n  n_threads: many\n")
    allowed = r"is not an integer or 'auto' or 'adaptive'"
    with pytest.raises(ConfigError, match=r"llm.n_threads: 'many' " + allowed):
        load_config(bad)


def test_mlock_falls_back_to_mmap_below_the_lock_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import resource

    modes = SimpleNamespace(LLAMA_LOAD_MODE_NONE=0, LLAMA_LOAD_MODE_MMAP=1,
                            LLAMA_LOAD_MODE_MMAP_MLOCK=3)
    fake = SimpleNamespace(llama_load_mode=modes)
    model = tmp_path / "m.gguf"
    model.write_bytes(b"\0" * (3 << 20))
    assert _load_mode(fake, "memory", model) == 0
    assert _load_mode(fake, "mmap", model) == 1
    monkeypatch.setattr(resource, "getrlimit", lambda _: (1 << 20, 1 << 20))
    assert _load_mode(fake, "mlock", model) == 1
    assert "ulimit -l" in capsys.readouterr().err
    monkeypatch.setattr(resource, "getrlimit", lambda _: (resource.RLIM_INFINITY,) * 2)
    assert _load_mode(fake, "mlock", model) == 3


def test_busy_processes_run_and_end() -> None:
    assert load_levels("0,1, 2") == [0, 1, 2]
    with pytest.raises(ValueError):
        load_levels("one")
    with busy_processes(2) as procs:
        assert len(procs) == 2 and all(p.poll() is None for p in procs)
    assert all(p.poll() is not None for p in procs)

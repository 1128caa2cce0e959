"""Prompt prefill while the user speaks: the LLM reads the question as it is being asked.

A reply's time to first token is the prompt evaluation of everything the model's prompt
cache has not seen: the user's new message, and whatever of the history changed since the
last reply (a reply is stored as it was spoken, not as it was generated). While the user
speaks, the words LocalAgreement has committed are stable, so the conversation up to them
can be evaluated already: llama.cpp keeps the KV cache of the last prompt and reuses its
longest common prefix with the next one, so at the endpoint only the last words and the
chat template's tail are new.

`Prefiller` runs those evaluations on its own thread, one at a time, always on the newest
text offered (older offers are dropped, not queued), so the talk loop never waits for it.
A backend takes part by having a blocking `prefill(messages)` method.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from voicebot.events import ChatMessage

PrefillFn = Callable[[Sequence[ChatMessage]], None]
JOIN_TIMEOUT_S = 30.0


class Prefiller:
    def __init__(self, prefill: PrefillFn, on_error: Callable[[BaseException], None],
                 threaded: bool = True) -> None:
        """`prefill` evaluates a prompt into the backend's cache (blocking); an exception in
        it goes to `on_error` and turns prefill off (the reply itself does not need it).
        `threaded=False` evaluates inside `offer`, for scenario tests on a fake clock."""
        self._prefill = prefill
        self._on_error = on_error
        self._wake = threading.Condition()
        self._pending: list[ChatMessage] | None = None
        self._last: list[ChatMessage] | None = None
        self._closed = False
        self._thread: threading.Thread | None = None
        if threaded:
            self._thread = threading.Thread(target=self._run, name="voicebot-prefill",
                                            daemon=True)
            self._thread.start()

    def offer(self, messages: Sequence[ChatMessage]) -> None:
        """Evaluate `messages` when the thread is free (replacing an older offer)."""
        with self._wake:
            if self._closed or list(messages) == self._last:
                return
            self._pending = list(messages)
            self._wake.notify()
        if self._thread is None:
            self._step()

    def cancel(self) -> None:
        """Drop the offer not yet started (a reply is about to use the model, and will leave
        its own prompt in the cache)."""
        with self._wake:
            self._pending = None
            self._last = None

    def close(self) -> None:
        with self._wake:
            self._closed = True
            self._pending = None
            self._wake.notify()
        if self._thread is not None:
            self._thread.join(JOIN_TIMEOUT_S)

    def _run(self) -> None:
        while True:
            with self._wake:
                while self._pending is None and not self._closed:
                    self._wake.wait()
                if self._closed:
                    return
            self._step()

    def _step(self) -> None:
        with self._wake:
            messages, self._pending = self._pending, None
            if messages is None or self._closed:
                return
        try:
            self._prefill(messages)
        except Exception as exc:  # a failed prefill costs latency only
            with self._wake:
                self._closed = True
            self._on_error(exc)
            return
        with self._wake:
            self._last = messages

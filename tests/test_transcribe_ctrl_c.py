"""`transcribe --mic`: the first Ctrl-C closes the microphone (the loop then finishes what was
said) instead of raising in the middle of the final decode; a second one interrupts."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest

from voicebot.commands.transcribe import _close_on_ctrl_c


class Source:
    closed = 0

    def close(self) -> None:
        self.closed += 1


@pytest.fixture
def restore_sigint() -> Iterator[None]:
    before = signal.getsignal(signal.SIGINT)
    yield
    signal.signal(signal.SIGINT, before)


@pytest.mark.usefixtures("restore_sigint")
def test_first_ctrl_c_closes_the_microphone_and_a_second_interrupts() -> None:
    signal.signal(signal.SIGINT, signal.default_int_handler)
    source = Source()
    _close_on_ctrl_c(source)
    os.kill(os.getpid(), signal.SIGINT)  # no KeyboardInterrupt: the loop finishes the utterance
    assert source.closed == 1
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGINT)


@pytest.mark.usefixtures("restore_sigint")
def test_an_ignored_ctrl_c_stays_ignored() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    source = Source()
    _close_on_ctrl_c(source)
    os.kill(os.getpid(), signal.SIGINT)
    assert source.closed == 0

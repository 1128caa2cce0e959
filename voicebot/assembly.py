"""The one place a conversation is assembled: `build_conversation(cfg, engines, ...)`.

`voicebot talk`, each `voicebot serve` session, `bench talk`, `bench turns`, `bench soak`
and the scenario tests all build their conversation here, so a stage or a setting added to
the pipeline reaches all of them. (Before, each assembled its own copy, and the copies had
drifted: serve and the soak ran without the turn detector, so a browser user's turns ended
after any 200 ms pause.) What a caller changes is named in `Overrides`; talk passes none.
`conversation_settings` lists what a built conversation does, for tests that compare the
callers and for the session log's header.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from pathlib import Path

from voicebot.asr.base import Asr
from voicebot.audio.echo import EchoMode, WebRtcEchoCanceller
from voicebot.clock import Clock
from voicebot.config import Config
from voicebot.engines import Engines, unwrapped
from voicebot.listener import Listener
from voicebot.metrics import SessionLog
from voicebot.pipeline import Conversation
from voicebot.reply import reply_events, whole_reply_events
from voicebot.replying import ReplyFn
from voicebot.turn.base import TurnDetector
from voicebot.vad.base import Vad
from voicebot.view import ConversationView
from voicebot.workers import Workers

NAIVE_STREAMING_CHUNK_S = float("inf")  # no decode until the endpoint


@dataclass(frozen=True)
class Overrides:
    """Departures from the config's conversation, each for a named reason."""

    naive: bool = False
    """bench talk's naive cascade on the same loop: one offline decode after the endpoint
    (no streaming or pause decodes), no speculative reply or prefill, and the whole reply
    generated and synthesized before any of it plays."""
    reply_fn: ReplyFn | None = None
    """A different reply path (bench turns stops each reply at its first audio)."""
    vad: Vad | None = None
    """This VAD instead of the engines' (bench turns compares VAD backends); read by
    `build_conversation`, which hands the listener its VAD."""
    listener_class: type[Listener] = Listener
    """A listener subclass that also records (bench turns notes every endpoint)."""
    prefill: bool | None = None
    """Force the prompt prefill on or off (serve: off, its sessions share one LLM and a
    prefill would evict another session's prompt cache)."""
    echo: EchoMode | None = None
    """Echo cancellation on or off whatever the config says (bench duplex: on, with a
    simulated room between a WAV sink and a replayed recording)."""
    echo_recording: Path | None = None
    """Write what the echo canceller saw to this WAV (talk --echo-recording)."""
    inline: bool = False
    """Reply, prefill and turn verdicts on the loop's own thread: deterministic, for
    scenario tests on a FakeClock. Production (False) runs them on worker threads, so the
    microphone is read every few milliseconds while a sentence is synthesized."""


def build_listener(cfg: Config, vad: Vad, asr: Asr, turn: TurnDetector,
                   overrides: Overrides | None = None, workers: Workers | None = None,
                   words_vad: Vad | None = None) -> Listener:
    """The listening half: VAD, streaming ASR, endpoint and turn detector (also what
    `voicebot transcribe` and `bench asr` run on their own, inline). `workers`: the
    conversation's, which its verdicts share with its reply and prefill."""
    overrides = overrides or Overrides()
    if workers is None:
        if not overrides.inline:
            raise ValueError("a listener with threads runs on its conversation's workers")
        workers = Workers(threaded=False)
    streaming = cfg.streaming
    if overrides.naive:
        streaming = dataclasses.replace(streaming, min_chunk_s=NAIVE_STREAMING_CHUNK_S)
    return overrides.listener_class(
        vad, asr, cfg.endpoint, streaming, cfg.audio.sample_rate,
        decode_in_pauses=not overrides.naive, turn=turn, turn_cfg=cfg.turn,
        workers=workers, words_vad=words_vad,
    )


def words_vad_wanted(cfg: Config, overrides: Overrides) -> bool:
    """Whether a conversation's listener gets a second VAD on the words' filter (its
    echo stage is decided per run, from the devices: off says it never runs)."""
    echo = overrides.echo or cfg.audio.echo_cancellation
    return echo != "off" and cfg.audio.echo_words == "linear" and \
        cfg.audio.echo_onsets == "either"


def build_conversation(
    cfg: Config,
    engines: Engines,
    *,
    clock: Clock,
    view: ConversationView,
    log: SessionLog | None = None,
    overrides: Overrides | None = None,
) -> Conversation:
    """A conversation on `engines` with `cfg`'s settings; run it with `.run(source, sink)`."""
    overrides = overrides or Overrides()
    conversation_cfg = cfg.conversation
    if overrides.naive:
        conversation_cfg = dataclasses.replace(conversation_cfg, speculative_reply=False,
                                               prefill=False)
    if overrides.prefill is not None:
        conversation_cfg = dataclasses.replace(conversation_cfg, prefill=overrides.prefill)
    reply_fn = overrides.reply_fn or (whole_reply_events if overrides.naive else reply_events)
    workers = Workers(threaded=not overrides.inline, others_idle=engines.load.others_idle)
    words_vad = engines.new_words_vad() if engines.new_words_vad is not None and \
        overrides.vad is None and words_vad_wanted(cfg, overrides) else None
    return Conversation(
        listener=build_listener(cfg, overrides.vad or engines.new_vad(), engines.asr,
                                engines.turn, overrides, workers, words_vad),
        llm=engines.llm, tts=engines.tts,
        text_cfg=cfg.text, conversation_cfg=conversation_cfg, clock=clock, view=view, log=log,
        reply_fn=reply_fn, workers=workers,
        echo_mode=overrides.echo or cfg.audio.echo_cancellation,
        make_canceller=functools.partial(WebRtcEchoCanceller,
                                         noise_suppression=cfg.audio.noise_suppression),
        echo_recording=overrides.echo_recording,
        echo_words=cfg.audio.echo_words,
    )


def conversation_settings(conversation: Conversation) -> dict[str, object]:
    """What a built conversation does: its stages and every setting that shapes a turn."""
    listener = conversation.listener
    return {
        "vad": type(listener.vad).__name__,
        "asr": type(unwrapped(listener.asr)).__name__,
        "turn": listener.turn.name if listener.turn is not None else "silence",
        "turn_cfg": dataclasses.asdict(listener.turn_cfg),
        "endpoint": dataclasses.asdict(listener.endpoint_cfg),
        "streaming": dataclasses.asdict(listener.streaming_cfg),
        "decode_in_pauses": listener.decode_in_pauses,
        "turn_thread": listener.workers.threaded,
        "sample_rate": listener.sample_rate,
        "llm": type(conversation.llm).__name__,
        "tts": type(unwrapped(conversation.tts)).__name__,
        "text": dataclasses.asdict(conversation.text_cfg),
        "barge_in": conversation.barge_in_setting,
        "echo_cancellation": conversation.echo_mode,
        "echo_words": conversation.echo_words,
        "echo_onsets": "either" if listener.ears.words_vad is not None else "aec3",
        "speculative_reply": conversation.speculation.enabled,
        "prefill": conversation.prefill,
        "history_tokens": conversation.history.budget_tokens,
        "system_prompt": conversation.history.system_prompt,
        "reply": getattr(conversation.reply_fn, "__name__", repr(conversation.reply_fn)),
        "threaded": conversation.workers.threaded,
    }

"""A private PulseAudio server for the live tests: a virtual room with a microphone and a speaker.

Layout (all in one daemon that only this process's children can reach):

    room      null sink, 48 kHz stereo: the air in the room. Left = what the user says,
              right = what the bot plays. Recording `room.monitor` in stereo gives both on
              ONE stream, so the user's speech and the bot's reply share a time origin
              exactly (no offset between two recorders to estimate).
    voice     remap sink -> room's left channel: play a question here (`paplay -d voice`).
    speaker   remap sink -> room's right channel: the default sink, the bot's speaker.
    mic       remap source <- room's left channel, mono: the default source, the bot's ear.
    mic48     remap source <- room's left channel as 48 kHz stereo (ALSA device `mic48`).

The remap modules are filters of `room`: their audio is mixed into the room in the same
render pass, so the recording shows when each sample actually reached the "air".
PortAudio reaches the server through ALSA: `ALSA_CONFIG_PATH` points at a file that makes
ALSA's `default` device (and `mic48`) the pulse plugin. HOME is left alone (the model cache
lives there); the server's state is under `root`.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import IO

ROOM_RATE = 48000
VOICE_CHANNEL = 0  # left in a recording of room.monitor
SPEAKER_CHANNEL = 1  # right

ALSA_CONF = """</usr/share/alsa/alsa.conf>
pcm.!default { type pulse }
ctl.!default { type pulse }
pcm.mic48 {
    type pulse
    device "mic48"
    hint { show on description "virtual 48 kHz stereo microphone" }
}
"""


class PulseUnavailable(RuntimeError):
    """PulseAudio is not installed or would not start (the message says which)."""


class PulseServer:
    """Start with `start()`, always `stop()` (it kills the daemon even after a failure)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.runtime = root / "run"
        self.socket = self.runtime / "native"
        self.log = root / "pulse.log"
        self.alsa_conf = root / "asound.conf"
        self.env = dict(os.environ)
        self.env.update({
            "XDG_RUNTIME_DIR": str(self.runtime),
            "PULSE_SERVER": f"unix:{self.socket}",
            "ALSA_CONFIG_PATH": str(self.alsa_conf),
            # no client autospawn of a second daemon, no user config from ~/.config/pulse
            "PULSE_CLIENTCONFIG": str(root / "client.conf"),
        })
        self._pacer: subprocess.Popen[bytes] | None = None
        self.env.pop("PULSE_SINK", None)
        self.env.pop("PULSE_SOURCE", None)

    # ---- lifecycle ------------------------------------------------------------------
    def start(self, timeout_s: float = 15.0) -> None:
        missing = [tool for tool in ("pulseaudio", "pactl", "paplay", "parecord", "parec")
                   if shutil.which(tool) is None]
        if missing:
            raise PulseUnavailable(
                f"{', '.join(missing)} not found (Debian: apt-get install pulseaudio "
                "pulseaudio-utils libasound2-plugins, or scripts/install-system-deps.sh)")
        if not Path("/usr/share/alsa/alsa.conf").is_file():
            raise PulseUnavailable("/usr/share/alsa/alsa.conf not found (ALSA not installed)")
        self.runtime.mkdir(parents=True, exist_ok=True)
        self.runtime.chmod(0o700)
        self.alsa_conf.write_text(ALSA_CONF, encoding="utf-8")
        (self.root / "client.conf").write_text("autospawn = no\n", encoding="utf-8")
        command = [
            "pulseaudio", "-n", "--daemonize=yes", "--exit-idle-time=-1", "--use-pid-file=yes",
            f"--log-target=file:{self.log}",
            "-L", f"module-native-protocol-unix socket={self.socket} auth-anonymous=1",
            "-L", f"module-null-sink sink_name=room rate={ROOM_RATE} channels=2 "
                  "channel_map=front-left,front-right",
            "-L", "module-remap-sink sink_name=voice master=room channels=1 channel_map=mono "
                  "master_channel_map=front-left remix=no",
            "-L", "module-remap-sink sink_name=speaker master=room channels=1 channel_map=mono "
                  "master_channel_map=front-right remix=no",
            "-L", "module-remap-source source_name=mic master=room.monitor channels=1 "
                  "channel_map=mono master_channel_map=front-left remix=no",
            "-L", f"module-remap-source source_name=mic48 master=room.monitor rate={ROOM_RATE} "
                  "channels=2 channel_map=front-left,front-right "
                  "master_channel_map=front-left,front-left remix=no",
        ]
        done = subprocess.run(command, env=self.env, capture_output=True, text=True,
                              timeout=timeout_s, check=False)
        if done.returncode != 0 or not self._wait_ready(timeout_s):
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            errors = [line for line in (done.stderr + log).splitlines() if line.startswith("E:")]
            self.stop()
            raise PulseUnavailable("pulseaudio would not start: "
                                   + (" | ".join(errors[-3:]) or f"exit {done.returncode}"))
        self.pactl("set-default-sink", "speaker")
        self.pactl("set-default-source", "mic")
        self._pace_the_room(timeout_s)

    def _pace_the_room(self, timeout_s: float) -> None:
        """Keep a 10 ms reader on `room.monitor` for the daemon's life, like a sound card's
        small hardware buffer. Without one, the null sink renders in large blocks once only
        the remap modules read it: the microphone then got audio late and in bursts, and
        `transcribe --mic` heard nothing of a played recording (PulseAudio 16); and the first
        recording stream on a fresh daemon got no audio for about 1.5 s. Returns once audio
        flows."""
        self._pacer = subprocess.Popen(
            ["parec", "-d", "room.monitor", "--raw", "--format=s16le", f"--rate={ROOM_RATE}",
             "--channels=2", "--latency-msec=10"],
            env=self.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert self._pacer.stdout is not None
        deadline = time.monotonic() + timeout_s
        got = 0
        while got < ROOM_RATE * 4 // 10 and time.monotonic() < deadline:  # 0.1 s of audio
            ready, _, _ = select.select([self._pacer.stdout], [], [], 0.1)
            if ready:
                got += len(os.read(self._pacer.stdout.fileno(), 65536))
        # From here on its output is drained by a thread, so it never blocks the daemon.
        threading.Thread(target=_drain, args=(self._pacer.stdout,), daemon=True).start()

    def _wait_ready(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            probe = subprocess.run(["pactl", "info"], env=self.env, capture_output=True,
                                   check=False)
            if probe.returncode == 0:
                return True
            time.sleep(0.1)
        return False

    def daemon_pid(self) -> int | None:
        pid_file = self.runtime / "pulse" / "pid"
        try:
            return int(pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        """Kill this daemon (and only it): `pulseaudio --kill` on its socket, then its pid."""
        if self._pacer is not None:
            self._pacer.kill()
            self._pacer.wait()
            self._pacer = None
        pid = self.daemon_pid()
        subprocess.run(["pulseaudio", "--kill"], env=self.env, capture_output=True,
                       timeout=10, check=False)
        if pid is None:
            return
        for _ in range(50):
            if not _alive(pid):
                return
            time.sleep(0.1)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)

    # ---- control --------------------------------------------------------------------
    def pactl(self, *args: str) -> str:
        done = subprocess.run(["pactl", *args], env=self.env, capture_output=True, text=True,
                              timeout=10, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"pactl {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def module_id(self, name_arg: str) -> int:
        """The index of the loaded module whose arguments contain `name_arg`
        (e.g. 'source_name=mic ')."""
        for line in self.pactl("list", "short", "modules").splitlines():
            fields = line.split("\t")
            if len(fields) >= 3 and name_arg in fields[2] + " ":
                return int(fields[0])
        raise RuntimeError(f"no loaded module with {name_arg!r}")

    def add_echo_path(self, delay_ms: int, gain_db: float) -> None:
        """Feed the bot's speaker back into the user's side of the room, `delay_ms` later
        at `gain_db`: an open speaker the microphone hears. A plain copy (no drift
        correction), so the recording's left channel is the user plus exactly this."""
        self.pactl("load-module", "module-loopback", "source=speaker.monitor", "sink=voice",
                   f"latency_msec={delay_ms}", "adjust_time=0", "remix=no",
                   "source_dont_move=true", "sink_dont_move=true")
        for line in self.pactl("list", "short", "sink-inputs").splitlines():
            fields = line.split("\t")
            if len(fields) >= 4 and fields[3] == "module-loopback.c":
                self.pactl("set-sink-input-volume", fields[0], f"{gain_db:g}dB")
                return
        raise RuntimeError("the echo path's loopback stream did not appear")

    def play(self, wav: Path, sink: str = "voice") -> subprocess.Popen[bytes]:
        """Start playing `wav` into `sink` (the user's voice by default)."""
        return subprocess.Popen(["paplay", "-d", sink, str(wav)], env=self.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def record(self, wav: Path, source: str = "room.monitor",
               channels: int = 2) -> subprocess.Popen[bytes]:
        """Start recording `source` to a 16-bit WAV; stop it with `stop_recording`."""
        return subprocess.Popen(
            ["parecord", "-d", source, "--file-format=wav", "--format=s16le",
             f"--rate={ROOM_RATE}", f"--channels={channels}", "--latency-msec=20", str(wav)],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def stop_recording(recorder: subprocess.Popen[bytes]) -> None:
    """parecord finalizes the WAV header on SIGINT."""
    if recorder.poll() is None:
        recorder.send_signal(signal.SIGINT)
        try:
            recorder.wait(timeout=10)
        except subprocess.TimeoutExpired:
            recorder.kill()
            recorder.wait()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _drain(stream: IO[bytes]) -> None:
    while stream.read(65536):
        pass

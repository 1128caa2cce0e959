"""A small Chrome DevTools Protocol client: start the system's headless Chromium, drive one
page over its DevTools WebSocket (websockets' sync client), read values, take screenshots.

Enough for the browser test of `voicebot serve`, without a browser download or a
browser-automation framework: Chromium comes from the OS (Debian: `apt-get install
chromium`), found on PATH or at $VOICEBOT_CHROMIUM.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


class CdpError(Exception):
    pass


def find_chromium() -> str | None:
    explicit = os.environ.get("VOICEBOT_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    return next((path for name in NAMES if (path := shutil.which(name))), None)


class Chromium:
    """A headless Chromium with a fresh profile in `profile_dir`; `extra_args` are added to
    the command line (e.g. the fake-microphone flags)."""

    def __init__(self, binary: str, profile_dir: Path, extra_args: tuple[str, ...] = ()) -> None:
        profile_dir.mkdir(parents=True, exist_ok=True)
        self.profile_dir = profile_dir
        args = [
            binary, "--headless=new", "--no-sandbox", "--disable-gpu",
            "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
            "--disable-extensions", "--mute-audio", "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0", f"--user-data-dir={profile_dir}",
            "--window-size=1000,900", *extra_args, "about:blank",
        ]
        self.log = (profile_dir / "chromium.log").open("w")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        self.port = self._wait_port(30.0)

    def _wait_port(self, timeout: float) -> int:
        marker = self.profile_dir / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise CdpError(f"chromium exited with code {self.proc.returncode}; see "
                               f"{self.profile_dir / 'chromium.log'}")
            if marker.is_file():
                lines = marker.read_text().split()
                if lines:
                    return int(lines[0])
            time.sleep(0.1)
        raise CdpError(f"chromium did not open its DevTools port within {timeout:g} s")

    def page(self) -> Page:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list", timeout=10) as r:
            targets = json.loads(r.read())
        target = next((t for t in targets if t.get("type") == "page"), None)
        if target is None:
            raise CdpError("chromium has no page target")
        return Page(target["webSocketDebuggerUrl"])

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Page:
    """One page's DevTools session: `call(method, **params)` waits for the answer (events
    that arrive meanwhile are kept in `events`)."""

    def __init__(self, ws_url: str) -> None:
        from websockets.sync.client import connect

        self._connector = connect(ws_url, max_size=None, open_timeout=10)
        self.ws = self._connector.__enter__()
        self._ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, timeout: float = 30.0, **params: Any) -> dict[str, Any]:
        message_id = next(self._ids)
        self.ws.send(json.dumps({"id": message_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CdpError(f"{method}: no answer within {timeout:g} s")
            message = json.loads(self.ws.recv(timeout=left))
            if message.get("id") != message_id:
                self.events.append(message)
                continue
            if "error" in message:
                raise CdpError(f"{method}: {message['error']}")
            result: dict[str, Any] = message.get("result", {})
            return result

    def evaluate(self, expression: str, *, user_gesture: bool = False) -> Any:
        """The value of a JavaScript expression (JSON-serialisable), awaiting promises."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=True, userGesture=user_gesture)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise CdpError(f"JavaScript error: {text}")
        return result.get("result", {}).get("value")

    def navigate(self, url: str, timeout: float = 30.0) -> None:
        self.call("Page.navigate", url=url)
        self.wait_for("document.readyState === 'complete' && location.href.startsWith("
                      f"{json.dumps(url)})", timeout)

    def wait_for(self, expression: str, timeout: float, poll_s: float = 0.2) -> Any:
        """Poll until the expression is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(poll_s)
        raise CdpError(f"timed out after {timeout:g} s waiting for: {expression}")

    def screenshot(self, path: Path) -> Path:
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        path.write_bytes(base64.b64decode(data["data"]))
        return path

    def close(self) -> None:
        self._connector.__exit__(None, None, None)

    def __enter__(self) -> Page:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

#!/usr/bin/env bash
# Installs the system library that sounddevice needs (PortAudio) where apt is available;
# elsewhere names it. Idempotent and quiet when already present.
set -u
if ldconfig -p 2>/dev/null | grep -q 'libportaudio\.so\.2' \
    && command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
      echo "voicebot: PortAudio is missing; run as root: apt-get install -y libportaudio2" >&2
      exit 0
    fi
  fi
  echo "Installing libportaudio2 (microphone and speaker support)…" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >/dev/null && $SUDO apt-get install -y -qq libportaudio2 >/dev/null \
    || echo "voicebot: could not install libportaudio2; microphone/speaker will be unavailable (WAV files still work)" >&2
  $SUDO apt-get install -y -qq chromium >/dev/null \
    || echo "voicebot: could not install chromium; the browser test of \`voicebot serve\` will be skipped" >&2
else
  echo "voicebot: install PortAudio for microphone/speaker support (Debian/Ubuntu: libportaudio2, Fedora: portaudio, macOS: brew install portaudio); WAV files work without it" >&2
fi
exit 0

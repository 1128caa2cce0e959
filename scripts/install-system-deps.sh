#!/usr/bin/env bash
# Installs the system packages voicebot uses, where apt is available; elsewhere names them.
#   libportaudio2       microphone and speaker (sounddevice)
#   pulseaudio, pulseaudio-utils, libasound2-plugins
#                       a real sound server for the live tests (tests/live): a private
#                       PulseAudio daemon reached through ALSA's pulse plugin
#   chromium            a real browser for the test of `voicebot serve`'s page (headless)
# Idempotent; prints nothing when everything is present. Never fails the build: without root
# or apt it says what to install (WAV files work without any of it; the live tests skip).
set -u

PACKAGES="libportaudio2 pulseaudio pulseaudio-utils libasound2-plugins chromium"
APT_OPTS="-o DPkg::Lock::Timeout=120 -y -qq"

installed() {  # Debian package $1 is installed
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  missing=""
  ldconfig -p 2>/dev/null | grep -q 'libportaudio\.so\.2' || missing="PortAudio"
  command -v pulseaudio >/dev/null 2>&1 || missing="$missing PulseAudio"
  if [ -n "$missing" ]; then
    echo "voicebot: not found:$missing. PortAudio gives microphone/speaker support (Fedora: portaudio, macOS: brew install portaudio); PulseAudio (with its utilities and the ALSA pulse plugin) runs the live tests, which skip without it. WAV files work without either." >&2
  fi
  exit 0
fi

missing=""
for pkg in $PACKAGES; do
  installed "$pkg" || missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0

SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "voicebot: missing system packages:$missing; run as root: apt-get install -y$missing (without them: no microphone/speaker if libportaudio2 is missing, and the live tests skip)" >&2
    exit 0
  fi
fi

echo "Installing$missing (microphone/speaker support, and a sound server for the live tests)…" >&2
export DEBIAN_FRONTEND=noninteractive
# Try with the current package lists first; refresh them only if that fails. Both steps wait
# for another apt/dpkg run (e.g. unattended upgrades) to release its lock.
# shellcheck disable=SC2086
if ! $SUDO apt-get install $APT_OPTS $missing >/dev/null 2>&1; then
  ok=""
  for attempt in 1 2 3; do
    if $SUDO apt-get update $APT_OPTS >/dev/null 2>&1 \
        && $SUDO apt-get install $APT_OPTS $missing >/dev/null 2>&1; then
      ok=1; break
    fi
    sleep $((attempt * 10))
  done
  if [ -z "$ok" ]; then
    echo "voicebot: could not install$missing (apt failed; try: apt-get install -y$missing). Without libportaudio2 there is no microphone/speaker (WAV files still work); without PulseAudio the live tests skip." >&2
  fi
fi
exit 0

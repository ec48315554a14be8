#!/usr/bin/env bash
# Install everything, then run the server on the embedded defaults (127.0.0.1:8000, disk cache).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
exec .venv/bin/ttsgate serve "$@"

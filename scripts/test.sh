#!/usr/bin/env bash
# Install everything (with the real servers the tests use), then lint, type-check and run every test.
# TTSGATE_VENV / PYTHON: another venv or interpreter (scripts/install.sh, docs/development.md).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${TTSGATE_VENV:-.venv}
scripts/install.sh --test
"$venv/bin/ruff" check src tests benchmarks
"$venv/bin/ruff" format --check src tests benchmarks
"$venv/bin/mypy"
"$venv/bin/python" -m pytest -q -p no:cacheprovider "$@"

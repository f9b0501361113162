#!/usr/bin/env bash
# The README's first command (`make demo`): builds the runledger binary and,
# when a Docker engine answers, the local test image; then plays the demo on
# a fresh SQLite file and leaves that file for you to explore.
set -euo pipefail
cd "$(dirname "$0")/.."

runtime=()
if docker version >/dev/null 2>&1; then
    if [ ! -x /bin/busybox ] && [ "$(id -u)" = 0 ]; then
        echo "demo: installing busybox-static for the test image"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends busybox-static >/dev/null
    fi
    if ! bash .ci/test-image.sh; then
        echo "demo: the test image could not be built; the demo will use the record-only runtime"
        runtime=(--runtime record-only)
    fi
else
    echo "demo: no Docker engine answers; the demo will use the record-only runtime"
fi

echo "demo: building runledger"
cargo build --quiet --locked -p runledger-cli

mkdir -p target/demo
db=target/demo/runledger-demo.db
rm -f "$db" "$db-wal" "$db-shm"

# The demo removes its own containers however it ends; this catches an
# interrupted run (Ctrl-C) too.
session="make-demo-$$"
cleanup() {
    if docker version >/dev/null 2>&1; then
        ids=$(docker ps --all --quiet --filter "label=runledger.demo-session=$session")
        if [ -n "$ids" ]; then
            docker rm --force $ids >/dev/null
        fi
    fi
}
trap cleanup EXIT

target/debug/runledger --db "$db" "${runtime[@]}" demo --session "$session"
echo
echo "demo: the ledger is in $db; try:"
echo "  target/debug/runledger --db $db list"
echo "  sqlite3 $db 'SELECT repo, ref_name, sha, state FROM runs'"

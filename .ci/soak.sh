#!/usr/bin/env bash
# Soak: mixed load on one ledger file from several processes in four
# languages for SECONDS (default 60), while a checker verifies the
# invariants every second. Two Rust writers (the crash test's writer, which
# creates, claims, attaches, transitions, cancels and reconciles), two C
# programs, two Python processes and a shell loop of CLI calls. Fails if a
# worker fails or stops early, or if any check ever fails.
#   bash .ci/soak.sh 3600
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=${1:-60}

echo "== soak: build"
cargo build --locked -p runledger-cli -p runledger-capi
rust_writer=$(cargo test --locked --test crash --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "crash" and m.get("executable"):
        print(m["executable"])')
work=$(mktemp -d /tmp/runledger-soak.XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
gcc -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -O1 -Iinclude tests/soak/soak.c \
    -o "$work/soak" -Ltarget/debug -lrunledger -Wl,-rpath,"$root/target/debug"
venv=$root/target/soak-venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --upgrade pip
"$venv/bin/pip" install -q .

db=$work/soak.db
cli=$root/target/debug/runledger
"$cli" --db "$db" --runtime record-only create -q soak/cli.git refs/heads/init 0000000 >/dev/null

python3 tests/soak/check.py "$db" "$work/stop" "$work/rust-1.log" "$work/rust-2.log" &
checker=$!

echo "== soak: $seconds s of load"
for seed in 1 2; do
    RUNLEDGER_CRASH_DB=$db RUNLEDGER_CRASH_LOG=$work/rust-$seed.log \
        RUNLEDGER_CRASH_SEED=$((9000 + seed)) "$rust_writer" &
    pids+=($!)
done
workers=()
for _ in 1 2; do
    "$work/soak" "$db" "$seconds" &
    workers+=($!)
    "$venv/bin/python" tests/soak/soak.py "$db" "$seconds" &
    workers+=($!)
done
(
    end=$((SECONDS + seconds))
    n=0
    while [ "$SECONDS" -lt "$end" ]; do
        n=$((n + 1))
        "$cli" --db "$db" --runtime record-only create -q soak/cli.git refs/heads/main \
            "$(printf 'e%07x' "$n")" >/dev/null
        id=$("$cli" --db "$db" --runtime record-only claim -q --repo soak/cli.git)
        if [ -n "$id" ]; then
            "$cli" --db "$db" --runtime record-only transition -q "$id" --from active \
                --to complete >/dev/null || [ $? -eq 4 ] # 4: conflict
        fi
    done
    echo "soak cli: $((n * 3)) operations"
) &
workers+=($!)

failed=0
for pid in "${workers[@]}"; do
    wait "$pid" || failed=$((failed + 1))
done
# The Rust writers run until killed: they must still be running now.
for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "soak: a Rust writer died early" >&2; failed=$((failed + 1)); }
done
rust_ops=$(cat "$work"/rust-*.log | wc -l)
echo "soak rust: $rust_ops acknowledged operations"
for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
touch "$work/stop"
wait "$checker" || failed=$((failed + 1))
runs=$(sqlite3 "$db" 'SELECT count(*) FROM runs')
echo "soak: $seconds s, $runs runs in the ledger, $failed failures"
[ "$failed" -eq 0 ]

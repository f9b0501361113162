#!/usr/bin/env bash
# The boundary benchmark: runs_create (and runs_get, a cheaper call that
# shows the boundary's cost more sharply) called from C through
# librunledger.so, against the same calls made on the Rust core, side by
# side in one run. Rounds alternate C and Rust on fresh ledger files; the
# medians per call and the ratio C / Rust are printed.
# Timings of ~100 us calls cannot resolve a boundary cost of well under a
# microsecond on a noisy machine, so the same calls are also counted in
# instructions (valgrind's callgrind), which load does not move: the
# difference per call between the C and the Rust side is the boundary.
# Usage: benches/c/run.sh [calls per round] [rounds]
set -euo pipefail
cd "$(dirname "$0")/../.."

calls=${1:-5000}
rounds=${2:-5}
cargo build --locked --release -q -p runledger-capi --lib --example boundary_bench
work=$(mktemp -d /tmp/runledger-bench-c.XXXXXX)
trap 'rm -rf "$work"' EXIT
gcc -O2 -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -Iinclude \
    benches/c/create.c -o "$work/create" \
    -Ltarget/release -lrunledger -Wl,-rpath,"$PWD/target/release"

c_round() { echo "c $("$work/create" "$work/c-$1.db" "$calls")" >>"$work/results"; }
rust_round() {
    echo "rust $(target/release/examples/boundary_bench "$work/rust-$1.db" "$calls")" \
        >>"$work/results"
}
# Which side goes first alternates, so neither always gets the warmer disk
# cache or the quieter moment on a shared machine.
for round in $(seq "$rounds"); do
    if [ $((round % 2)) -eq 1 ]; then
        c_round "$round"
        rust_round "$round"
    else
        rust_round "$round"
        c_round "$round"
    fi
done

# pick side field which: the median or the fastest round, per call
pick() {
    grep "^$1 " "$work/results" | sed "s/.*$2=\([0-9]*\).*/\1/" | sort -n |
        awk -v which="$3" '{ v[NR] = $1 }
            END { print (which == "min") ? v[1] : v[int((NR + 1) / 2)] }'
}
echo "boundary benchmark: $rounds rounds of $calls calls each, per call"
printf '%-16s %12s %12s %10s %14s\n' call "C (ns)" "Rust (ns)" "C/Rust" "C - Rust (ns)"
for field in create_ns get_ns; do
    for which in median min; do
        c=$(pick c "$field" "$which")
        rust=$(pick rust "$field" "$which")
        printf '%-16s %12d %12d %10s %14d\n' "${field%_ns} ($which)" "$c" "$rust" \
            "$(awk -v c="$c" -v r="$rust" 'BEGIN { printf "%.3f", c / r }')" $((c - rust))
    done
done

# Instructions per call: two runs of different lengths per side, the
# difference divided by the extra calls, so start-up and warm-up cancel.
instructions() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
        sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
counted=${RUNLEDGER_BENCH_COUNTED_CALLS:-300}
per_call() { # side creates gets → instructions
    local side=$1 db
    db=$work/count-$side-$2-$3.db
    if [ "$side" = c ]; then
        instructions "$work/create" "$db" "$2" "$3"
    else
        instructions target/release/examples/boundary_bench "$db" "$2" "$3"
    fi
}
echo "instructions per call (callgrind, $counted extra calls)"
printf '%-16s %12s %12s %14s\n' call C Rust "C - Rust"
for call in create get; do
    for side in c rust; do
        if [ "$call" = create ]; then
            short=$(per_call "$side" "$counted" 0)
            long=$(per_call "$side" $((2 * counted)) 0)
        else
            short=$(per_call "$side" 1 "$counted")
            long=$(per_call "$side" 1 $((2 * counted)))
        fi
        eval "${side}_count=$(((long - short) / counted))"
    done
    # shellcheck disable=SC2154 # set by the eval above
    printf '%-16s %12d %12d %14d\n' "$call" "$c_count" "$rust_count" \
        $((c_count - rust_count))
done

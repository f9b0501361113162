#!/usr/bin/env bash
# Builds the cargo-fuzz targets of fuzz/ and runs each for a short time
# (FUZZ_SECONDS, default 30): input validation through Runs::create, and
# operation sequences against a model of the transition table. A crash or a
# failed assertion fails the script and leaves the input in
# fuzz/artifacts/TARGET/. For a long run:
#   FUZZ_SECONDS=3600 bash .ci/test-fuzz.sh
# cargo-fuzz needs nightly-only flags; RUSTC_BOOTSTRAP=1 lets the stable
# compiler accept them.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-30}
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== fuzz: installing cargo-fuzz"
    cargo install cargo-fuzz --locked --version 0.13.2
fi

cd fuzz
echo "== fuzz: build"
cargo fuzz build --dev
for target in push_validation transitions_model; do
    echo "== fuzz: $target for ${seconds}s"
    mkdir -p "corpus/$target"
    log=$(mktemp)
    status=0
    cargo fuzz run --dev "$target" "corpus/$target" "seeds/$target" -- \
        -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1 || status=$?
    # libFuzzer's progress lines are long; show the summary, or all on failure.
    if [ "$status" -ne 0 ]; then
        cat "$log"
        echo "fuzz: $target failed; the input is in fuzz/artifacts/$target/" >&2
        exit 1
    fi
    grep -E '^(Done|stat::(number_of_executed_units|peak_rss_mb))' "$log"
    rm -f "$log"
done
echo "== fuzz: passed"

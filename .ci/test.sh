#!/usr/bin/env bash
# Every test of the project: Rust (core and CLI), C, Go and Python. This is
# the README's test command (`make test`) and what CI runs. It installs what
# it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."

bash .ci/setup.sh

echo "== rust: format, lints, tests"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked

# The faces have suites of their own; each runs when it exists.
for suite in .ci/test-c.sh .ci/test-go.sh .ci/test-python.sh; do
    if [ -f "$suite" ]; then
        echo "== $suite"
        bash "$suite"
    fi
done
echo "== all suites passed"

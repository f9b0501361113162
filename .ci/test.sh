#!/usr/bin/env bash
# Every test of the project: Rust (core and CLI), C, Go and Python, then the
# C programs under sanitizers, a short fuzzing run, the demo and a one-minute
# soak.
# This is the README's test command (`make test`) and what CI runs. It
# installs what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."

# The container tests need an engine; where none answers, a private one runs
# for the length of this script.
source .ci/docker-engine.sh
trap stop_private_docker_engine EXIT
ensure_docker_engine

bash .ci/setup.sh

echo "== rust: format, lints, tests"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked

for suite in .ci/test-c.sh .ci/test-go.sh .ci/test-python.sh .ci/test-asan.sh \
    .ci/test-fuzz.sh; do
    echo "== $suite"
    bash "$suite"
done
echo "== make demo: the README's first command, as a newcomer runs it"
bash .ci/demo.sh
echo "== .ci/soak.sh"
bash .ci/soak.sh 60
echo "== all suites passed"

#!/usr/bin/env bash
# The CLI benchmark: one `runledger create` as a whole process, start to
# exit, against the sqlite3 CLI doing one INSERT on the same file. Builds the
# release binary first. Usage: benches/cli/bench.sh [REPETITIONS]
set -euo pipefail
cd "$(dirname "$0")/../.."

command -v sqlite3 >/dev/null || { echo "bench: sqlite3 is missing (.ci/setup.sh installs it)" >&2; exit 1; }
cargo build --quiet --release --locked -p runledger-cli
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 benches/cli/create_vs_sqlite.py target/release/runledger "$work" "${1:-300}"

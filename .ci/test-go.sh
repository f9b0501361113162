#!/usr/bin/env bash
# The Go suite: a Go module (standard library only) that links
# librunledger.so through cgo and runs the supersede flow with `go test`.
# Installs Debian's Go where it is missing. Prints the test count and exits
# non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v go >/dev/null; then
    echo "test-go: installing golang-go"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends golang-go >/dev/null
fi

echo "== go: build the library"
cargo build --locked -p runledger-capi --lib

echo "== go: go vet and go test"
cd tests/go
# No module proxy is reachable and the module needs none.
export GOFLAGS=-mod=mod GOPROXY=off CGO_ENABLED=1
go vet ./...
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
go test -v -count=1 ./... 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
passed=$(grep -c -- '^--- PASS' "$log" || true)
failed=$(grep -c -- '^--- FAIL' "$log" || true)
echo "go: $passed passed, $failed failed"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then
    exit 1
fi

#!/usr/bin/env bash
# Installs everything the tests, the demo and the benchmarks need, on a fresh
# Debian machine with Rust, Python 3 and a running Docker engine. Safe to run
# again: each step is skipped when its result is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v gcc >/dev/null || need_apt+=(gcc)
# cargo-fuzz builds libFuzzer, which is C++.
command -v g++ >/dev/null || need_apt+=(g++)
command -v go >/dev/null || need_apt+=(golang-go)
command -v valgrind >/dev/null || need_apt+=(valgrind)
command -v pkg-config >/dev/null || need_apt+=(pkg-config)
command -v sqlite3 >/dev/null || need_apt+=(sqlite3)
[ -x /bin/busybox ] || need_apt+=(busybox-static)
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "setup: installing ${need_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# Python tools live in a virtual environment of the checkout.
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
if ! .venv/bin/python -c 'import maturin, pytest, mypy' 2>/dev/null; then
    echo "setup: installing Python build and test tools into .venv"
    .venv/bin/pip install -q --upgrade pip
    .venv/bin/pip install -q -r .ci/requirements-dev.txt
fi

bash .ci/test-image.sh

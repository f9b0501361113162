#!/usr/bin/env bash
# The Python package's suite: build and install it with `pip install .` into a
# fresh virtual environment (as a user would, not an editable install), then
# run pytest (warnings are errors, see pyproject.toml), mypy --strict on the
# example, the benchmark and a sample script, and mypy.stubtest on the
# installed package.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

venv=$(mktemp -d)/venv
trap 'rm -rf "$(dirname "$venv")"' EXIT
python3 -m venv "$venv"
"$venv/bin/pip" install -q --upgrade pip
"$venv/bin/pip" install -q -r .ci/requirements-dev.txt
echo "test-python: pip install . into $venv"
"$venv/bin/pip" install -q .

# Run from outside the checkout so that `import runledger` can only find the
# installed package, never python/runledger of the source tree.
cd "$venv"
"$venv/bin/python" -c 'import runledger, sys; assert "site-packages" in runledger.__file__, runledger.__file__'

echo "test-python: pytest"
"$venv/bin/python" -m pytest -W error -p no:cacheprovider --rootdir "$root" -c "$root/pyproject.toml" "$root/tests/python"

echo "test-python: mypy --strict"
"$venv/bin/python" -m mypy --strict --no-incremental --cache-dir /dev/null \
    "$root/tests/python/typing_sample.py" "$root/examples/python/webhook_runner.py" \
    "$root/benches/python/bench_create.py"

echo "test-python: stubtest"
"$venv/bin/python" -m mypy.stubtest runledger \
    --allowlist "$root/tests/python/stubtest-allowlist.txt"
echo "test-python: passed"

#!/usr/bin/env bash
# `make bench`: the benchmark report. Makes its own virtual environment
# (target/bench-venv) with the Python package built by `pip install .`, the
# queues it is compared with and matplotlib, then runs every workload side by
# side and writes BENCHMARKS.md and its plots at the root of the checkout.
#
#   RUNLEDGER_BENCH_QUICK=1 make bench   a smoke run of a few minutes, written
#                                        to target/bench-quick/
#   make bench                           the full report (about 10-15 minutes
#                                        on 2 cores)
#   RUNLEDGER_BENCH_NOTE="..."           a sentence for the report, such as
#                                        that the machine was shared
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v valgrind >/dev/null || need_apt+=(valgrind)
command -v sqlite3 >/dev/null || need_apt+=(sqlite3)
command -v gcc >/dev/null || need_apt+=(gcc)
[ -x /bin/busybox ] || need_apt+=(busybox-static)
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "bench: installing ${need_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# The kill benchmark stops real containers: an engine must answer, and the
# test image must be there.
source .ci/docker-engine.sh
trap stop_private_docker_engine EXIT
ensure_docker_engine
bash .ci/test-image.sh

venv=target/bench-venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q -r benches/report/requirements.txt
# Always rebuilt, so the report measures the package of this checkout.
echo "bench: pip install . into $venv"
"$venv/bin/pip" install -q --force-reinstall --no-deps .

"$venv/bin/python" benches/report/report.py "$@"

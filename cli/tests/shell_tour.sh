#!/usr/bin/env bash
# A webhook handler and a runner in shell, with real containers.
set -euo pipefail
export RUNLEDGER_DB=ci.db

# The forge's webhook handler records each push.
runledger create work/tools.git refs/heads/main 4f2a9c1

# A runner claims the oldest pending run and starts its container with the
# run's labels (no kill ever takes a container labelled for another run).
run=$(runledger claim --quiet)
labels=$(runledger labels "$run" | sed 's/^/--label=/')
container=$(docker run --detach --network none --label=runledger.suite=shell-tour \
    $labels runledger-test:busybox)
runledger attach --quiet "$run" "$container"

# A newer push to the same ref supersedes the run and kills its container.
runledger create work/tools.git refs/heads/main 9e8d7c6
runledger --json get "$run" | grep '"state": "superseded"'
docker inspect --format '{{.State.Running}}' "$container" | grep false

# The runner learns it from its next heartbeat: a conflict, exit code 4.
status=0
runledger heartbeat "$run" || status=$?
test "$status" -eq 4

# Another runner takes the new run and reports how it went.
next=$(runledger claim --quiet)
runledger heartbeat --quiet "$next"
runledger transition --quiet "$next" --from active --to complete
runledger list
runledger history "$run"
docker rm --force "$container" >/dev/null

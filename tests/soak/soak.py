"""Soak load from Python: until the deadline, create runs (some of them
redeliveries), claim, heartbeat and finish, through the installed package.
A conflict is expected under load; any other error ends the process."""

import random
import sys
import time

import runledger


def main() -> None:
    db, seconds = sys.argv[1], float(sys.argv[2])
    runs = runledger.Runs(db, runtime="record-only")
    refs = ["refs/heads/main", "refs/heads/py-dev", "refs/tags/v1"]
    deadline = time.monotonic() + seconds
    operations = conflicts = 0
    n = 0
    while time.monotonic() < deadline:
        n += 1
        sha = f"{random.getrandbits(40):010x}" if n % 5 else "ab12cd3"
        runs.create("soak/py.git", random.choice(refs), sha)
        run = runs.claim(repo="soak/py.git")
        if run is not None:
            try:
                runs.heartbeat(run.id)
                runs.transition(run.id, "active", random.choice(["complete", "failed"]))
            except runledger.ConflictError:
                conflicts += 1
        operations += 3
    runs.close()
    print(f"soak.py: {operations} operations, {conflicts} conflicts")


if __name__ == "__main__":
    main()

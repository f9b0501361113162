"""The soak's checker: every second, reads the ledger with plain sqlite3 (one
read transaction, so one consistent snapshot) and checks the invariants.
Runs until the file named by argv[2] exists; then checks that every run id
in the writers' logs named by the other arguments (lines "<run id> <state>
...", as the Rust writers acknowledge them) is in the file, prints what it
saw, and exits 1 if any check ever failed."""

import os
import sqlite3
import sys
import time

CHECKS = {
    "integrity": "PRAGMA quick_check",
    "two live runs in an unprotected group": """
        SELECT count(*) FROM (SELECT group_key FROM runs
         WHERE state IN ('pending', 'active') AND protected = 0
         GROUP BY group_key HAVING count(*) > 1)""",
    "two pending or two active runs in a group": """
        SELECT count(*) FROM (SELECT group_key, state FROM runs
         WHERE state IN ('pending', 'active')
         GROUP BY group_key, state HAVING count(*) > 1)""",
    "superseded by a run of another group, or by itself": """
        SELECT count(*) FROM runs AS old JOIN runs AS new ON new.id = old.superseded_by
         WHERE new.group_key <> old.group_key OR new.id = old.id""",
    "state missing from the history": """
        SELECT count(*) FROM runs AS r WHERE r.state <> 'pending' AND NOT EXISTS
         (SELECT 1 FROM run_history AS h WHERE h.run_id = r.id AND h.to_state = r.state)""",
    "superseded by an older push": """
        SELECT count(*) FROM runs AS old JOIN runs AS new ON new.id = old.superseded_by
         WHERE new.pushed_at < old.pushed_at""",
}


def main() -> None:
    db, stop_file, logs = sys.argv[1], sys.argv[2], sys.argv[3:]
    rounds = 0
    failures: list[str] = []
    while not os.path.exists(stop_file):
        started = time.monotonic()
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
        try:
            conn.execute("BEGIN")
            for name, query in CHECKS.items():
                value = conn.execute(query).fetchone()[0]
                bad = value != "ok" if name == "integrity" else value != 0
                if bad:
                    failures.append(f"round {rounds}: {name}: {value}")
            runs = conn.execute("SELECT count(*) FROM runs").fetchone()[0]
            conn.execute("COMMIT")
        finally:
            conn.close()
        rounds += 1
        if rounds % 10 == 0:
            print(f"check: {rounds} rounds, {runs} runs, {len(failures)} failures", flush=True)
        # A round starts every second, or at once if the last took longer.
        time.sleep(max(0.0, 1 - (time.monotonic() - started)))
    acknowledged = set()
    for log in logs:
        with open(log) as lines:
            acknowledged.update(line.split(" ")[0] for line in lines if line.endswith("\n"))
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    stored = {row[0] for row in conn.execute("SELECT id FROM runs")}
    conn.close()
    missing = acknowledged - stored
    if missing:
        failures.append(f"{len(missing)} acknowledged runs are missing: {sorted(missing)[:5]}")
    print(f"check: {len(acknowledged)} acknowledged Rust runs, {len(missing)} missing")
    print(f"check: {rounds} rounds of {len(CHECKS)} checks, {len(failures)} failures")
    for failure in failures:
        print(f"check: FAILED {failure}")
    sys.exit(1 if failures or rounds == 0 else 0)


if __name__ == "__main__":
    main()

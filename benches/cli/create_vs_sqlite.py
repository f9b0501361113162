"""Times one `runledger create` as a whole process against the sqlite3 CLI
doing a single INSERT on the same file: the floor for any tool that starts a
process per call. Commands are interleaved so both see the same machine.

Usage: create_vs_sqlite.py RUNLEDGER_BINARY WORK_DIR [REPETITIONS]
"""

import os
import statistics
import sys
import time


def spawn_and_wait(argv):
    """Runs argv to completion with stdout and stderr discarded; returns
    the wall time in seconds."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        actions = [
            (os.POSIX_SPAWN_DUP2, devnull, 1),
            (os.POSIX_SPAWN_DUP2, devnull, 2),
        ]
        start = time.perf_counter()
        pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions)
        _, status = os.waitpid(pid, 0)
        elapsed = time.perf_counter() - start
    finally:
        os.close(devnull)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"bench: {argv} exited with {code}")
    return elapsed


def main():
    binary, work = sys.argv[1], sys.argv[2]
    repetitions = int(sys.argv[3]) if len(sys.argv) > 3 else 300
    db = os.path.join(work, "bench.db")
    floor_db = os.path.join(work, "floor.db")
    for path in (db, floor_db):
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)

    # The ledger makes the file (WAL mode is stored in it); the floor's
    # table sits next to the ledger's tables.
    spawn_and_wait([binary, "--db", db, "--runtime", "record-only", "create",
                    "bench/setup.git", "refs/heads/main", "0000000"])
    for path in (db, floor_db):
        spawn_and_wait(["sqlite3", path,
                        "PRAGMA journal_mode=WAL; CREATE TABLE floor (id INTEGER PRIMARY KEY, "
                        "repo TEXT, ref_name TEXT, sha TEXT, at INTEGER)"])

    def create(runtime):
        def command(i):
            # Each push supersedes the previous pending run of the ref, as
            # a busy branch does.
            return [binary, "--db", db, "--runtime", runtime, "create",
                    f"bench/{runtime}.git", "refs/heads/main", f"{i + 1:07x}"]
        return command

    def insert(i):
        # The same durability as the ledger (WAL, synchronous NORMAL).
        return ["sqlite3", db,
                "PRAGMA synchronous=NORMAL; INSERT INTO floor (repo, ref_name, sha, at) "
                f"VALUES ('bench/floor.git', 'refs/heads/main', '{i + 1:07x}', {i})"]

    def insert_without_checkpoint(i):
        # What a process costs when closing the last connection does not
        # checkpoint the WAL (SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE): the
        # checkpoint's fsyncs are most of a short-lived writer's time.
        # It runs on a file of its own, so the WAL it leaves behind does not
        # change what the others pay.
        return ["sqlite3", "-cmd", ".dbconfig no_ckpt_on_close on", floor_db] + insert(i)[2:]

    contenders = {
        "runledger create (docker runtime, the default)": create("docker"),
        "runledger create (record-only runtime)": create("record-only"),
        "sqlite3 CLI, one INSERT": insert,
        "sqlite3 CLI, one INSERT, no checkpoint on close": insert_without_checkpoint,
    }
    for command in contenders.values():  # warm the page cache
        for i in range(10):
            spawn_and_wait(command(10_000_000 + i))

    times = {name: [] for name in contenders}
    for i in range(repetitions):
        for name, command in contenders.items():
            times[name].append(spawn_and_wait(command(i)))

    floor = statistics.median(times["sqlite3 CLI, one INSERT"])
    print(f"{repetitions} runs each, interleaved, on {db}")
    print(f"{'command':<50} {'median':>9} {'p90':>9} {'vs sqlite3':>11}")
    for name, samples in times.items():
        median = statistics.median(samples)
        p90 = statistics.quantiles(samples, n=10)[-1]
        print(f"{name:<50} {median * 1000:>7.2f}ms {p90 * 1000:>7.2f}ms "
              f"{median / floor:>10.2f}x")
    target = statistics.median(times["runledger create (docker runtime, the default)"])
    verdict = "met" if target < 0.005 else "MISSED"
    print(f"target: median runledger create under 5 ms: {verdict} ({target * 1000:.2f} ms)")


if __name__ == "__main__":
    main()

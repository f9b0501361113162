"""The Python side of the benchmark report: one process, the same pushes on
1,000 refs through every Python contender, in interleaved rounds so drift on
a shared machine hits them alike. Prints one JSON line per contender.

- runledger: the package, create with supersede (record-only runtime);
- careful: Python's sqlite3, one connection kept open, BEGIN IMMEDIATE, the
  statements of the core (from benches/python/bench_create.py);
- naive: a connection per call, a deferred transaction that reads first;
- litequeue (put), huey with SqliteHuey (enqueue of a task), persist-queue
  SQLiteAckQueue (put): queues, each with its own default settings, which
  append one row and supersede nothing.

    python python_peers.py --sync NORMAL --count 5000 --dir DIR

runledger, careful and naive run at the given synchronous setting; the
queues keep theirs, which the output records.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Optional

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benches" / "python"))

import bench_create  # noqa: E402  (the careful and naive implementations)
import runledger  # noqa: E402

REPO = "work/bench.git"
REFS = 1000
ROUND = 100


def pragmas(connection: sqlite3.Connection) -> dict[str, Any]:
    """The settings a contender's connection writes with."""
    names = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
    journal = connection.execute("PRAGMA journal_mode").fetchone()[0]
    synchronous = connection.execute("PRAGMA synchronous").fetchone()[0]
    return {"journal_mode": journal, "synchronous": names.get(synchronous, synchronous)}


class Contender:
    """A name, a call taking (n, repo, ref, sha), its settings, and a close."""

    def __init__(
        self,
        name: str,
        call: Callable[[str, str, str], Any],
        settings: dict[str, Any],
        close: Callable[[], None],
        per_round: int = ROUND,
    ) -> None:
        self.name, self.call, self.settings, self.close = name, call, settings, close
        self.per_round = per_round
        self.samples: list[int] = []


def fresh_ledger(directory: Path, name: str) -> Path:
    path = directory / f"{name}.db"
    with runledger.Runs(path, runtime="record-only"):
        pass
    return path


def open_contenders(directory: Path, sync: str, only: Optional[set[str]]) -> list[Contender]:
    contenders = []

    def wanted(name: str) -> bool:
        return only is None or name in only

    if wanted("runledger"):
        runs = runledger.Runs(
            fresh_ledger(directory, "runledger"), runtime="record-only", synchronous=sync.lower()
        )

        def create(repo: str, ref: str, sha: str) -> Any:
            return runs.create(repo, ref, sha)

        settings = {"synchronous": sync, "journal_mode": "wal", "busy_timeout_s": 5}
        contenders.append(Contender("runledger", create, settings, runs.close))

    if wanted("careful"):
        careful = bench_create.CarefulSqlite(fresh_ledger(directory, "careful"))
        careful.connection.execute(f"PRAGMA synchronous = {sync}")
        settings = pragmas(careful.connection) | {"busy_timeout_s": 5}
        contenders.append(
            Contender("careful", careful.create, settings, careful.connection.close)
        )

    if wanted("naive"):
        naive_path = fresh_ledger(directory, "naive")

        def naive(repo: str, ref: str, sha: str) -> Any:
            # A connection per call; the durability setting is the one under
            # test, so the naive version is not made slower by a default.
            connection = sqlite3.connect(naive_path)
            try:
                connection.execute(f"PRAGMA synchronous = {sync}")
                with connection:
                    return bench_create.record(connection, repo, ref, sha)
            finally:
                connection.close()

        settings = {
            "synchronous": sync,
            "journal_mode": "wal",
            "busy_timeout_s": 5,
            "connection": "one per call",
        }
        contenders.append(Contender("naive", naive, settings, lambda: None, per_round=10))

    if wanted("litequeue"):
        from litequeue import LiteQueue

        queue = LiteQueue(str(directory / "litequeue.db"))

        def put(repo: str, ref: str, sha: str) -> Any:
            return queue.put(json.dumps({"repo": repo, "ref": ref, "sha": sha}))

        contenders.append(Contender("litequeue", put, pragmas(queue.conn), queue.conn.close))

    if wanted("huey"):
        from huey import SqliteHuey

        huey = SqliteHuey(filename=str(directory / "huey.db"))

        @huey.task()
        def build(repo: str, ref: str, sha: str) -> None:
            pass

        settings = pragmas(huey.storage.conn)
        contenders.append(Contender("huey", build, settings, huey.storage.close))

    if wanted("persist-queue"):
        from persistqueue import SQLiteAckQueue

        ack_queue = SQLiteAckQueue(str(directory / "persist-queue"))

        def ack_put(repo: str, ref: str, sha: str) -> Any:
            return ack_queue.put({"repo": repo, "ref": ref, "sha": sha})

        settings = pragmas(ack_queue._putter) | {"auto_commit": ack_queue.auto_commit}
        contenders.append(Contender("persist-queue", ack_put, settings, lambda: None))
    return contenders


def summary(contender: Contender, sync: str) -> dict[str, Any]:
    samples = sorted(contender.samples)

    def pct(p: float) -> float:
        return samples[round((len(samples) - 1) * p)] / 1000

    return {
        "workload": "single",
        "sync": sync,
        "contender": f"python {contender.name}",
        "settings": contender.settings,
        "n": len(samples),
        "ops_per_sec": len(samples) / (sum(samples) / 1e9),
        "p50_us": pct(0.5),
        "p99_us": pct(0.99),
        "max_us": pct(1.0),
    }


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sync", default="NORMAL")
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--only", default=None, help="comma-separated contender names")
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args(argv)
    only = set(args.only.split(",")) if args.only else None

    with tempfile.TemporaryDirectory(prefix="runledger-report-", dir=args.dir) as scratch:
        contenders = open_contenders(Path(scratch), args.sync.upper(), only)
        # Every ref gets its first run untimed, so each timed create supersedes.
        for contender in contenders:
            for i in range(REFS):
                contender.call(REPO, f"refs/heads/b{i}", f"{i:08x}")
        n = REFS
        rounds = max(1, args.count // ROUND)
        for _ in range(rounds):
            for contender in contenders:
                call, samples = contender.call, contender.samples
                for i in range(n, n + contender.per_round):
                    ref, sha = f"refs/heads/b{i % REFS}", f"{i:08x}"
                    started = time.perf_counter_ns()
                    call(REPO, ref, sha)
                    samples.append(time.perf_counter_ns() - started)
            n += ROUND
        for contender in contenders:
            contender.close()
            print(json.dumps(summary(contender, args.sync.upper())), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

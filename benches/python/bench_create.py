"""Create through the Python package, side by side with the same creates
made (a) by the Rust core directly, (b) by a careful implementation on
Python's own sqlite3 module (one connection kept open, BEGIN IMMEDIATE, the
same schema and statements as the core), and (c) a naive one that opens a
connection per call and reads before it writes, as scripts often do.

Each round gives every contender a fresh ledger file and the same pushes:
one repository, GROUPS refs in turn, so each create supersedes the pending
run its ref got GROUPS creates earlier. Rounds alternate the contenders so
drift on a shared machine hits them alike; the median round is reported.

    python benches/python/bench_create.py [--calls 5000] [--rounds 5]

It needs the runledger package installed in the running Python and builds
the Rust side with `cargo build --release`.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Optional

import runledger

ROOT = Path(__file__).resolve().parents[2]
REPO = "bench/tools.git"
GROUPS = 50

LIVE_RUNS_OF_GROUP = """
    SELECT id, sha, state, pushed_at, protected, container_id FROM runs
     WHERE group_key = ?1 AND state = 'pending'
    UNION ALL
    SELECT id, sha, state, pushed_at, protected, container_id FROM runs
     WHERE group_key = ?1 AND state = 'active'"""
SUPERSEDE_RUN = """
    UPDATE runs SET state = 'superseded', superseded_by = ?2, finished_at = ?3,
                    lease_expires_at = NULL,
                    kill_state = CASE WHEN container_id IS NULL THEN NULL ELSE 'requested' END,
                    kill_at = CASE WHEN container_id IS NULL THEN NULL ELSE ?3 END
     WHERE id = ?1 AND state = ?4"""
INSERT_HISTORY = """
    INSERT INTO run_history (run_id, from_state, to_state, at, reason, superseded_by)
    VALUES (?, ?, 'superseded', ?, 'superseded', ?)"""
INSERT_RUN = """
    INSERT INTO runs (id, repo, ref_name, sha, group_key, state, protected, pushed_at,
                      queued_at, finished_at, superseded_by)
    VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?, NULL, NULL)"""


def uuid7() -> str:
    """A UUIDv7, as the core makes run ids (the standard library has none
    before Python 3.14)."""
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big")
    value = value & ~(0xF << 76) | 0x7 << 76
    value = value & ~(0x3 << 62) | 0x2 << 62
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def record(connection: sqlite3.Connection, repo: str, ref: str, sha: str) -> dict[str, Any]:
    """The create of the core (supersede policy without protected refs),
    inside a transaction the caller has begun."""
    group = f"{repo}:{ref}"
    now = time.time_ns() // 1_000_000
    live = connection.execute(LIVE_RUNS_OF_GROUP, (group,)).fetchall()
    for run_id, live_sha, state, pushed_at, _protected, _container in live:
        if live_sha == sha:
            return {"id": run_id, "duplicate": True}
    new_id = uuid7()
    for run_id, _sha, state, _pushed_at, _protected, _container in live:
        connection.execute(SUPERSEDE_RUN, (run_id, new_id, now, state))
        connection.execute(INSERT_HISTORY, (run_id, state, now, new_id))
    connection.execute(INSERT_RUN, (new_id, repo, ref, sha, group, now, now))
    return {"id": new_id, "duplicate": False, "superseded": [row[0] for row in live]}


class CarefulSqlite:
    """One connection, kept open; the write lock taken before the first read."""

    def __init__(self, path: Path) -> None:
        self.connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.connection.execute("PRAGMA busy_timeout = 5000")
        self.connection.execute("PRAGMA synchronous = NORMAL")
        self.connection.execute("PRAGMA foreign_keys = ON")

    def create(self, repo: str, ref: str, sha: str) -> dict[str, Any]:
        self.connection.execute("BEGIN IMMEDIATE")
        try:
            created = record(self.connection, repo, ref, sha)
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        self.connection.execute("COMMIT")
        return created


def naive_create(path: Path, repo: str, ref: str, sha: str) -> dict[str, Any]:
    """A connection per call, a deferred transaction that reads first and
    writes after: what a quick script does."""
    connection = sqlite3.connect(path)
    try:
        with connection:
            return record(connection, repo, ref, sha)
    finally:
        connection.close()


def pushes(calls: int) -> list[tuple[str, str, str]]:
    return [(REPO, f"refs/heads/b{i % GROUPS}", f"{i:08x}") for i in range(calls)]


def fresh_ledger(directory: Path, name: str) -> Path:
    """A ledger file with the runledger schema, made by the package."""
    path = directory / f"{name}.db"
    with runledger.Runs(path, runtime="record-only"):
        pass
    return path


def timed(work: Callable[[], None], calls: int) -> float:
    started = time.perf_counter_ns()
    work()
    return (time.perf_counter_ns() - started) / calls


def run_python(directory: Path, calls: int) -> float:
    inputs = pushes(calls)
    with runledger.Runs(fresh_ledger(directory, "python"), runtime="record-only") as runs:
        create = runs.create

        def work() -> None:
            for repo, ref, sha in inputs:
                create(repo, ref, sha)

        return timed(work, calls)


def run_careful(directory: Path, calls: int) -> float:
    inputs = pushes(calls)
    careful = CarefulSqlite(fresh_ledger(directory, "careful"))

    def work() -> None:
        for repo, ref, sha in inputs:
            careful.create(repo, ref, sha)

    try:
        return timed(work, calls)
    finally:
        careful.connection.close()


def run_naive(directory: Path, calls: int) -> float:
    inputs = pushes(calls)
    path = fresh_ledger(directory, "naive")

    def work() -> None:
        for repo, ref, sha in inputs:
            naive_create(path, repo, ref, sha)

    return timed(work, calls)


def run_rust(binary: Path, directory: Path, calls: int) -> float:
    path = directory / "rust.db"
    out = subprocess.run(
        [str(binary), str(path), str(GROUPS), str(calls)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(out.strip().split("=", 1)[1])


def build_rust() -> Path:
    subprocess.run(
        [
            "cargo",
            "build",
            "--release",
            "--quiet",
            "-p",
            "runledger-python",
            "--example",
            "python_bench_peer",
        ],
        cwd=ROOT,
        check=True,
    )
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return target / "release" / "examples" / "python_bench_peer"


def check_same_rows(directory: Path) -> None:
    """Every contender must have left the same runs, or the race is unfair."""
    counts = {}
    for name in ("python", "careful", "naive", "rust"):
        connection = sqlite3.connect(directory / f"{name}.db")
        counts[name] = connection.execute(
            "SELECT count(*), sum(state = 'pending'), sum(state = 'superseded') FROM runs"
        ).fetchone()
        connection.close()
    python = counts["python"]
    naive_calls = counts["naive"][0]
    assert counts["careful"] == counts["rust"] == python, counts
    assert counts["naive"][1] == min(GROUPS, naive_calls), counts


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="create: runledger for Python against the rest")
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--naive-calls", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--dir", type=Path, default=None, help="where the ledger files go (default: the temp dir)"
    )
    args = parser.parse_args(argv)

    rust = build_rust()
    samples: dict[str, list[float]] = {"rust": [], "python": [], "careful": [], "naive": []}
    contenders: list[tuple[str, Callable[[Path], float]]] = [
        ("rust", lambda directory: run_rust(rust, directory, args.calls)),
        ("python", lambda directory: run_python(directory, args.calls)),
        ("careful", lambda directory: run_careful(directory, args.calls)),
        ("naive", lambda directory: run_naive(directory, args.naive_calls)),
    ]
    for round_number in range(args.rounds):
        with tempfile.TemporaryDirectory(prefix="runledger-bench-", dir=args.dir) as scratch:
            directory = Path(scratch)
            # Each round starts with another contender, so none always runs
            # on a cold cache or always right after the slow naive one.
            shift = round_number % len(contenders)
            for name, contender in contenders[shift:] + contenders[:shift]:
                samples[name].append(contender(directory))
            check_same_rows(directory)

    median = {name: statistics.median(values) for name, values in samples.items()}
    print(f"create, median of {args.rounds} rounds, {args.calls} calls each "
          f"({args.naive_calls} for naive), {GROUPS} groups, record-only runtime, "
          f"synchronous=normal, Python {sys.version.split()[0]}, files in "
          f"{args.dir or tempfile.gettempdir()}")  # fmt: skip
    for name, label in [
        ("rust", "Rust core, direct"),
        ("python", "runledger for Python"),
        ("careful", "sqlite3, careful"),
        ("naive", "sqlite3, naive"),
    ]:
        print(f"  {label:<22} {median[name] / 1000:9.1f} us/create")
    python = median["python"]
    print("ratios (throughput of the Python package relative to each, higher is better):")
    print(f"  vs Rust core      {median['rust'] / python:6.2f}   (target >= 0.85)")
    print(f"  vs careful sqlite3 {median['careful'] / python:5.2f}x  (target >= 1.3)")
    print(f"  vs naive sqlite3  {median['naive'] / python:6.1f}x  (target >= 15)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

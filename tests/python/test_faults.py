"""Faults seen through the Python package: a lock held by another process
past the busy timeout, a read-only (immutable) file, a full disk, and a
container engine that is not there. Each raises the error class of its kind
or reports the failed kill, writes nothing half-way, and the ledger works
again once the fault is gone. The disk faults need root (CI runs as root)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

import runledger
from conftest import MAIN, REPO, assert_invariants, row_count, sha

HOLD_LOCK = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.read()
connection.execute("COMMIT")
"""


def test_a_lock_held_by_another_process_raises_busy_error_and_changes_nothing(
    db_path: Path,
) -> None:
    runs = runledger.Runs(db_path, runtime="record-only", busy_timeout=0.3)
    first = runs.create(REPO, MAIN, sha()).run
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(db_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdin is not None
    assert holder.stdout.readline().strip() == "locked"

    with pytest.raises(runledger.BusyError) as caught:
        runs.create(REPO, MAIN, sha())

    assert isinstance(caught.value, runledger.StorageError)
    assert "locked for more than 300 ms" in str(caught.value)
    assert runs.get(first.id).state == "pending"
    holder.stdin.close()
    assert holder.wait(timeout=10) == 0
    holder.stdout.close()
    second = runs.create(REPO, MAIN, sha())
    assert [old.run_id for old in second.superseded] == [first.id]
    assert row_count(db_path) == 2
    runs.close()


def test_an_immutable_file_raises_read_only_error_and_opens_once_writable(
    db_path: Path,
) -> None:
    with runledger.Runs(db_path, runtime="record-only") as runs:
        first = runs.create(REPO, MAIN, sha()).run
    before = db_path.read_bytes()
    subprocess.run(["chattr", "+i", str(db_path)], check=True)
    try:
        with pytest.raises(runledger.ReadOnlyError) as caught:
            with runledger.Runs(db_path, runtime="record-only") as runs:
                runs.create(REPO, MAIN, sha())
    finally:
        subprocess.run(["chattr", "-i", str(db_path)], check=True)

    assert "read-only" in str(caught.value)
    assert db_path.read_bytes() == before
    with runledger.Runs(db_path, runtime="record-only") as runs:
        assert runs.create(REPO, MAIN, sha()).superseded[0].run_id == first.id


@pytest.fixture
def small_disk() -> Iterator[Path]:
    """A 1 MiB tmpfs, unmounted afterwards."""
    with tempfile.TemporaryDirectory() as mount_point:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mount_point], check=True)
        try:
            yield Path(mount_point)
        finally:
            subprocess.run(["umount", mount_point], check=True)


def test_a_full_disk_raises_storage_error_and_keeps_every_committed_run(small_disk: Path) -> None:
    db = small_disk / "runledger.db"
    runs = runledger.Runs(db, runtime="record-only")
    filler = small_disk / "filler"
    with open(filler, "wb", buffering=0) as out:
        try:
            while True:
                out.write(b"\0" * 65536)
        except OSError:
            pass

    committed = []
    with pytest.raises(runledger.StorageError) as caught:
        for n in range(100_000):
            committed.append(runs.create(REPO, f"refs/heads/b{n}", sha()).run.id)

    assert "full" in str(caught.value)
    assert all(runs.get(run_id).state == "pending" for run_id in committed)
    filler.unlink()
    runs.create(REPO, "refs/heads/after", sha())
    assert row_count(db) == len(committed) + 1
    assert_invariants(db)
    runs.close()


def test_an_absent_engine_fails_the_kill_but_the_supersede_stands(db_path: Path) -> None:
    socket = db_path.parent / "no-engine.sock"
    with runledger.Runs(db_path, runtime=f"unix://{socket}", kill_timeout=2) as runs:
        runs.create(REPO, MAIN, sha())
        old = runs.claim()
        assert old is not None
        runs.attach_container(old.id, "some-container")

        created = runs.create(REPO, MAIN, sha())

        kill = created.superseded[0].kill
        assert kill is not None and kill.kind == "failed"
        assert kill.error is not None and "unavailable" in kill.error
        assert runs.get(old.id).state == "superseded"
        record = runs.get(old.id).kill
        assert record is not None and record.state == "failed"

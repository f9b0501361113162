"""The handle's life: context manager, closing, fork, and pickling runs."""

from __future__ import annotations

import os
import pickle
import sqlite3
from pathlib import Path

import pytest

import runledger
from runledger import RunState

from conftest import MAIN, REPO, sha


def test_leaving_the_with_block_closes_the_handle(db_path: Path) -> None:
    with runledger.Runs(db_path, runtime="record-only") as runs:
        run = runs.create(REPO, MAIN, sha()).run
        assert not runs.closed

    assert runs.closed
    with pytest.raises(runledger.HandleClosedError):
        runs.get(run.id)


def test_the_with_block_closes_the_handle_when_an_exception_leaves_it(db_path: Path) -> None:
    with pytest.raises(KeyError):
        with runledger.Runs(db_path, runtime="record-only") as runs:
            raise KeyError("boom")

    assert runs.closed


def open_files_of(db_path: Path) -> list[str]:
    """The files of the ledger (database, -wal, -shm) this process holds
    open, read from /proc."""
    held = []
    for descriptor in Path("/proc/self/fd").iterdir():
        try:
            target = os.readlink(descriptor)
        except OSError:
            continue  # closed while we looked
        if target.startswith(str(db_path)):
            held.append(target)
    return held


def test_closing_closes_every_file_the_handle_opened(db_path: Path) -> None:
    with runledger.Runs(db_path, runtime="record-only") as runs:
        run = runs.create(REPO, MAIN, sha()).run
        runs.get(run.id)
        assert open_files_of(db_path) != []

    assert open_files_of(db_path) == []
    connection = sqlite3.connect(db_path)
    (state,) = connection.execute("SELECT state FROM runs WHERE id = ?", (run.id,)).fetchone()
    connection.close()
    assert state == "pending"


def _in_child(work: "object") -> int:
    """Runs `work` in a forked child and returns the child's exit status:
    0 when it returned True, 1 when it returned False, 2 when it raised."""
    pid = os.fork()
    if pid == 0:
        code = 2
        try:
            code = 0 if work() else 1  # type: ignore[operator]
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def test_a_forked_child_reopens_the_file_and_the_parent_keeps_its_handle(
    db_path: Path,
) -> None:
    runs = runledger.Runs(db_path, runtime="record-only")
    parent_run = runs.create(REPO, MAIN, sha()).run
    child_sha = sha()

    def child() -> bool:
        created = runs.create(REPO, MAIN, child_sha)
        return [s.run_id for s in created.superseded] == [parent_run.id]

    status = _in_child(child)

    assert status == 0
    # The parent's connection still works and sees the child's write.
    assert runs.get(parent_run.id).state is RunState.SUPERSEDED
    (newest,) = runs.list(state=RunState.PENDING).runs
    assert newest.sha == child_sha
    runs.close()


def test_a_handle_closed_before_the_fork_stays_closed_in_the_child(db_path: Path) -> None:
    runs = runledger.Runs(db_path, runtime="record-only")
    runs.close()

    def child() -> bool:
        try:
            runs.claim()
        except runledger.HandleClosedError:
            return True
        return False

    assert _in_child(child) == 0


def test_a_run_pickles_and_compares_equal(runs: runledger.Runs) -> None:
    runs.create(REPO, MAIN, sha())
    claimed = runs.claim()
    assert claimed is not None
    attached = runs.attach_container(claimed.id, "c0ffee")
    runs.create(REPO, MAIN, sha())
    superseded = runs.get(claimed.id)

    for run in (attached, superseded):
        copy = pickle.loads(pickle.dumps(run))

        assert copy == run
        assert hash(copy) == hash(run)
        assert (copy.state, copy.kill and copy.kill.state, copy.started_at) == (
            run.state,
            run.kill and run.kill.state,
            run.started_at,
        )
    assert attached != superseded


def test_runs_are_immutable(runs: runledger.Runs) -> None:
    run = runs.create(REPO, MAIN, sha()).run

    with pytest.raises(AttributeError):
        run.state = RunState.ACTIVE  # type: ignore[misc]


def test_errors_pickle_with_their_attributes(runs: runledger.Runs) -> None:
    run = runs.create(REPO, MAIN, sha()).run
    runs.cancel(run.id)
    with pytest.raises(runledger.ConflictError) as caught:
        runs.transition(run.id, "pending", "active")

    copy = pickle.loads(pickle.dumps(caught.value))

    assert type(copy) is runledger.ConflictError
    assert (copy.run_id, copy.actual, str(copy)) == (run.id, RunState.CANCELED, str(caught.value))


def test_every_error_class_derives_from_the_base() -> None:
    for name in runledger.__all__:
        value = getattr(runledger, name)
        if isinstance(value, type) and issubclass(value, Exception):
            assert issubclass(value, runledger.RunledgerError), name
    assert issubclass(runledger.InvalidInputError, ValueError)
    assert issubclass(runledger.BusyError, runledger.StorageError)

"""Many threads on one handle and many processes on one file: the core's
invariants hold afterwards and no caller ever sees a busy error."""

from __future__ import annotations

import multiprocessing
import random
import threading
import warnings
from pathlib import Path

import pytest

import runledger
from runledger import RunState

from conftest import assert_invariants, row_count

THREADS = 8
PROCESSES = 4
ROUNDS = 150
GROUPS = 5


def _churn(runs: runledger.Runs, seed: int, errors: list[BaseException]) -> None:
    """Creates pushes into a few shared groups, claims and finishes runs,
    as webhook receivers and runners sharing a ledger do. Conflicts are
    expected (another worker got there first); anything else is a failure."""
    rng = random.Random(seed)
    try:
        for step in range(ROUNDS):
            group = rng.randrange(GROUPS)
            runs.create("work/load.git", f"refs/heads/b{group}", f"{seed:04x}{step:04x}ab")
            claimed = runs.claim()
            if claimed is not None and rng.random() < 0.5:
                try:
                    runs.transition(claimed.id, RunState.ACTIVE, RunState.COMPLETE)
                except runledger.ConflictError as conflict:
                    assert conflict.actual is RunState.SUPERSEDED
    except BaseException as error:
        errors.append(error)


def test_eight_threads_creating_and_claiming_on_one_handle_keep_the_invariants(
    db_path: Path,
) -> None:
    errors: list[BaseException] = []
    with runledger.Runs(db_path, runtime="record-only") as runs:
        threads = [
            threading.Thread(target=_churn, args=(runs, seed, errors)) for seed in range(THREADS)
        ]

        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert errors == []
    assert row_count(db_path) == THREADS * ROUNDS
    assert_invariants(db_path)


def test_threads_make_progress_while_another_thread_waits_in_the_library(
    runs: runledger.Runs,
) -> None:
    # wait_for_change holds no GIL while it waits, so this thread's creates
    # go on; with the GIL held they would all wait for its timeout.
    run = runs.create("work/tools.git", "refs/heads/main", "abcdef1").run
    waiter = threading.Thread(target=runs.wait_for_change, args=(run.id, RunState.PENDING, 3.0))
    waiter.start()

    made = [runs.create("work/tools.git", f"refs/heads/t{n}", "abcdef2").run for n in range(20)]
    still_waiting = waiter.is_alive()
    runs.cancel(run.id)
    waiter.join()

    assert len(made) == 20
    assert still_waiting


def _process_worker(
    ledger: "str | runledger.Runs", seed: int, results: "multiprocessing.Queue[str]"
) -> None:
    # A spawned process starts with the default filters: make warnings
    # errors here too, as pytest does in the test's own process.
    warnings.simplefilter("error")
    errors: list[BaseException] = []
    if isinstance(ledger, runledger.Runs):
        # Inherited through fork: its first call here reopens the file.
        _churn(ledger, seed, errors)
    else:
        with runledger.Runs(ledger, runtime="record-only") as runs:
            _churn(runs, seed, errors)
    results.put("ok" if not errors else f"{type(errors[0]).__name__}: {errors[0]}")


@pytest.mark.parametrize("start_method", ["spawn", "fork"])
def test_four_processes_on_one_file_keep_the_invariants_and_never_see_busy(
    db_path: Path, start_method: str
) -> None:
    # With "fork" the workers use the handle they inherit from this process,
    # which reopens the file in each of them; with "spawn" each opens its own.
    inherited = runledger.Runs(db_path, runtime="record-only")
    context = multiprocessing.get_context(start_method)
    results: multiprocessing.Queue[str] = context.Queue()
    ledger: "str | runledger.Runs" = inherited if start_method == "fork" else str(db_path)
    workers = [
        context.Process(target=_process_worker, args=(ledger, 100 + seed, results))
        for seed in range(PROCESSES)
    ]

    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)

    assert outcomes == ["ok"] * PROCESSES
    assert [worker.exitcode for worker in workers] == [0] * PROCESSES
    # The parent's own handle still works after its children used copies.
    assert len(inherited.list(limit=10).runs) == 10
    inherited.close()
    assert row_count(db_path) == PROCESSES * ROUNDS
    assert_invariants(db_path)

"""The rest of the ledger's operations: the transition table, history,
listing, pruning, leases and reconcile, waiting for a change, run
directories."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import runledger
from runledger import TRANSITIONS, RunState

from conftest import MAIN, REPO, sha

SPECIFIED = {
    RunState.PENDING: {
        RunState.ACTIVE,
        RunState.COMPLETE,
        RunState.FAILED,
        RunState.SUPERSEDED,
        RunState.CANCELED,
    },
    RunState.ACTIVE: {RunState.COMPLETE, RunState.FAILED, RunState.SUPERSEDED, RunState.CANCELED},
    RunState.COMPLETE: set(),
    RunState.FAILED: set(),
    RunState.SUPERSEDED: set(),
    RunState.CANCELED: set(),
}


def test_the_table_read_from_the_core_allows_exactly_the_specified_moves() -> None:
    table = {state: set(targets) for state, targets in TRANSITIONS.items()}

    assert table == SPECIFIED
    for source in RunState:
        for target in RunState:
            assert source.may_become(target) == (target in SPECIFIED[source])
            assert source.may_become(target.value) == (target in SPECIFIED[source])


def test_run_states_are_strings_with_their_stored_names() -> None:
    assert RunState.PENDING == "pending"
    assert str(RunState.SUPERSEDED) == "superseded"
    assert f"{RunState.ACTIVE}" == "active"
    assert RunState("active") is RunState.ACTIVE
    assert [s.is_live for s in RunState] == [True, True, False, False, False, False]
    assert RunState.CANCELED.is_terminal


def test_a_move_the_table_forbids_is_refused_before_the_run_is_read(
    runs: runledger.Runs,
) -> None:
    run = runs.create(REPO, MAIN, sha()).run

    with pytest.raises(runledger.InvalidTransitionError) as caught:
        runs.transition(run.id, "complete", "active")

    assert caught.value.from_state is RunState.COMPLETE
    assert caught.value.to_state is RunState.ACTIVE
    assert runs.get(run.id) == run


def test_transition_accepts_states_or_their_names_and_sets_timestamps_once(
    runs: runledger.Runs,
) -> None:
    run = runs.create(REPO, MAIN, sha()).run

    active = runs.transition(run.id, "pending", RunState.ACTIVE)
    failed = runs.transition(run.id, RunState.ACTIVE, "failed")

    assert active.started_at is not None and active.finished_at is None
    assert failed.started_at == active.started_at
    assert failed.finished_at is not None and failed.finished_at >= failed.started_at
    assert failed.lease_expires_at is None


def test_history_records_every_transition_with_its_reason(runs: runledger.Runs) -> None:
    first = runs.create(REPO, MAIN, sha()).run
    claimed = runs.claim()
    assert claimed is not None
    newer = runs.create(REPO, MAIN, sha()).run

    history = runs.history(first.id)

    assert [(h.from_state, h.to_state, h.reason, h.superseded_by) for h in history] == [
        (RunState.PENDING, RunState.ACTIVE, "claimed", None),
        (RunState.ACTIVE, RunState.SUPERSEDED, "superseded", newer.id),
    ]
    assert all(h.run_id == first.id for h in history)
    assert history[0].at <= history[1].at
    assert history[0].at.tzinfo is timezone.utc


def test_list_pages_through_runs_newest_first_with_filters(runs: runledger.Runs) -> None:
    made = [runs.create(REPO, f"refs/heads/b{n}", sha()).run for n in range(5)]
    other = runs.create("work/other.git", MAIN, sha()).run

    first = runs.list(repo=REPO, limit=2)
    second = runs.list(repo=REPO, limit=2, cursor=first.next_cursor)
    third = runs.list(repo=REPO, limit=2, cursor=second.next_cursor)

    ids = [run.id for page in (first, second, third) for run in page.runs]
    assert ids == [run.id for run in reversed(made)]
    assert third.next_cursor is None
    assert len(first) == 2
    assert [r.id for r in runs.list(ref=MAIN).runs] == [other.id]
    assert runs.list(state=RunState.ACTIVE).runs == []
    assert len(runs.list(state="pending", limit=runledger.MAX_PAGE).runs) == 6


def test_prune_keeps_the_newest_runs_of_each_group_and_every_live_run(
    runs: runledger.Runs,
) -> None:
    finished = []
    for _ in range(3):
        run = runs.create(REPO, MAIN, sha()).run
        finished.append(runs.transition(run.id, "pending", "complete"))
    live = runs.create(REPO, MAIN, sha()).run
    time.sleep(0.01)

    # The two newest runs of the group are kept, whatever their state.
    pruned = runs.prune(2, timedelta(0))

    assert sorted(r.id for r in pruned) == sorted(r.id for r in finished[:2])
    assert {r.id for r in runs.list().runs} == {finished[2].id, live.id}
    with pytest.raises(runledger.NotFoundError):
        runs.get(finished[0].id)
    assert runs.prune(0, timedelta(days=1)) == []


def test_reconcile_fails_runs_whose_lease_expired_and_leaves_pending_runs(
    db_path: Path,
) -> None:
    with runledger.Runs(db_path, runtime="record-only", lease=0.05) as runs:
        runs.create(REPO, MAIN, sha())
        orphan = runs.claim()
        assert orphan is not None
        waiting = runs.create(REPO, "refs/heads/dev", sha()).run
        time.sleep(0.1)

        reconciled = runs.reconcile()

        assert reconciled.orphaned == [orphan.id]
        assert runs.get(orphan.id).state is RunState.FAILED
        assert runs.get(waiting.id).state is RunState.PENDING
        assert runs.history(orphan.id)[-1].reason == "orphaned"


def test_a_heartbeat_extends_the_lease(db_path: Path) -> None:
    with runledger.Runs(db_path, runtime="record-only", lease=timedelta(seconds=30)) as runs:
        runs.create(REPO, MAIN, sha())
        claimed = runs.claim()
        assert claimed is not None and claimed.lease_expires_at is not None
        time.sleep(0.01)

        renewed = runs.heartbeat(claimed.id)

        assert renewed.lease_expires_at is not None
        assert renewed.lease_expires_at > claimed.lease_expires_at
        assert runs.reconcile().orphaned == []


def test_wait_for_change_returns_when_another_thread_moves_the_run(runs: runledger.Runs) -> None:
    run = runs.create(REPO, MAIN, sha()).run
    mover = threading.Timer(0.1, lambda: runs.create(REPO, MAIN, sha()))
    mover.start()

    started = time.monotonic()
    seen = runs.wait_for_change(run.id, RunState.PENDING, timedelta(seconds=10))
    mover.join()

    assert seen.state is RunState.SUPERSEDED
    assert time.monotonic() - started < 5


def test_wait_for_change_returns_the_unchanged_run_after_the_timeout(
    runs: runledger.Runs,
) -> None:
    run = runs.create(REPO, MAIN, sha()).run

    seen = runs.wait_for_change(run.id, "pending", 0.05)

    assert seen == run


def test_run_directories_are_made_under_the_base_and_pruned_with_their_runs(
    tmp_path: Path,
) -> None:
    base = tmp_path / "work"
    with runledger.Runs(tmp_path / "l.db", runtime="record-only", base_dir=base) as runs:
        run = runs.create(REPO, MAIN, sha()).run
        directory = runs.run_dir(run)

        assert directory == base / REPO / run.id
        assert (directory / "workspace").is_dir() and (directory / "logs").is_dir()
        runs.transition(run.id, "pending", "complete")
        time.sleep(0.01)
        runs.prune(0, 0)
        assert not directory.exists()
    with runledger.Runs(tmp_path / "l.db", runtime="record-only") as runs:
        assert runs.run_dir(run) is None


def test_container_labels_name_the_run(runs: runledger.Runs) -> None:
    run = runs.create(REPO, MAIN, sha()).run

    labels = runs.container_labels(run)

    assert labels == {
        "runledger.run-id": run.id,
        "runledger.repo": REPO,
        "runledger.ref": MAIN,
        "runledger.sha": run.sha,
    }


def test_times_are_aware_utc_datetimes(runs: runledger.Runs) -> None:
    before = datetime.now(timezone.utc)

    run = runs.create(REPO, MAIN, sha()).run

    assert run.queued_at.tzinfo is timezone.utc
    # Stored to the millisecond.
    assert before - timedelta(milliseconds=1) <= run.queued_at <= datetime.now(timezone.utc)


def test_a_run_directory_that_cannot_be_made_raises_run_directory_error_and_records_nothing(
    tmp_path: Path,
) -> None:
    base = tmp_path / "work"
    base.mkdir()
    # A file where the repository's directory would go.
    (base / "blocked.git").write_text("not a directory")
    with runledger.Runs(tmp_path / "l.db", runtime="record-only", base_dir=base) as runs:
        with pytest.raises(runledger.RunDirectoryError) as caught:
            runs.create("blocked.git", MAIN, sha())

        assert caught.value.path is not None
        assert runs.list().runs == []

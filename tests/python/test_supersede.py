"""The supersede scenarios of the core, driven through the Python package."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import runledger
from runledger import RunState

from conftest import MAIN, REPO, assert_invariants, sha


def test_a_pending_run_on_the_same_ref_is_superseded(runs: runledger.Runs, db_path: Path) -> None:
    old = runs.create(REPO, MAIN, sha()).run

    created = runs.create(REPO, MAIN, sha())

    assert not created.duplicate
    assert [(s.run_id, s.previous_state, s.container_id, s.kill) for s in created.superseded] == [
        (old.id, RunState.PENDING, None, None)
    ]
    replaced = runs.get(old.id)
    assert replaced.state is RunState.SUPERSEDED
    assert replaced.superseded_by == created.run.id
    assert replaced.started_at is None
    assert replaced.finished_at is not None
    assert created.run.state is RunState.PENDING
    assert_invariants(db_path)


def test_an_active_run_is_superseded_and_its_container_kill_is_recorded(
    runs: runledger.Runs,
) -> None:
    runs.create(REPO, MAIN, sha())
    active = runs.claim()
    assert active is not None
    runs.attach_container(active.id, "c0ffee")

    created = runs.create(REPO, MAIN, sha())

    (old,) = created.superseded
    assert old.run_id == active.id
    assert old.previous_state is RunState.ACTIVE
    assert old.container_id == "c0ffee"
    assert old.kill is not None and old.kill.kind == "recorded"
    stored = runs.get(active.id)
    assert stored.state is RunState.SUPERSEDED
    assert stored.kill is not None and stored.kill.state == "requested"


def test_runs_of_other_refs_other_repos_and_finished_runs_are_untouched(
    runs: runledger.Runs,
) -> None:
    other_ref = runs.create(REPO, "refs/heads/dev", sha()).run
    other_repo = runs.create("work/other.git", MAIN, sha()).run
    finished = runs.create(REPO, MAIN, sha()).run
    runs.transition(finished.id, RunState.PENDING, RunState.COMPLETE)

    created = runs.create(REPO, MAIN, sha())

    assert created.superseded == []
    assert runs.get(other_ref.id).state is RunState.PENDING
    assert runs.get(other_repo.id).state is RunState.PENDING
    assert runs.get(finished.id).state is RunState.COMPLETE


def test_a_redelivered_push_returns_the_live_run_as_a_duplicate_and_changes_nothing(
    runs: runledger.Runs, db_path: Path
) -> None:
    commit = sha()
    first = runs.create(REPO, MAIN, commit).run

    again = runs.create(REPO, MAIN, commit.upper())

    assert again.duplicate
    assert again.run == first
    assert again.superseded == []
    assert len(runs.list().runs) == 1


def test_an_older_push_arriving_late_is_recorded_as_superseded_by_the_newer_run(
    runs: runledger.Runs,
) -> None:
    now = datetime.now(timezone.utc)
    newer = runs.create(REPO, MAIN, sha(), pushed_at=now).run

    late = runs.create(REPO, MAIN, sha(), pushed_at=now - timedelta(minutes=5))

    assert late.run.state is RunState.SUPERSEDED
    assert late.run.superseded_by == newer.id
    assert late.superseded == []
    assert runs.get(newer.id).state is RunState.PENDING
    (entry,) = runs.history(late.run.id)
    assert entry.from_state is None
    assert entry.reason == "out_of_order"


def test_pushed_at_keeps_its_instant_whatever_the_time_zone(runs: runledger.Runs) -> None:
    berlin = timezone(timedelta(hours=1))
    at = datetime(2026, 3, 1, 13, 30, 15, 250000, tzinfo=berlin)

    run = runs.create(REPO, MAIN, sha(), pushed_at=at).run

    assert run.pushed_at == at
    assert run.pushed_at.tzinfo == timezone.utc
    assert run.pushed_at.hour == 12


def test_a_protected_ref_keeps_its_active_run_and_replaces_only_the_pending_one(
    db_path: Path,
) -> None:
    with runledger.Runs(
        db_path, runtime="record-only", protected_refs=["refs/heads/release/*"]
    ) as runs:
        release = "refs/heads/release/1.0"
        runs.create(REPO, release, sha())
        active = runs.claim()
        assert active is not None and active.protected
        pending = runs.create(REPO, release, sha()).run

        created = runs.create(REPO, release, sha())

        assert [s.run_id for s in created.superseded] == [pending.id]
        assert runs.get(active.id).state is RunState.ACTIVE
        # The newest pending run waits for the active one to end.
        assert runs.claim() is None
        runs.transition(active.id, RunState.ACTIVE, RunState.COMPLETE)
        claimed = runs.claim()
        assert claimed is not None and claimed.id == created.run.id


def test_a_runner_whose_run_was_superseded_gets_a_conflict_naming_superseded(
    runs: runledger.Runs,
) -> None:
    runs.create(REPO, MAIN, sha())
    mine = runs.claim()
    assert mine is not None
    newer = runs.create(REPO, MAIN, sha()).run

    with pytest.raises(runledger.ConflictError) as caught:
        runs.transition(mine.id, RunState.ACTIVE, RunState.COMPLETE)

    assert caught.value.actual is RunState.SUPERSEDED
    assert caught.value.expected == "active"
    assert caught.value.run_id == mine.id
    assert mine.id in str(caught.value) and "superseded" in str(caught.value)
    assert runs.get(mine.id).superseded_by == newer.id


def test_attaching_a_container_to_a_superseded_run_raises_superseded(
    runs: runledger.Runs,
) -> None:
    runs.create(REPO, MAIN, sha())
    mine = runs.claim()
    assert mine is not None
    newer = runs.create(REPO, MAIN, sha()).run

    with pytest.raises(runledger.SupersededError) as caught:
        runs.attach_container(mine.id, "late-container")

    assert isinstance(caught.value, runledger.ConflictError)
    assert caught.value.superseded_by == newer.id
    assert caught.value.actual is RunState.SUPERSEDED


def test_an_explicit_group_supersedes_across_refs_and_nothing_else(runs: runledger.Runs) -> None:
    first = runs.create(REPO, "refs/heads/a", sha(), group="deploy-prod").run
    bystander = runs.create(REPO, "refs/heads/a", sha()).run

    created = runs.create("work/other.git", "refs/heads/b", sha(), group="deploy-prod")

    assert [s.run_id for s in created.superseded] == [first.id]
    assert created.run.group_key == "deploy-prod"
    assert runs.get(bystander.id).state is RunState.PENDING


def test_claim_filters_by_repo_and_group_and_takes_the_oldest(runs: runledger.Runs) -> None:
    a = runs.create(REPO, "refs/heads/a", sha()).run
    b = runs.create("work/other.git", MAIN, sha()).run
    c = runs.create(REPO, "refs/heads/c", sha(), group="nightly").run

    by_repo = runs.claim(repo="work/other.git")
    by_group = runs.claim(group="nightly")
    oldest = runs.claim()

    assert by_repo is not None and by_repo.id == b.id
    assert by_group is not None and by_group.id == c.id
    assert oldest is not None and oldest.id == a.id
    assert oldest.state is RunState.ACTIVE
    assert oldest.started_at is not None and oldest.lease_expires_at is not None
    assert runs.claim() is None


def test_cancel_ends_a_live_run_and_conflicts_on_a_finished_one(runs: runledger.Runs) -> None:
    run = runs.create(REPO, MAIN, sha()).run

    canceled = runs.cancel(run.id)

    assert canceled.state is RunState.CANCELED
    with pytest.raises(runledger.ConflictError) as caught:
        runs.cancel(run.id)
    assert caught.value.actual is RunState.CANCELED
    assert caught.value.expected == "pending or active"


def test_pending_and_active_runs_may_move_to_superseded_as_ordinary_transitions(
    runs: runledger.Runs,
) -> None:
    pending = runs.create(REPO, "refs/heads/dev", sha()).run
    runs.create(REPO, MAIN, sha())
    active = runs.claim(group=f"{REPO}:{MAIN}")
    assert active is not None

    moved_pending = runs.transition(pending.id, RunState.PENDING, RunState.SUPERSEDED)
    moved_active = runs.transition(active.id, "active", "superseded")

    for moved in (moved_pending, moved_active):
        assert moved.state is RunState.SUPERSEDED
        assert moved.finished_at is not None
        # No newer run replaced it: an explicit move names no superseder.
        assert moved.superseded_by is None
    assert moved_pending.started_at is None
    assert moved_active.started_at is not None


def test_a_second_active_run_in_a_protected_group_raises_group_has_active_run(
    db_path: Path,
) -> None:
    with runledger.Runs(db_path, runtime="record-only", protected_refs=[MAIN]) as runs:
        runs.create(REPO, MAIN, sha())
        active = runs.claim()
        assert active is not None
        waiting = runs.create(REPO, MAIN, sha()).run

        with pytest.raises(runledger.GroupHasActiveRunError) as caught:
            runs.transition(waiting.id, RunState.PENDING, RunState.ACTIVE)

        assert caught.value.run_id == waiting.id
        assert runs.get(waiting.id).state is RunState.PENDING
        assert runs.get(active.id).state is RunState.ACTIVE


def test_prune_keeps_a_run_whose_container_kill_is_still_owed(runs: runledger.Runs) -> None:
    runs.create(REPO, MAIN, sha())
    active = runs.claim()
    assert active is not None
    runs.attach_container(active.id, "c0ffee")
    runs.create(REPO, MAIN, sha())
    finished = runs.create(REPO, "refs/heads/dev", sha()).run
    runs.transition(finished.id, RunState.PENDING, RunState.COMPLETE)
    time.sleep(0.01)

    pruned = runs.prune(0, 0)

    # The finished run goes; the superseded one stays until its kill is done.
    assert [run.id for run in pruned] == [finished.id]
    assert runs.get(active.id).kill is not None

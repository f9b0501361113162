"""A script that uses every public name the way a CI script would, checked
with ``mypy --strict`` against the installed package's stubs. It also runs:
the suite executes it, so the types it relies on are the ones at runtime."""

from __future__ import annotations

import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Optional

import runledger
from runledger import RunState


def main(directory: Path) -> int:
    with runledger.Runs(
        directory / "ledger.db",
        busy_timeout=timedelta(seconds=5),
        synchronous="normal",
        base_dir=directory / "runs",
        protected_refs=["refs/heads/release/*"],
        lease=30.0,
        kill_signal="SIGTERM",
        kill_grace=timedelta(seconds=5),
        kill_timeout=10,
        runtime="record-only",
    ) as runs:
        created: runledger.CreateResult = runs.create(
            "work/tools.git",
            "refs/heads/main",
            "4f2a9c1",
            pushed_at=datetime.now(timezone.utc),
            group=None,
        )
        run: runledger.Run = created.run
        superseded: list[runledger.SupersededRun] = created.superseded
        kills: list[Optional[runledger.KillOutcome]] = [old.kill for old in superseded]
        duplicate: bool = created.duplicate

        claimed: Optional[runledger.Run] = runs.claim(repo="work/tools.git")
        assert claimed is not None and claimed.id == run.id
        labels: dict[str, str] = runs.container_labels(claimed)
        runs.attach_container(claimed.id, "c0ffee")
        runs.heartbeat(claimed.id)
        state: RunState = runs.wait_for_change(claimed.id, RunState.ACTIVE, 0.01).state
        try:
            runs.transition(claimed.id, RunState.PENDING, RunState.COMPLETE)
        except runledger.ConflictError as conflict:
            actual: Optional[RunState] = conflict.actual
            assert actual is RunState.ACTIVE
        done = runs.transition(claimed.id, "active", RunState.COMPLETE)
        finished: Optional[datetime] = done.finished_at
        record: Optional[runledger.KillRecord] = done.kill

        history: list[runledger.HistoryEntry] = runs.history(done.id)
        page: runledger.Page = runs.list(state=RunState.COMPLETE, limit=10)
        cursor: Optional[str] = page.next_cursor
        reconciled: runledger.Reconciled = runs.reconcile()
        reports: list[runledger.KillReport] = reconciled.kills
        pruned: list[runledger.Run] = runs.prune(0, timedelta(days=30))
        directory_of_run: Optional[Path] = runs.run_dir(done)
        try:
            runs.get("01900000-0000-7000-8000-000000000000")
        except runledger.NotFoundError as missing:
            print(f"as expected: {missing}")
        allowed: bool = RunState.PENDING.may_become(RunState.ACTIVE)
        table: frozenset[RunState] = runledger.TRANSITIONS[RunState.ACTIVE]

    print(
        duplicate, kills, labels, state, finished, record, len(history), cursor,
        reports, pruned, directory_of_run, allowed, sorted(table), runs.closed,
    )  # fmt: skip
    return 0


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as scratch:
        sys.exit(main(Path(scratch)))

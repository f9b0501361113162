"""Supersede and kill against the real Docker engine of the machine. These
tests need Docker: without a running engine they fail, they do not skip."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Iterator

import pytest

import runledger
from runledger import RunState

from conftest import MAIN, REPO, sha

IMAGE = "runledger-test:busybox"
# Every container started here carries this label, so anything a failed test
# leaves behind is easy to find and remove. The process id keeps the sweep of
# one test session away from the containers of another running at once.
SUITE_LABEL = f"runledger.test-suite=python-{os.getpid()}"


def docker(*args: str) -> str:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"docker {' '.join(args)} failed: {done.stderr.strip()}"
    return done.stdout.strip()


@pytest.fixture(scope="module", autouse=True)
def engine() -> Iterator[None]:
    """Fails every test of this module when no engine answers."""
    docker("info", "--format", "{{.ServerVersion}}")
    docker("image", "inspect", "--format", "{{.Id}}", IMAGE)
    yield
    leftovers = docker("ps", "-aq", "--filter", f"label={SUITE_LABEL}").split()
    if leftovers:
        docker("rm", "-f", *leftovers)


class Containers:
    """The containers one test started, removed when it ends."""

    def __init__(self) -> None:
        self.ids: list[str] = []

    def start(self, run_id: str, *command: str) -> str:
        container_id = docker(
            "run", "-d", "--network", "none",
            "--label", SUITE_LABEL,
            "--label", f"runledger.run-id={run_id}",
            IMAGE, *command,
        )  # fmt: skip
        self.ids.append(container_id)
        return container_id

    @staticmethod
    def running(container_id: str) -> bool:
        return docker("inspect", "--format", "{{.State.Running}}", container_id) == "true"


@pytest.fixture
def containers() -> Iterator[Containers]:
    started = Containers()
    yield started
    if started.ids:
        subprocess.run(["docker", "rm", "-f", *started.ids], capture_output=True, check=False)


@pytest.fixture
def docker_runs(db_path: Path) -> Iterator[runledger.Runs]:
    with runledger.Runs(db_path, runtime="docker", kill_timeout=20) as handle:
        yield handle


def test_create_supersedes_an_active_run_and_its_container_is_stopped(
    docker_runs: runledger.Runs, containers: Containers
) -> None:
    docker_runs.create(REPO, MAIN, sha())
    active = docker_runs.claim()
    assert active is not None
    container = containers.start(active.id)
    docker_runs.attach_container(active.id, container)
    assert containers.running(container)

    created = docker_runs.create(REPO, MAIN, sha())

    (old,) = created.superseded
    assert (old.run_id, old.previous_state, old.container_id) == (
        active.id,
        RunState.ACTIVE,
        container,
    )
    assert old.kill is not None and old.kill.kind == "done", old.kill
    assert not containers.running(container)
    stored = docker_runs.get(active.id)
    assert stored.state is RunState.SUPERSEDED
    assert stored.kill is not None and stored.kill.state == "done"


def test_a_container_attached_after_its_run_was_superseded_is_killed_by_the_attach(
    docker_runs: runledger.Runs, containers: Containers
) -> None:
    docker_runs.create(REPO, MAIN, sha())
    active = docker_runs.claim()
    assert active is not None
    newer = docker_runs.create(REPO, MAIN, sha()).run
    container = containers.start(active.id)

    with pytest.raises(runledger.SupersededError) as caught:
        docker_runs.attach_container(active.id, container)

    assert caught.value.superseded_by == newer.id
    assert not containers.running(container)


def test_a_container_labelled_with_another_run_is_not_killed(
    docker_runs: runledger.Runs, containers: Containers
) -> None:
    docker_runs.create(REPO, MAIN, sha())
    active = docker_runs.claim()
    assert active is not None
    someone_elses = containers.start("01900000-0000-7000-8000-0000000000aa")
    docker_runs.attach_container(active.id, someone_elses)

    created = docker_runs.create(REPO, MAIN, sha())

    (old,) = created.superseded
    assert old.kill is not None and old.kill.kind == "refused"
    assert old.kill.labelled_run_id == "01900000-0000-7000-8000-0000000000aa"
    assert containers.running(someone_elses)


def test_cancel_stops_the_container_of_an_active_run(
    docker_runs: runledger.Runs, containers: Containers
) -> None:
    docker_runs.create(REPO, MAIN, sha())
    active = docker_runs.claim()
    assert active is not None
    container = containers.start(active.id)
    docker_runs.attach_container(active.id, container)

    canceled = docker_runs.cancel(active.id)

    assert canceled.state is RunState.CANCELED
    assert canceled.kill is not None and canceled.kill.state == "done"
    assert not containers.running(container)


def test_reconcile_kills_a_running_container_labelled_with_a_finished_run(
    docker_runs: runledger.Runs, containers: Containers
) -> None:
    run = docker_runs.create(REPO, MAIN, sha()).run
    docker_runs.transition(run.id, RunState.PENDING, RunState.COMPLETE)
    stray = containers.start(run.id)

    reconciled = docker_runs.reconcile()

    assert [(k.run_id, k.container_id, k.outcome.kind) for k in reconciled.kills] == [
        (run.id, stray, "done")
    ]
    assert not containers.running(stray)


def test_a_kill_with_an_absent_engine_fails_quickly_and_never_undoes_the_supersede(
    tmp_path: Path,
) -> None:
    socket = tmp_path / "no-engine.sock"
    with runledger.Runs(tmp_path / "l.db", runtime=f"unix://{socket}", kill_timeout=2) as runs:
        runs.create(REPO, MAIN, sha())
        active = runs.claim()
        assert active is not None
        runs.attach_container(active.id, "deadbeef")

        started = time.monotonic()
        created = runs.create(REPO, MAIN, sha())
        took = time.monotonic() - started

        (old,) = created.superseded
        assert old.kill is not None and old.kill.kind == "failed"
        assert old.kill.error
        assert runs.get(active.id).state is RunState.SUPERSEDED
        assert took < 10


def test_a_container_that_already_exited_or_was_removed_counts_as_done(
    docker_runs: runledger.Runs, containers: Containers
) -> None:
    docker_runs.create(REPO, MAIN, sha())
    exits = docker_runs.claim()
    assert exits is not None
    exited = containers.start(exits.id, "true")
    docker_runs.attach_container(exits.id, exited)
    docker("wait", exited)

    first = docker_runs.create(REPO, MAIN, sha())
    removed_run = docker_runs.claim()
    assert removed_run is not None
    removed = containers.start(removed_run.id)
    docker_runs.attach_container(removed_run.id, removed)
    docker("rm", "-f", removed)
    second = docker_runs.create(REPO, MAIN, sha())

    assert [(s.run_id, s.kill and s.kill.kind) for s in first.superseded] == [(exits.id, "done")]
    assert [(s.run_id, s.kill and s.kill.kind) for s in second.superseded] == [
        (removed_run.id, "done")
    ]


def test_reconcile_retries_a_kill_that_failed_while_the_engine_was_away(
    tmp_path: Path, db_path: Path, docker_runs: runledger.Runs, containers: Containers
) -> None:
    away = tmp_path / "no-engine.sock"
    with runledger.Runs(db_path, runtime=f"unix://{away}", kill_timeout=2) as cut_off:
        cut_off.create(REPO, MAIN, sha())
        active = cut_off.claim()
        assert active is not None
        container = containers.start(active.id)
        cut_off.attach_container(active.id, container)
        (old,) = cut_off.create(REPO, MAIN, sha()).superseded
        assert old.kill is not None and old.kill.kind == "failed"
        assert containers.running(container)

    reconciled = docker_runs.reconcile()

    assert [(k.run_id, k.outcome.kind) for k in reconciled.kills] == [(active.id, "done")]
    assert not containers.running(container)
    kill = docker_runs.get(active.id).kill
    assert kill is not None and (kill.state, kill.attempts) == ("done", 2)


def test_reconcile_fails_an_orphaned_run_and_kills_its_container(
    db_path: Path, containers: Containers
) -> None:
    with runledger.Runs(db_path, runtime="docker", lease=0.3) as runs:
        runs.create(REPO, MAIN, sha())
        orphan = runs.claim()
        assert orphan is not None
        container = containers.start(orphan.id)
        runs.attach_container(orphan.id, container)
        # The runner dies: no heartbeat comes, and the lease runs out.
        time.sleep(0.4)

        reconciled = runs.reconcile()

        assert reconciled.orphaned == [orphan.id]
        assert not containers.running(container)
        assert runs.get(orphan.id).state is RunState.FAILED


def test_with_a_grace_period_a_container_that_ignores_sigterm_is_killed_after_it(
    db_path: Path, containers: Containers
) -> None:
    with runledger.Runs(
        db_path, runtime="docker", kill_signal="SIGTERM", kill_grace=0.8, kill_timeout=20
    ) as runs:
        runs.create(REPO, MAIN, sha())
        active = runs.claim()
        assert active is not None
        stubborn = containers.start(
            active.id, "sh", "-c", "trap '' TERM; while true; do sleep 1; done"
        )
        runs.attach_container(active.id, stubborn)

        (old,) = runs.create(REPO, MAIN, sha()).superseded

        assert old.kill is not None and old.kill.kind == "done"
        assert not containers.running(stubborn)
        # 137 = 128 + SIGKILL: it outlived SIGTERM and died of the SIGKILL.
        assert docker("inspect", "--format", "{{.State.ExitCode}}", stubborn) == "137"

"""The README's example, run for real: the webhook receiver and runner of
examples/python as a separate process, fed pushes over loopback HTTP, with
containers on the machine's Docker engine."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

import runledger
from runledger import RunState

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "python" / "webhook_runner.py"


def post(url: str, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=json.dumps(event).encode(), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def eventually(check: Callable[[], bool], what: str, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.fixture
def repo() -> Iterator[str]:
    """A repository name of this test alone, so its containers (labelled
    with it by the ledger) can be found and removed afterwards."""
    name = f"example/{uuid.uuid4().hex[:12]}.git"
    yield name
    leftovers = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=runledger.repo={name}"],
        capture_output=True, text=True, check=False,
    ).stdout.split()  # fmt: skip
    if leftovers:
        subprocess.run(["docker", "rm", "-f", *leftovers], capture_output=True, check=False)
    assert leftovers == [], "the example left containers behind"


def test_the_webhook_receiver_and_runner_supersede_a_running_push(
    tmp_path: Path, repo: str
) -> None:
    ledger = tmp_path / "ledger.db"
    example = subprocess.Popen(
        # Warnings are errors in the example's process too, as in this one.
        [sys.executable, "-W", "error", str(EXAMPLE), str(ledger), "--port", "0",
         "--command", "sleep 3"],  # fmt: skip
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert example.stdout is not None
        first_line = example.stdout.readline()
        assert first_line.startswith("listening on "), first_line
        url = first_line.split()[-1]
        watcher = runledger.Runs(ledger, runtime="record-only")

        status, first = post(
            url, {"repository": repo, "ref": "refs/heads/main", "after": "aaaaaaa"}
        )
        assert status == 202 and first["state"] == "pending"
        eventually(
            lambda: watcher.get(first["run_id"]).container_id is not None,
            "the runner to start the first push's container",
        )
        status, second = post(
            url, {"repository": repo, "ref": "refs/heads/main", "after": "bbbbbbb"}
        )
        assert status == 202 and second["superseded"] == [first["run_id"]]
        status, bad = post(url, {"repository": repo, "ref": "main", "after": "ccccccc"})
        assert status == 400 and "ref_name" in bad["error"]
        eventually(
            lambda: watcher.get(second["run_id"]).state is RunState.COMPLETE,
            "the second push to run to completion",
        )

        replaced = watcher.get(first["run_id"])
        assert replaced.state is RunState.SUPERSEDED
        assert replaced.superseded_by == second["run_id"]
        assert replaced.kill is not None and replaced.kill.state == "done"
        assert watcher.get(second["run_id"]).container_id is not None
        watcher.close()
    finally:
        example.send_signal(signal.SIGINT)
        output, _ = example.communicate(timeout=60)
    assert example.returncode == 0, output
    assert output.rstrip().endswith("stopped")

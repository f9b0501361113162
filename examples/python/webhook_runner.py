"""A webhook receiver and a runner sharing one runledger file.

The receiver takes push events over HTTP and records each with
``Runs.create``; a newer push to the same ref supersedes the older run and
the ledger kills its container. The runner claims runs, starts a container
for each (labelled so the ledger can find it), attaches it, renews its lease
while it runs, and reports how it ended.

    python webhook_runner.py ledger.db --port 8080
    curl -d '{"repository": "work/tools.git", "ref": "refs/heads/main",
              "after": "4f2a9c1"}' http://127.0.0.1:8080/push

It needs a Docker engine and the image named by ``--image``. Stop it with
Ctrl-C: the run in progress is canceled, which stops its container.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional, Sequence

import runledger
from runledger import RunState


def log(message: str) -> None:
    print(message, flush=True)


def record_push(runs: runledger.Runs, event: dict[str, Any]) -> dict[str, Any]:
    """Records one push event; returns what to answer the forge."""
    pushed_at = event.get("pushed_at")
    created = runs.create(
        event["repository"],
        event["ref"],
        event["after"],
        pushed_at=datetime.fromisoformat(pushed_at.replace("Z", "+00:00")) if pushed_at else None,
    )
    for old in created.superseded:
        kill = old.kill.kind if old.kill else "no container"
        log(f"push {created.run.sha}: superseded {old.run_id} ({old.previous_state}, kill {kill})")
    return {
        "run_id": created.run.id,
        "state": created.run.state,
        "duplicate": created.duplicate,
        "superseded": [old.run_id for old in created.superseded],
    }


def receiver(runs: runledger.Runs, host: str, port: int) -> ThreadingHTTPServer:
    """An HTTP server answering ``POST /push`` with the recorded run."""

    class PushHandler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if self.path != "/push":
                self.answer(404, {"error": f"no such endpoint {self.path}"})
                return
            try:
                length = int(self.headers.get("Content-Length", "0"))
                event = json.loads(self.rfile.read(length))
                self.answer(202, record_push(runs, event))
            except (KeyError, TypeError, ValueError) as error:
                # InvalidInputError is a ValueError: a bad repo, ref or sha.
                self.answer(400, {"error": f"bad push event: {error}"})
            except runledger.RunledgerError as error:
                self.answer(500, {"error": str(error)})

        def answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return ThreadingHTTPServer((host, port), PushHandler)


def start_container(
    runs: runledger.Runs, run: runledger.Run, image: str, command: Sequence[str]
) -> str:
    args = ["docker", "run", "-d", "--network", "none"]
    for key, value in runs.container_labels(run).items():
        args += ["--label", f"{key}={value}"]
    return subprocess.check_output([*args, image, *command], text=True).strip()


def run_one(
    runs: runledger.Runs, image: str, command: Sequence[str], stop: threading.Event
) -> Optional[runledger.Run]:
    """Claims one run and carries it out in a container; returns the run as
    it ended, or None when nothing was waiting."""
    run = runs.claim()
    if run is None:
        return None
    log(f"run {run.id}: claimed {run.repo} {run.ref_name} {run.sha}")
    container = start_container(runs, run, image, command)
    try:
        try:
            runs.attach_container(run.id, container)
        except runledger.ConflictError as conflict:
            # Superseded between claim and attach: the ledger already killed
            # the container we just started.
            log(f"run {run.id}: {conflict}")
            return runs.get(run.id)
        waiter = subprocess.Popen(["docker", "wait", container], stdout=subprocess.PIPE, text=True)
        while True:
            try:
                out, _ = waiter.communicate(timeout=1)
                break
            except subprocess.TimeoutExpired:
                pass
            try:
                if stop.is_set():
                    log(f"run {run.id}: shutting down, canceling it")
                    runs.cancel(run.id)
                else:
                    runs.heartbeat(run.id)
            except runledger.ConflictError:
                pass  # superseded or canceled: the ledger is killing its container
        outcome = RunState.COMPLETE if out.strip() == "0" else RunState.FAILED
        try:
            finished = runs.transition(run.id, RunState.ACTIVE, outcome)
        except runledger.ConflictError as conflict:
            log(f"run {run.id}: ended as {conflict.actual}")
            return runs.get(run.id)
        log(f"run {run.id}: {finished.state}")
        return finished
    finally:
        subprocess.run(["docker", "rm", "-f", container], capture_output=True, check=False)


def runner(runs: runledger.Runs, image: str, command: Sequence[str], stop: threading.Event) -> None:
    while not stop.is_set():
        if run_one(runs, image, command, stop) is None:
            stop.wait(0.2)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="A webhook receiver and a runner on one ledger.")
    parser.add_argument("ledger", help="the runledger database file")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    parser.add_argument("--image", default="runledger-test:busybox")
    parser.add_argument("--command", default="sleep 30", help="what each run's container runs")
    args = parser.parse_args(argv)

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with runledger.Runs(args.ledger, runtime="docker") as runs:
        server = receiver(runs, args.host, args.port)
        port = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        work = threading.Thread(target=runner, args=(runs, args.image, args.command.split(), stop))
        work.start()
        log(f"listening on http://{args.host}:{port}/push")
        while not stop.wait(0.5):
            pass
        server.shutdown()
        work.join()
    log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())

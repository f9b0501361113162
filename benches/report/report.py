"""Runs every benchmark workload side by side in one run and writes
BENCHMARKS.md with PNG plots next to it. `make bench` (.ci/bench.sh) makes
the virtual environment this needs and runs it:

    python benches/report/report.py [--out DIR]

RUNLEDGER_BENCH_QUICK=1 shrinks every workload for a smoke run (about five
minutes); the numbers are then too few to quote. A full run takes about ten
minutes of measuring on two cores, plus the build.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

ROOT = Path(__file__).resolve().parents[2]
QUICK = False
SINGLE_RUST = SINGLE_PYTHON = SINGLE_FULL_SYNC = HOT_REF_RUNS = CONTENTION_TOTAL = 0
C_CALLS = C_ROUNDS = CLI_REPETITIONS = CONTENTION_REPEATS = SINGLE_REPEATS = KILLS = 0
HISTORY_SIZES: list[int] = []
PROFILE_COUNTS = (0, 0)


def configure(quick: bool) -> None:
    """Sizes of each workload, full or quick."""
    global QUICK, SINGLE_RUST, SINGLE_PYTHON, SINGLE_FULL_SYNC, HISTORY_SIZES, HOT_REF_RUNS
    global CONTENTION_TOTAL, PROFILE_COUNTS, C_CALLS, C_ROUNDS, CLI_REPETITIONS
    global CONTENTION_REPEATS, SINGLE_REPEATS, KILLS
    QUICK = quick
    SINGLE_RUST = 20_000 if not quick else 2_000
    SINGLE_PYTHON = 5_000 if not quick else 1_000
    SINGLE_FULL_SYNC = 500 if not quick else 100
    HISTORY_SIZES = [1_000, 100_000, 1_000_000] if not quick else [1_000, 10_000, 100_000]
    HOT_REF_RUNS = 100_000 if not quick else 10_000
    # A row of 4,000 calls took a fraction of a second, too short to see past
    # a neighbour's burst; the original design runs a fifth of the calls.
    CONTENTION_TOTAL = 20_000 if not quick else 2_000
    PROFILE_COUNTS = (2_000, 4_000) if not quick else (300, 600)
    C_CALLS, C_ROUNDS = (5_000, 5) if not quick else (1_000, 3)
    CLI_REPETITIONS = 200 if not quick else 30
    CONTENTION_REPEATS = 3 if not quick else 1
    SINGLE_REPEATS = 3 if not quick else 1
    KILLS = 50 if not quick else 10


PROCESSES = [1, 2, 4, 8]
SYNCS = ["NORMAL", "OFF"]


def log(message: str) -> None:
    print(f"report: {message}", file=sys.stderr, flush=True)


def run(argv: list[str], **kwargs: Any) -> str:
    started = time.monotonic()
    out = subprocess.run(argv, cwd=ROOT, check=True, capture_output=True, text=True, **kwargs)
    log(f"{' '.join(str(a) for a in argv[:4])} ... {time.monotonic() - started:.0f} s")
    return out.stdout


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def build() -> dict[str, Path]:
    """The release bench binaries, by target name."""
    out = run(
        ["cargo", "bench", "--locked", "-p", "runledger", "--bench", "report", "--no-run",
         "--message-format=json"]  # fmt: skip
    )
    binaries = {}
    for line in out.splitlines():
        message = json.loads(line)
        if message.get("reason") == "compiler-artifact" and message.get("executable"):
            binaries[message["target"]["name"]] = Path(message["executable"])
    return binaries


# --- measurements ---------------------------------------------------------


def measure_single(binary: Path) -> list[dict[str, Any]]:
    """One process, Rust and Python contenders, at NORMAL and OFF. The
    whole set runs SINGLE_REPEATS times, Rust and Python alternating, and
    each figure of a row is the median over the repetitions: the Rust and
    Python processes cannot be interleaved call by call, so repetition is
    what puts them on the same machine."""
    script = str(ROOT / "benches" / "report" / "python_peers.py")
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for _ in range(SINGLE_REPEATS):
        for sync in SYNCS:
            found = json_lines(run([str(binary), "single", sync, str(SINGLE_RUST)]))
            found += json_lines(
                run([sys.executable, script, "--sync", sync, "--count", str(SINGLE_PYTHON)])
            )
            for result in found:
                runs.setdefault((result["sync"], result["contender"]), []).append(result)
    results = []
    for repeats in runs.values():
        row = dict(repeats[0])
        for field in ["ops_per_sec", "p50_us", "p99_us", "max_us"]:
            row[field] = statistics.median(r[field] for r in repeats)
        row["repeats_ops_per_sec"] = [r["ops_per_sec"] for r in repeats]
        results.append(row)
    return results


def measure_rust(binary: Path) -> list[dict[str, Any]]:
    results = measure_single(binary)
    results += json_lines(run([str(binary), "single", "FULL", str(SINGLE_FULL_SYNC)]))
    for sync in SYNCS:
        sizes = [str(size) for size in HISTORY_SIZES] + [str(HOT_REF_RUNS)]
        results += json_lines(run([str(binary), "history", sync, *sizes]))
    # Contention is the noisiest workload: each row runs three times, the
    # repetitions interleaved, and the one of median throughput is kept.
    repeated: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    for _ in range(CONTENTION_REPEATS):
        for sync in SYNCS:
            for processes in PROCESSES:
                for kind in ["runledger", "floor", "original"]:
                    repeated.setdefault((sync, kind, processes), []).extend(
                        json_lines(
                            run([str(binary), "contention", kind, str(processes),
                                 str(contention_total(kind)), sync])  # fmt: skip
                        )
                    )
    for runs in repeated.values():
        runs.sort(key=lambda r: r["wall_ops_per_sec"])
        median = dict(runs[len(runs) // 2])
        median["repeats_ops_per_sec"] = [r["wall_ops_per_sec"] for r in runs]
        median["busy"] = sum(r["busy"] for r in runs)
        median["failed"] = sum(r["failed"] for r in runs)
        median["violations"] = [v for r in runs for v in r["violations"]]
        median["broken_repeats"] = sum(1 for r in runs if r["violations"])
        results.append(median)
    return results


def contention_total(kind: str) -> int:
    """Calls of one contention row: the original design is twenty times
    slower, so it gets a fifth of the calls."""
    return CONTENTION_TOTAL // 5 if kind == "original" else CONTENTION_TOTAL


def measure_python() -> list[dict[str, Any]]:
    script = str(ROOT / "benches" / "report" / "python_peers.py")
    results = json_lines(
        run([sys.executable, script, "--sync", "FULL", "--count", str(SINGLE_FULL_SYNC),
             "--only", "runledger,careful,naive"])  # fmt: skip
    )
    return results


def instructions(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory() as scratch:
        out = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={scratch}/out", *argv],
            cwd=ROOT, check=True, capture_output=True, text=True,
        )  # fmt: skip
    match = re.search(r"Collected : (\d+)", out.stderr)
    if match is None:
        raise RuntimeError(f"callgrind printed no count:\n{out.stderr}")
    return int(match.group(1))


def measure_instructions(binaries: dict[str, Path]) -> dict[str, float]:
    """Instructions per call: two runs of different lengths, the difference
    divided by the difference in calls, so start-up and warm-up cancel."""
    short, long = PROFILE_COUNTS
    per_call = {}
    # The original design costs twenty times as much per call: a tenth of
    # the calls still gives a count as exact.
    for key, kind, scale in [("create", "runledger", 1), ("floor", "floor", 1),
                             ("original", "original", 10)]:  # fmt: skip
        counts = [
            instructions([str(binaries["report"]), "profile", kind, str(count // scale)])
            for count in (short, long)
        ]
        per_call[key] = (counts[1] - counts[0]) / ((long - short) // scale)
        log(f"callgrind {kind}: {per_call[key]:.0f} instructions per call")
    return per_call


def measure_c() -> dict[str, float]:
    """The boundary benchmark: medians per call from C and from Rust, and
    instructions per call of each side (callgrind)."""
    out = run(["bash", "benches/c/run.sh", str(C_CALLS), str(C_ROUNDS)])
    found: dict[str, float] = {}
    section = "time"
    for line in out.splitlines():
        fields = line.split()
        if line.startswith("instructions per call"):
            section = "instructions"
        elif section == "time" and len(fields) >= 4 and fields[1] == "(median)":
            found[f"c_{fields[0]}_ns"], found[f"rust_{fields[0]}_ns"] = (
                float(fields[2]), float(fields[3]))  # fmt: skip
        elif section == "time" and len(fields) >= 4 and fields[1] == "(min)":
            found[f"rust_{fields[0]}_min_ns"] = float(fields[3])
        elif section == "instructions" and len(fields) == 4 and fields[0] in ("create", "get"):
            found[f"c_{fields[0]}_instructions"] = float(fields[1])
            found[f"rust_{fields[0]}_instructions"] = float(fields[2])
    wanted = [f"{side}_{call}_{unit}" for side in ("c", "rust") for call in ("create", "get")
              for unit in ("ns", "instructions")] + ["rust_get_min_ns"]  # fmt: skip
    if any(key not in found for key in wanted):
        raise RuntimeError(f"benches/c/run.sh printed too little:\n{out}")
    return found


def instruction_rate(c: dict[str, float]) -> float:
    """Instructions per ns of the Rust core's `get` in its fastest round: a
    call with no disk work, like the boundary's copying, timed when the
    machine disturbed it least."""
    return c["rust_get_instructions"] / c["rust_get_min_ns"]


def boundary_ns(c: dict[str, float], call: str) -> float:
    """The C boundary's cost per call, from instruction counts: the extra
    instructions of the C side, at `instruction_rate`."""
    return (c[f"c_{call}_instructions"] - c[f"rust_{call}_instructions"]) / instruction_rate(c)


def measure_kill(binary: Path) -> list[dict[str, Any]]:
    """Create superseding an active run whose real container it kills,
    against the same with the record-only runtime."""
    image = os.environ.get("RUNLEDGER_TEST_IMAGE", "runledger-test:busybox")
    return json_lines(run([str(binary), "kill", str(KILLS), image]))


def measure_cli() -> dict[str, float]:
    out = run(["bash", "benches/cli/bench.sh", str(CLI_REPETITIONS)])
    medians = {}
    for line in out.splitlines():
        match = re.match(r"(.+?)\s+([\d.]+)ms\s+([\d.]+)ms\s+([\d.]+)x$", line)
        if match:
            medians[match.group(1).strip()] = float(match.group(2))
    if not medians:
        raise RuntimeError(f"benches/cli/bench.sh printed no table:\n{out}")
    return medians


def machine() -> dict[str, str]:
    def first(argv: list[str]) -> str:
        try:
            return subprocess.run(argv, capture_output=True, text=True).stdout.strip()
        except OSError:
            return "unknown"

    model = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    memory = next(
        line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )  # fmt: skip
    versions = {}
    for package in ["runledger", "litequeue", "huey", "persist-queue", "matplotlib"]:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return {
        "cpu": f"{model}, {os.cpu_count()} logical cores",
        "memory": f"{int(memory) // 1024 // 1024} GiB",
        "os": f"{platform.system()} {platform.release()}",
        "filesystem": first(["df", "--output=fstype,source", tempfile.gettempdir()])
        .splitlines()[-1],
        "rustc": first(["rustc", "--version"]),
        "python": platform.python_version(),
        "python sqlite3": sqlite3.sqlite_version,
        "valgrind": first(["valgrind", "--version"]),
        "git": first(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]),
        **{f"{name} (PyPI)": version for name, version in versions.items() if name != "runledger"},
    }


# --- the report -----------------------------------------------------------


def pick(results: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    found = [r for r in results if all(r.get(k) == v for k, v in fields.items())]
    if len(found) != 1:
        raise KeyError(f"{len(found)} results for {fields}")
    return found[0]


def us(value: float) -> str:
    return f"{value:,.0f} µs" if value >= 100 else f"{value:.1f} µs"


def shown(value: float, target: float) -> str:
    """A ratio, with a third decimal when two would hide which side of the
    target it fell."""
    return f"{value:.3f}×" if abs(value / target - 1) < 0.01 else f"{value:.2f}×"


def verdict(value: float, target: float, higher_is_better: bool = True) -> str:
    met = value >= target if higher_is_better else value <= target
    if met:
        return "met"
    short = (1 - value / target) if higher_is_better else (value / target - 1)
    return f"**missed** by {short:.1%}"


LABELS = {
    "runledger": "runledger create (Rust)",
    "runledger-inline": "runledger create, checkpoints inline (Rust)",
    "floor": "floor: one-row INSERT transaction (rusqlite)",
    "original": "original design: autocommit statements, connection per call (rusqlite)",
    "python runledger": "runledger create (Python package)",
    "python careful": "Python sqlite3, careful (one connection, IMMEDIATE)",
    "python naive": "Python sqlite3, naive (connection per call, read then write)",
    "python litequeue": "litequeue put †",
    "python huey": "huey SqliteHuey enqueue †",
    "python persist-queue": "persist-queue SQLiteAckQueue put †",
}


def plots(results: list[dict[str, Any]], out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = []
    figure, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for axis, sync in zip(axes, SYNCS):
        for kind in ["runledger", "floor", "original"]:
            values = [
                pick(results, workload="contention", sync=sync, contender=kind, processes=p)[
                    "wall_ops_per_sec"
                ]
                for p in PROCESSES
            ]
            axis.plot(PROCESSES, values, marker="o", label=LABELS[kind].split(" (")[0])
        axis.set_title(f"synchronous {sync}")
        axis.set_xlabel("processes on one file")
        axis.set_xticks(PROCESSES)
        axis.set_yscale("log")
        axis.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("calls per second, all processes (log)")
    axes[1].legend(fontsize=8, loc="lower right")
    figure.suptitle("Throughput against processes")
    figure.tight_layout()
    names.append("bench-throughput-processes.png")
    figure.savefig(out / names[-1], dpi=110)
    plt.close(figure)

    figure, axis = plt.subplots(figsize=(6.5, 4))
    for sync in SYNCS:
        for kind in ["runledger", "floor"]:
            values = [
                pick(results, workload="history", sync=sync, contender=kind, history=str(s))[
                    "p50_us"
                ]
                for s in HISTORY_SIZES
            ]
            style = "-" if sync == "NORMAL" else "--"
            color = "tab:blue" if kind == "runledger" else "tab:orange"
            axis.plot(HISTORY_SIZES, values, style, color=color, marker="o",
                      label=f"{'runledger create' if kind == 'runledger' else 'floor'}, {sync}")
    axis.set_xscale("log")
    axis.set_ylim(bottom=0)
    axis.set_xlabel("runs already in the file")
    axis.set_ylabel("p50 per call (µs)")
    axis.set_title("p50 against history size")
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    names.append("bench-p50-history.png")
    figure.savefig(out / names[-1], dpi=110)
    plt.close(figure)
    return names


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def write_report(saved: dict[str, Any], out: Path) -> str:
    results, per_call = saved["results"], saved["instructions"]
    c, cli, about = saved["c"], saved["cli"], saved["machine"]
    images = plots(results, out)
    single = {
        sync: {
            r["contender"]: r
            for r in results
            if r.get("workload") == "single" and r["sync"] == sync
        }
        for sync in SYNCS + ["FULL"]
    }
    history = {
        sync: [r for r in results if r.get("workload") == "history" and r["sync"] == sync]
        for sync in SYNCS
    }

    def contention(sync: str, kind: str, processes: int) -> dict[str, Any]:
        return pick(results, workload="contention", sync=sync, contender=kind, processes=processes)

    # Targets, each measured at synchronous NORMAL (the default) and OFF.
    targets = []
    for sync in SYNCS:
        rows = single[sync]
        ratio = rows["runledger"]["ops_per_sec"] / rows["floor"]["ops_per_sec"]
        targets.append(
            [f"create ≥ 0.5× the floor, {sync}", shown(ratio, 0.5), verdict(ratio, 0.5)]
        )
        ratio = rows["runledger-inline"]["ops_per_sec"] / rows["floor"]["ops_per_sec"]
        targets.append(
            [f"create ≥ 0.5× the floor, both checkpointing inline, {sync}", shown(ratio, 0.5),
             verdict(ratio, 0.5)]  # fmt: skip
        )
    ratio = per_call["floor"] / per_call["create"]
    targets.append(
        ["create ≥ 0.5× the floor, instructions", shown(ratio, 0.5), verdict(ratio, 0.5)]
    )
    for sync in SYNCS:
        rows = single[sync]
        python = rows["python runledger"]["ops_per_sec"]
        ratio = python / rows["runledger"]["ops_per_sec"]
        targets.append(
            [f"Python package ≥ 0.85× the Rust core, {sync}", shown(ratio, 0.85),
             verdict(ratio, 0.85)]  # fmt: skip
        )
        for peer, goal in [("careful", 1.3), ("naive", 15)]:
            ratio = python / rows[f"python {peer}"]["ops_per_sec"]
            targets.append(
                [f"Python package ≥ {goal}× {peer} sqlite3, {sync}", shown(ratio, goal),
                 verdict(ratio, goal)]  # fmt: skip
            )
    for sync in SYNCS:
        one, eight = contention(sync, "runledger", 1), contention(sync, "runledger", 8)
        ratio = eight["wall_ops_per_sec"] / one["wall_ops_per_sec"]
        busy = sum(contention(sync, "runledger", p)["busy"] for p in PROCESSES)
        broken = sum(len(contention(sync, "runledger", p)["violations"]) for p in PROCESSES)
        targets.append(
            [f"8 processes ≥ 0.9× one, {sync}", shown(ratio, 0.9), verdict(ratio, 0.9)]
        )
        targets.append(
            [f"zero busy errors and invariants hold, 1–8 processes, {sync}",
             f"{busy} busy, {broken} broken", "met" if busy == 0 and broken == 0 else "**missed**"]
        )  # fmt: skip
    for sync in SYNCS:
        base = pick(history[sync], contender="runledger", history=str(HISTORY_SIZES[0]))
        large = pick(history[sync], contender="runledger", history=str(HISTORY_SIZES[-1]))
        ratio = large["p50_us"] / base["p50_us"]
        targets.append(
            [f"p50 at {HISTORY_SIZES[-1]:,} runs ≤ 1.5× p50 at {HISTORY_SIZES[0]:,}, {sync}",
             shown(ratio, 1.5), verdict(ratio, 1.5, higher_is_better=False)]
        )  # fmt: skip
    # Each with its defaults: runledger at NORMAL, the queues as they come.
    rows = single["NORMAL"]
    python = rows["python runledger"]["ops_per_sec"]
    for peer in ["huey", "persist-queue"]:
        ratio = python / rows[f"python {peer}"]["ops_per_sec"]
        targets.append(
            [f"Python create faster than {peer} enqueue, both with their defaults",
             shown(ratio, 1.0), verdict(ratio, 1.0)]  # fmt: skip
        )
    for call in ["create", "get"]:
        cost = boundary_ns(c, call)
        targets.append(
            [f"the C boundary costs < 1 µs per {call}", f"{cost:,.0f} ns",
             verdict(cost, 1000, higher_is_better=False)]  # fmt: skip
        )
    missed = [t for t in targets if "missed" in t[2]]

    md = []
    md.append("# Benchmarks\n")
    md.append(
        "Generated by `make bench` (`bash .ci/bench.sh`, which runs "
        "`benches/report/report.py`); do not edit by hand. Every contender of a table ran in "
        "the same run, interleaved in rounds of 100 calls, on files in the same directory, so "
        "ratios between rows are the figures to read; absolute numbers move with the machine. "
        "Throughput (calls/s) is the number of calls over the sum of their latencies, so rare "
        "slow calls (checkpoints, a neighbour's burst) weigh on it as they would on a user; "
        "p50 shows the typical call.\n"
    )
    if QUICK:
        md.append("**Quick mode (RUNLEDGER_BENCH_QUICK): smaller workloads, numbers not for "
                  "quoting.**\n")  # fmt: skip
    md.append("## Machine and versions\n")
    note = saved.get("note")
    about_rows = [[k, v] for k, v in about.items()]
    about_rows.append(["SQLite (Rust core, bundled)", pick_sqlite(results)])
    about_rows.append(
        ["load average (1, 5, 15 min) before / after",
         f"{saved['load_before']} / {saved['load_after']}"]
    )  # fmt: skip
    about_rows.append(
        ["run finished", f"{saved['finished']}, measuring took {saved['minutes']:.0f} minutes"]
    )
    md.append(table(["", ""], about_rows))
    if note:
        md.append(f"\n{note}\n")

    md.append("## Targets\n")
    md.append(table(["target", "measured", "verdict"], targets))
    if missed:
        md.append(
            f"\n{len(missed)} of {len(targets)} target rows missed; each table below says by "
            "how much and why.\n"
        )
    else:
        md.append(f"\nAll {len(targets)} target rows met.\n")

    # Single process.
    for sync in SYNCS:
        rows = single[sync]
        floor = rows["floor"]
        md.append(f"## One process, create with supersede on 1,000 refs, synchronous {sync}\n")
        body = []
        for name in ["runledger", "runledger-inline", "floor", "original", "python runledger",
                     "python careful", "python naive", "python litequeue", "python huey",
                     "python persist-queue"]:
            r = rows[name]
            body.append(
                [LABELS[name], f"{r['ops_per_sec']:,.0f}", us(r["p50_us"]), us(r["p99_us"]),
                 f"{r['ops_per_sec'] / floor['ops_per_sec']:.2f}×",
                 f"{r['p50_us'] / floor['p50_us']:.2f}×", f"{r['n']:,}"]
            )  # fmt: skip
        md.append(
            table(["contender", "calls/s", "p50", "p99", "throughput vs floor",
                   "p50 vs floor", "calls timed"], body)  # fmt: skip
        )
        create = rows["runledger"]
        python = rows["python runledger"]
        md.append(
            f"\nEach figure is the median of {SINGLE_REPEATS} run(s) of the whole table "
            f"(Rust and Python processes alternating); calls timed are per run.\n\n"
            f"† Queues do less work than a supersede: they append one row and read, update "
            f"or record nothing else, and they keep their own durability settings (huey and "
            f"persist-queue: synchronous FULL by default, litequeue NORMAL; see Settings), "
            f"whatever this table's setting.\n\n"
            f"A create reads the group's live runs, marks the old run superseded, appends its "
            f"history row and inserts the new run in one IMMEDIATE transaction: four statements "
            f"where the floor runs one, on the same six-index table. At {sync} it ran at "
            f"{create['ops_per_sec'] / floor['ops_per_sec']:.2f}× the floor's throughput and "
            f"{create['p50_us'] / floor['p50_us']:.2f}× its p50. runledger copies the "
            f"write-ahead log back into the database on a thread of the handle's own, while "
            f"the floor, like every SQLite connection by default, does it inside the commit "
            f"that fills the log, which then waits for the copy"
            + (" and two fsyncs" if sync != "OFF" else " (at OFF, without fsyncs)")
            + f". With that thread turned off (`background_checkpoints`), runledger ran at "
            f"{rows['runledger-inline']['ops_per_sec'] / floor['ops_per_sec']:.2f}× the floor: "
            f"that is the like-for-like ratio of the work itself, and the instruction counts "
            f"below, which count the thread's work too, agree. "
            + ("The thread takes the fsyncs off the caller's path, which is where the "
               "difference comes from; it needs a spare core, which this machine has for one "
               "process, and its fsyncs share the disk with the other contenders' rounds. "
               if sync != "OFF" else
               "Without fsyncs a checkpoint is only a copy, and moving it to another core "
               "changes little. ")
            + f"The original design paid "
            f"{rows['original']['p50_us'] / create['p50_us']:.0f}× a create's p50: opening a "
            f"connection per call parses the schema every time and, in WAL mode, closing the "
            f"last connection checkpoints the file. The Python package ran at "
            f"{python['ops_per_sec'] / rows['python careful']['ops_per_sec']:.2f}× the careful "
            f"sqlite3 version and {python['ops_per_sec'] / rows['python naive']['ops_per_sec']:.0f}"
            f"× the naive one; litequeue's put, a single INSERT statement, ran at "
            f"{rows['python litequeue']['ops_per_sec'] / python['ops_per_sec']:.2f}× the "
            f"package's create.\n"
        )
        md.append(single_notes(rows, sync))

    # Instructions.
    md.append("## Instructions per call (callgrind)\n")
    short, long = PROFILE_COUNTS
    md.append(
        table(["contender", "instructions per call", "vs floor"],
              [[LABELS[k if k != "create" else "runledger"], f"{v:,.0f}",
                f"{v / per_call['floor']:.2f}×"] for k, v in per_call.items()])
    )  # fmt: skip
    md.append(
        f"\nCounted by valgrind's callgrind over two runs of {short:,} and {long:,} calls "
        f"({short // 10:,} and {long // 10:,} for the original design) "
        f"after a warm-up of 1,000 (the report bench's `profile` mode), at "
        f"synchronous OFF; the difference over the {long - short:,} extra calls is one call's "
        f"cost, start-up cancelled. Instruction counts do not move with a neighbour's load, so "
        f"this is the stable figure on a shared machine; they leave out waiting for the disk "
        f"(fsync), which the timed tables include. By instructions a create is "
        f"{per_call['create'] / per_call['floor']:.2f}× the floor, i.e. "
        f"{per_call['floor'] / per_call['create']:.2f}× its throughput when the CPU is the "
        f"limit.\n"
    )
    ratio = per_call["floor"] / per_call["create"]
    if ratio < 0.5:
        md.append(
            f"\nMissed by {1 - ratio / 0.5:.1%} on instructions (the timed tables, where both "
            f"also pay for the WAL write of each commit, came out at the ratios shown above). "
            f"The floor inserts one finished row, which enters only the primary key and the "
            f"by-group index. A create also reads the group's live runs, updates the old run "
            f"out of the two partial unique indexes of live runs, appends its history row, "
            f"and inserts a pending row that enters those two indexes as well as the primary "
            f"key and by-group index, with the table's checks evaluated on the insert and the "
            f"update: {per_call['create'] / per_call['floor']:.1f} times the instructions in "
            f"all.\n"
        )

    # History.
    for sync in SYNCS:
        md.append(f"## History size, synchronous {sync}\n")
        body = []
        base = pick(history[sync], contender="runledger", history=str(HISTORY_SIZES[0]))
        for label in [str(s) for s in HISTORY_SIZES] + [f"hot ref {HOT_REF_RUNS}"]:
            create = pick(history[sync], contender="runledger", history=label)
            floor = pick(history[sync], contender="floor", history=label)
            name = f"{int(label):,} runs" if label.isdigit() else \
                f"one ref with {HOT_REF_RUNS:,} runs of its own"  # fmt: skip
            body.append(
                [name, us(create["p50_us"]), us(create["p99_us"]), us(floor["p50_us"]),
                 f"{create['p50_us'] / floor['p50_us']:.2f}×",
                 f"{create['p50_us'] / base['p50_us']:.2f}×"]
            )  # fmt: skip
        md.append(
            table(["runs already in the file", "create p50", "create p99", "floor p50",
                   "create p50 vs floor", f"create p50 vs {HISTORY_SIZES[0]:,} runs"], body)
        )  # fmt: skip
        large = pick(history[sync], contender="runledger", history=str(HISTORY_SIZES[-1]))
        ratio = large["p50_us"] / base["p50_us"]
        md.append(
            f"\nEach file was filled with finished runs by direct INSERTs in one transaction "
            f"(over 97 repositories and 5,000 refs; the hot file: all in the one group the "
            f"creates then push to), then create and the floor wrote to the same file in "
            f"turn, 2,000 timed calls each after a round of warm-up. A create finds its "
            f"group's live runs through the partial unique indexes on pending and active runs, "
            f"which hold only live rows, so history it does not touch costs it only a deeper "
            f"primary-key and group index (B-tree depth grows with the logarithm of the rows): "
            f"p50 at {HISTORY_SIZES[-1]:,} runs was {ratio:.2f}× p50 at "
            f"{HISTORY_SIZES[0]:,} ({verdict(ratio, 1.5, higher_is_better=False)} for the "
            f"target of 1.5×). The floor grows the same way, as its column shows.\n"
        )
    md.append(f"![p50 against history size]({images[1]})\n")

    # Contention.
    for sync in SYNCS:
        md.append(f"## Processes on one file, synchronous {sync}\n")
        body = []
        for kind in ["runledger", "floor", "original"]:
            one = contention(sync, kind, 1)["wall_ops_per_sec"]
            for processes in PROCESSES:
                r = contention(sync, kind, processes)
                body.append(
                    [LABELS[kind].split(" (")[0], str(processes),
                     f"{r['wall_ops_per_sec']:,.0f}", f"{r['wall_ops_per_sec'] / one:.2f}×",
                     us(r["p50_us"]), us(r["p99_us"]), us(r["max_us"]), str(r["busy"]),
                     str(r["failed"]), broken_summary(r)]
                )  # fmt: skip
        md.append(
            table(["contender", "processes", "calls/s (all)", "vs 1 process", "p50", "p99",
                   "max", "busy errors", "other errors", "invariants afterwards"], body)
        )  # fmt: skip
        md.append(contention_notes(sync, contention))
    md.append(f"![throughput against processes]({images[0]})\n")

    # FULL.
    rows = single["FULL"]
    md.append("## synchronous FULL (bound by the disk), one process\n")
    floor = rows["floor"]
    md.append(
        table(["contender", "calls/s", "p50", "p99", "throughput vs floor", "calls timed"],
              [[LABELS[name], f"{rows[name]['ops_per_sec']:,.0f}", us(rows[name]["p50_us"]),
                us(rows[name]["p99_us"]),
                f"{rows[name]['ops_per_sec'] / floor['ops_per_sec']:.2f}×",
                f"{rows[name]['n']:,}"]
               for name in ["runledger", "floor", "original", "python runledger",
                            "python careful", "python naive"]])
    )  # fmt: skip
    md.append(
        "\nAt FULL every commit waits for an fsync of the WAL, so every contender that commits "
        "once per call costs about one fsync of this disk and the p50s close up; the original "
        "design commits once per statement and pays that several times over. Throughput here "
        "is set by the few fsyncs that take milliseconds, which land on whichever contender is "
        "running: compare p50s, and rerun before reading much into one row's throughput.\n"
    )

    # Faces.
    md.append("## The other faces: C and the CLI\n")
    faces = []
    for call in ["create", "get"]:
        c_ns, rust_ns = c[f"c_{call}_ns"], c[f"rust_{call}_ns"]
        faces += [
            [f"runs_{call} from C (librunledger.so), median per call", f"{c_ns / 1000:.1f} µs",
             f"{c_ns / rust_ns:.3f}× the Rust core"],
            [f"the same {call} on the Rust core, median per call", f"{rust_ns / 1000:.1f} µs",
             "1×"],
            [f"instructions per {call}, C / Rust",
             f"{c[f'c_{call}_instructions']:,.0f} / {c[f'rust_{call}_instructions']:,.0f}",
             f"C − Rust: {c[f'c_{call}_instructions'] - c[f'rust_{call}_instructions']:,.0f} "
             f"instructions, about {boundary_ns(c, call):,.0f} ns"],
        ]  # fmt: skip
    md.append(
        table(["measure", "value", "ratio"],
              faces
              + [[f"CLI: {name}, one whole process", f"{value:.2f} ms",
                  f"{value / cli['sqlite3 CLI, one INSERT']:.2f}× the sqlite3 CLI INSERT"]
                 for name, value in cli.items()])
    )  # fmt: skip
    rate = instruction_rate(c)
    md.append(
        f"\nFrom benches/c/run.sh ({C_ROUNDS} alternating rounds of {C_CALLS:,} calls on 50 "
        f"refs, record-only runtime, synchronous NORMAL) and benches/cli/bench.sh "
        f"({CLI_REPETITIONS} interleaved runs of each command on one file). A create takes "
        f"tens of microseconds and moves by more than a microsecond from round to round, so "
        f"its timed medians cannot show a boundary cost below that; the instruction counts "
        f"(callgrind, the same calls on each side, start-up cancelled) can. The C side's "
        f"extra instructions are the boundary: reading C strings, copying the result into "
        f"library-owned C strings and freeing them. They are turned into time at the rate "
        f"this machine ran the Rust core's get in its fastest round ({rate:.1f} instructions "
        f"per ns), a call that like the boundary's copying does no disk work. A CLI call is a "
        f"whole process (start-up, opening the file, one create, exit) next to sqlite3's own "
        f"CLI doing one INSERT. sqlite3 checkpoints the log when it closes the last "
        f"connection, which costs fsyncs; runledger leaves that to later commits, so the "
        f"last row shows sqlite3 with that turned off too.\n"
    )

    # Killing a container.
    docker = pick(results, workload="kill", contender="docker")
    record = pick(results, workload="kill", contender="record-only")
    md.append("## What a container kill adds to a create\n")
    md.append(
        table(["runtime", "create p50", "create p99", "max", "creates timed"],
              [["Docker engine, kills a running container", us(docker["p50_us"]),
                us(docker["p99_us"]), us(docker["max_us"]), str(docker["n"])],
               ["record-only (baseline)", us(record["p50_us"]), us(record["p99_us"]),
                us(record["max_us"]), str(record["n"])]])
    )  # fmt: skip
    md.append(
        f"\nEach timed create supersedes one active run with an attached container, busybox "
        f"`sleep` started with `--network none` from the locally built test image; the two "
        f"runtimes alternate push by push, and starting the container is not timed. With "
        f"Docker the create returns after the kill is done: it inspects the container (to "
        f"check its run label), sends SIGKILL and waits for the engine's answer, which comes "
        f"once the container has stopped. That added "
        f"{(docker['p50_us'] - record['p50_us']) / 1000:,.1f} ms at p50 and "
        f"{(docker['p99_us'] - record['p99_us']) / 1000:,.1f} ms at p99, almost all of it "
        f"the engine stopping the container; the supersede itself is committed before the "
        f"kill starts, so other writers never wait for it.\n"
    )

    # Settings.
    md.append("## Settings of each contender\n")
    settings_rows = [
        [LABELS["runledger"], "WAL, synchronous as the table says, busy_timeout 5 s, "
         "record-only runtime (no Docker), one handle kept open, checkpoints on the handle's "
         "own thread (the default)"],
        [LABELS["runledger-inline"], "the same with background_checkpoints off: SQLite's "
         "automatic checkpoint every 1000 pages, inside a commit"],
        [LABELS["floor"], "same file settings, one connection kept open, BEGIN IMMEDIATE, "
         "prepared statement cached, SQLite's automatic checkpoint"],
        [LABELS["original"], "new connection per call, busy_timeout 5 s, synchronous as the "
         "table says, each statement its own autocommit transaction"],
    ]
    for name in ["python runledger", "python careful", "python naive", "python litequeue",
                 "python huey", "python persist-queue"]:
        settings = single["NORMAL"][name]["settings"]
        text = ", ".join(f"{k} {v}" for k, v in settings.items())
        if name in ("python runledger", "python careful", "python naive"):
            text = text.replace("synchronous NORMAL", "synchronous as the table says")
        else:
            text += " (the library's defaults, read from its connection)"
        settings_rows.append([LABELS[name], text])
    md.append(table(["contender", "settings"], settings_rows))
    md.append(
        "\nEvery contender writes the same pushes (repository `work/bench.git`, refs "
        "`refs/heads/b0` … `b999` in turn, so each timed create supersedes the run its ref got "
        "1,000 calls earlier); the queues enqueue the same three strings as one payload.\n"
    )
    text = "\n".join(md)
    (out / "BENCHMARKS.md").write_text(text)
    return text


def broken_summary(row: dict[str, Any]) -> str:
    """The broken invariants of a contention row, summed over its runs."""
    if not row["violations"]:
        return "hold"
    totals: dict[str, int] = {}
    for violation in row["violations"]:
        number, _, rule = violation.partition(" ")
        totals[rule] = totals.get(rule, 0) + int(number)
    runs = f" (in {row.get('broken_repeats', '?')} of {CONTENTION_REPEATS} runs)"
    return "; ".join(f"{n} {rule}" for rule, n in totals.items()) + runs


def pick_sqlite(results: list[dict[str, Any]]) -> str:
    return next((r["sqlite"] for r in results if "sqlite" in r), "unknown")


def single_notes(rows: dict[str, Any], sync: str) -> str:
    notes = []
    floor = rows["floor"]
    for name, how in [("runledger", ""), ("runledger-inline", ", checkpointing inline,")]:
        create = rows[name]
        ratio = create["ops_per_sec"] / floor["ops_per_sec"]
        if ratio >= 0.5:
            continue
        notes.append(
            f"Missed: create{how} ran at {shown(ratio, 0.5)} the floor, "
            f"{1 - ratio / 0.5:.1%} short of 0.5×. The create's four statements cost more CPU "
            f"than one INSERT (see the instruction counts), and each commit writes more "
            f"pages to the WAL, so checkpoints come sooner: its p99 was "
            f"{create['p99_us']:,.0f} µs against the floor's {floor['p99_us']:,.0f} µs."
        )
    python = rows["python runledger"]["ops_per_sec"]
    careful = python / rows["python careful"]["ops_per_sec"]
    if careful < 1.3:
        notes.append(
            f"Missed: the Python package ran at {shown(careful, 1.3)} the careful sqlite3 version, "
            f"{1 - careful / 1.3:.1%} short of 1.3×. Both run the same statements in "
            f"SQLite; what the package saves is the careful version's Python-level work "
            f"(five execute calls with their parameter binding and row fetching), which by "
            f"p50 came to "
            f"{rows['python careful']['p50_us'] - rows['python runledger']['p50_us']:.0f}"
            f" µs of its {rows['python careful']['p50_us']:.0f} µs. The rest of both calls is "
            f"SQLite's own work on the same rows, which no binding can remove."
        )
    naive = python / rows["python naive"]["ops_per_sec"]
    if naive < 15:
        notes.append(
            f"Missed: the Python package ran at {naive:.1f}× the naive version, "
            f"{1 - naive / 15:.1%} short of 15×. At {sync} no commit waits for the disk, so "
            f"the naive version pays for little beyond opening a connection per call (its p50 "
            f"was {rows['python naive']['p50_us']:,.0f} µs here); the gap it leaves is its "
            f"schema parse and file open, not durability. By p50 the package was "
            f"{rows['python naive']['p50_us'] / rows['python runledger']['p50_us']:.1f}× "
            f"faster; its throughput carries its own rare slow calls (p99 "
            f"{rows['python runledger']['p99_us']:,.0f} µs)."
        )
    for peer in ["huey", "persist-queue"]:
        ratio = python / rows[f"python {peer}"]["ops_per_sec"]
        if ratio < 1:
            notes.append(f"Missed: {peer}'s enqueue was faster than a create ({ratio:.2f}×).")
    return ("\n" + "\n\n".join(notes) + "\n") if notes else ""


def contention_notes(sync: str, contention: Any) -> str:
    one, eight = contention(sync, "runledger", 1), contention(sync, "runledger", 8)
    ratio = eight["wall_ops_per_sec"] / one["wall_ops_per_sec"]
    floor_ratio = (contention(sync, "floor", 8)["wall_ops_per_sec"]
                   / contention(sync, "floor", 1)["wall_ops_per_sec"])  # fmt: skip
    original = [contention(sync, "original", p) for p in PROCESSES]
    broken = [p for p, r in zip(PROCESSES, original) if r["violations"] or r["failed"]]
    text = (
        f"\n{CONTENTION_TOTAL:,} calls in all per row ({contention_total('original'):,} for the "
        f"original design), split evenly over the processes, all on "
        f"the same 1,000 refs; throughput is timed from the first call of any process to the "
        f"last, process start-up excluded. Each row ran {CONTENTION_REPEATS} time(s), "
        f"interleaved with the others; the table shows the repetition of median throughput, "
        f"and busy errors, other errors and broken invariants summed over all. Writers on "
        f"one SQLite file take turns on its write "
        f"lock, so more processes cannot add throughput; what matters is how little the "
        f"hand-over costs. With 8 processes on this machine's {os.cpu_count()} cores, a "
        f"process holding the lock can be descheduled while the others wait, which shows in "
        f"p99 and max. runledger at 8 processes kept {ratio:.2f}× its one-process throughput "
        f"({verdict(ratio, 0.9)} for the target of 0.9×); the floor, one INSERT under the "
        f"same lock, kept {floor_ratio:.2f}×. "
        f"Afterwards every ledger was checked: one live run per touched group, every "
        f"superseded run pointing at a recorded run of its group, one history row per "
        f"supersede, and one row per successful call.\n"
    )
    if ratio < 0.9:
        repeats = ", ".join(
            f"{a / b:.2f}×" for a, b in zip(eight.get("repeats_ops_per_sec", []),
                                            one.get("repeats_ops_per_sec", []))
        )  # fmt: skip
        text += (
            f"\nMissed by {1 - ratio / 0.9:.1%}. Eight writers share {os.cpu_count()} cores "
            f"with the one holding the lock: p50 went from {one['p50_us']:.0f} µs at one "
            f"process to {eight['p50_us']:.0f} µs at eight, and p99 from "
            f"{one['p99_us']:,.0f} µs to {eight['p99_us']:,.0f} µs. Most of a write's "
            f"time is CPU, and with {os.cpu_count()} cores the writer holding the lock is "
            f"often descheduled in favour of a waiter (its p99 and max show those stalls). "
            f"runledger's busy handler sleeps 3–6 ms between tries and never longer, where "
            f"SQLite's own handler, which the floor uses, sleeps longer the more it has "
            f"tried; shorter sleeps (20 µs, 1–2 ms) did worse here, as waking waiters took "
            f"CPU from the writer. The floor kept {floor_ratio:.2f}×. The ratio in each "
            f"repetition of this run (8 over 1 "
            f"process, both sorted and paired): {repeats or 'one run only'}.\n"
        )
    if broken:
        text += (
            f"\nThe original design lost pushes or broke invariants at "
            f"{', '.join(map(str, broken))} processes: with no "
            f"transaction around read-then-write, two callers read the same live run; the "
            f"schema's one-pending-run-per-group index then refuses one insert (an 'other "
            f"error', a lost push) after its supersede already marked the old run, leaving "
            f"runs superseded by a run that was never recorded.\n"
        )
    return text


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="the benchmark report")
    parser.add_argument(
        "--out", type=Path, default=None,
        help="where BENCHMARKS.md goes (default: the repository; target/bench-quick for a "
        "quick run, so a smoke run never replaces the committed report)",
    )  # fmt: skip
    parser.add_argument(
        "--results", type=Path, default=ROOT / "target" / "bench-results.json",
        help="the raw measurements, written by a run and read by --render-only",
    )  # fmt: skip
    parser.add_argument(
        "--render-only", action="store_true",
        help="write the report from the last run's measurements without measuring",
    )  # fmt: skip
    args = parser.parse_args(argv)
    started = time.monotonic()
    if args.render_only:
        saved = json.loads(args.results.read_text())
        configure(saved["quick"])
    else:
        configure(bool(os.environ.get("RUNLEDGER_BENCH_QUICK")))
        saved = {
            "load_before": load_average(),
            "quick": QUICK,
            "note": os.environ.get("RUNLEDGER_BENCH_NOTE"),
        }
        log(f"{'quick' if QUICK else 'full'} mode; building the release bench binaries")
        binaries = build()
        saved["results"] = json_lines(run([str(binaries["report"]), "version"]))
        log("Rust workloads")
        saved["results"] += measure_rust(binaries["report"])
        log("Python workloads")
        saved["results"] += measure_python()
        log("instruction counts (callgrind)")
        saved["instructions"] = measure_instructions(binaries)
        log("container kills")
        saved["results"] += measure_kill(binaries["report"])
        log("C and CLI")
        saved["c"] = measure_c()
        saved["cli"] = measure_cli()
        saved["load_after"] = load_average()
        saved["minutes"] = (time.monotonic() - started) / 60
        saved["machine"] = machine()
        saved["finished"] = f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC"
        args.results.parent.mkdir(parents=True, exist_ok=True)
        args.results.write_text(json.dumps(saved, indent=1))
    if args.out is None:
        args.out = ROOT / "target" / "bench-quick" if QUICK else ROOT
    args.out.mkdir(parents=True, exist_ok=True)
    write_report(saved, args.out)
    log(f"wrote {args.out / 'BENCHMARKS.md'} in {(time.monotonic() - started) / 60:.1f} minutes")
    return 0


if __name__ == "__main__":
    sys.exit(main())

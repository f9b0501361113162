//! The demo, run as the README runs it, against the real Docker engine:
//! its closing counts must match the ledger file it leaves, and it must
//! leave no container behind.

mod common;

use std::collections::HashMap;

use common::{Ledger, docker};
use runledger::{KillState, ListFilter, Reason, RunState, Runs};

/// Parses the `counts:` line into its `key=value` pairs.
fn counts_of(output: &str) -> HashMap<String, usize> {
    let line = output
        .lines()
        .find(|line| line.starts_with("counts: "))
        .unwrap_or_else(|| panic!("a counts line in {output}"));
    line.trim_start_matches("counts: ")
        .split(' ')
        .map(|pair| {
            let (key, value) = pair.split_once('=').expect("key=value");
            (key.to_owned(), value.parse().expect("a number"))
        })
        .collect()
}

/// The counts of the `counts:` line that the ledger file records; the other
/// two (`duplicates`, `running_containers`) are checked against the script
/// and the engine.
const STORED_COUNTS: [&str; 13] = [
    "runs",
    "complete",
    "failed",
    "superseded",
    "canceled",
    "pending",
    "active",
    "out_of_order",
    "orphaned",
    "containers",
    "kills_done",
    "kills_requested",
    "kills_failed",
];

/// Asserts that every count the file records was printed as it is stored.
fn assert_counts_match_the_file(text: &str, path: &std::path::Path) {
    let printed = counts_of(text);
    let stored = counts_in_file(path);
    for key in STORED_COUNTS {
        assert_eq!(
            printed[key],
            stored.get(key).copied().unwrap_or(0),
            "{key} printed vs stored\n{text}"
        );
    }
}

/// The same counts, read from the ledger file through the library.
fn counts_in_file(path: &std::path::Path) -> HashMap<String, usize> {
    let runs = Runs::open_with(
        path,
        runledger::Config {
            runtime: runledger::RuntimeConfig::RecordOnly,
            ..runledger::Config::default()
        },
    )
    .unwrap();
    let all = runs
        .list(&ListFilter::default(), runledger::MAX_PAGE, None)
        .unwrap();
    assert_eq!(all.next_cursor, None);
    let mut counts: HashMap<String, usize> = HashMap::new();
    let mut bump = |key: &str| *counts.entry(key.to_owned()).or_default() += 1;
    for run in &all.runs {
        bump("runs");
        bump(run.state.as_str());
        if run.container_id.is_some() {
            bump("containers");
        }
        match run.kill.as_ref().map(|kill| kill.state) {
            Some(KillState::Done) => bump("kills_done"),
            Some(KillState::Requested) => bump("kills_requested"),
            Some(KillState::Failed) => bump("kills_failed"),
            _ => {}
        }
        for entry in runs.history(&run.id).unwrap() {
            match entry.reason {
                Reason::OutOfOrder => bump("out_of_order"),
                Reason::Orphaned => bump("orphaned"),
                _ => {}
            }
        }
    }
    counts
}

#[test]
fn the_demo_counts_match_its_ledger_and_no_container_is_left() {
    let ledger = Ledger::new();

    let output = ledger
        .command()
        .env("RUNLEDGER_RUNTIME", "docker")
        .args(["--db", "demo.db", "demo"])
        .output()
        .unwrap();

    let text = common::stdout(&output);
    assert!(
        output.status.success(),
        "{text}\n{}",
        common::stderr(&output)
    );
    assert!(
        text.starts_with("containers: Docker engine "),
        "real containers: {text}"
    );
    assert_counts_match_the_file(&text, &ledger.path().join("demo.db"));
    let printed = counts_of(&text);
    // The story the demo tells happened: pushes superseded runs, one out of
    // order, two redelivered, a runner died and reconcile failed its run,
    // and the superseded and orphaned containers were really killed.
    assert_eq!(printed["pending"] + printed["active"], 0);
    assert_eq!(printed["duplicates"], 2);
    assert_eq!(printed["out_of_order"], 1);
    assert_eq!(printed["orphaned"], 1);
    assert!(printed["superseded"] >= 3, "{text}");
    assert!(printed["kills_done"] >= 2, "{text}");
    assert_eq!(printed["kills_failed"], 0);
    assert_eq!(printed["running_containers"], 0);
    assert!(text.contains("supersede chain of work/tools.git refs/heads/main:"));
    assert!(text.contains("killed runner-"));
    let all = Runs::open(ledger.path().join("demo.db")).unwrap();
    let page = all.list(&ListFilter::default(), 1000, None).unwrap();
    assert!(page.runs.iter().all(|run| run.state != RunState::Pending));
    for run in &page.runs {
        let filter = format!("label=runledger.run-id={}", run.id);
        assert_eq!(
            docker(&["ps", "--all", "--quiet", "--filter", &filter]),
            "",
            "{}",
            run.id
        );
    }
}

/// Plays the demo with short runner work on `runtime` into `demo.db`; it
/// must succeed. Returns what it printed.
fn short_demo(ledger: &Ledger, runtime: &str) -> String {
    let output = ledger
        .command()
        .args(["--db", "demo.db", "--runtime", runtime])
        .args(["demo", "--work-ms", "1500"])
        .output()
        .unwrap();
    let text = common::stdout(&output);
    assert!(
        output.status.success(),
        "{text}\n{}",
        common::stderr(&output)
    );
    text
}

#[test]
fn the_demo_runs_on_the_record_only_runtime_and_says_so() {
    let ledger = Ledger::new();

    let text = short_demo(&ledger, "record-only");

    assert!(
        text.starts_with("containers: record-only runtime"),
        "{text}"
    );
    assert_counts_match_the_file(&text, &ledger.path().join("demo.db"));
    let printed = counts_of(&text);
    assert_eq!(printed["orphaned"], 1);
    assert_eq!(printed["kills_done"], 0);
    assert!(printed["kills_requested"] >= 1, "{text}");
}

#[test]
fn without_an_engine_the_demo_falls_back_to_record_only_and_says_so() {
    let ledger = Ledger::new();

    let text = short_demo(&ledger, "unix:///nonexistent/docker.sock");

    assert!(
        text.starts_with("containers: no Docker engine answered")
            && text.lines().next().unwrap().contains("RECORD-ONLY"),
        "{text}"
    );
    assert_counts_match_the_file(&text, &ledger.path().join("demo.db"));
    assert_eq!(counts_of(&text)["kills_done"], 0);
}

#[test]
fn the_demo_refuses_an_existing_ledger_file() {
    let ledger = Ledger::new();
    ledger.create("work/tools.git", "refs/heads/main", "aaaaaaa");
    let before = ledger.snapshot();

    let output = ledger.run(&["demo"]);

    common::assert_refused(&output, common::BAD_INPUT, "already exists");
    assert_eq!(ledger.snapshot(), before);
}

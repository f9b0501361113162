//! Container kills through the real Docker engine, driven by the CLI as a
//! shell-script runner would drive it. These need the engine and the test
//! image; without them they fail.

mod common;

use common::{Container, Ledger};

const REPO: &str = "work/tools.git";
const MAIN: &str = "refs/heads/main";

fn with_docker(ledger: &Ledger, args: &[&str]) -> std::process::Output {
    ledger
        .command()
        .env("RUNLEDGER_RUNTIME", "docker")
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn a_newer_push_kills_the_container_of_the_active_run() {
    let ledger = Ledger::new();
    ledger.create(REPO, MAIN, "aaaaaaa");
    let old = ledger.claim();
    let container = Container::start_for(&ledger, &old);
    ledger.ok(&["attach", &old, &container.id]);
    assert!(container.running());

    let output = with_docker(&ledger, &["--json", "create", REPO, MAIN, "bbbbbbb"]);

    assert!(output.status.success(), "{}", common::stderr(&output));
    let created: serde_json::Value = serde_json::from_str(&common::stdout(&output)).unwrap();
    assert_eq!(created["superseded"][0]["run_id"], old.as_str());
    assert_eq!(created["superseded"][0]["kill"]["outcome"], "done");
    assert!(!container.running());
    assert_eq!(ledger.json(&["get", &old])["kill"]["state"], "done");
}

#[test]
fn cancel_kills_the_container_and_says_so_in_the_table() {
    let ledger = Ledger::new();
    ledger.create(REPO, MAIN, "aaaaaaa");
    let id = ledger.claim();
    let container = Container::start_for(&ledger, &id);
    ledger.ok(&["attach", &id, &container.id]);

    let output = with_docker(&ledger, &["cancel", &id]);

    assert!(output.status.success(), "{}", common::stderr(&output));
    let text = common::stdout(&output);
    assert!(
        text.lines()
            .any(|l| l.starts_with("kill") && l.contains("done")),
        "{text}"
    );
    assert!(!container.running());
}

#[test]
fn reconcile_kills_the_container_of_a_run_whose_runner_vanished() {
    let ledger = Ledger::new();
    ledger.create(REPO, MAIN, "aaaaaaa");
    let id = ledger
        .ok(&["--lease-secs", "1", "claim", "-q"])
        .trim()
        .to_owned();
    let container = Container::start_for(&ledger, &id);
    ledger.ok(&["attach", &id, &container.id]);
    std::thread::sleep(std::time::Duration::from_millis(1100));

    let output = with_docker(&ledger, &["--json", "reconcile"]);

    assert!(output.status.success(), "{}", common::stderr(&output));
    let report: serde_json::Value = serde_json::from_str(&common::stdout(&output)).unwrap();
    assert_eq!(report["orphaned"], serde_json::json!([id]));
    assert_eq!(report["kills"][0]["container_id"], container.id.as_str());
    assert_eq!(report["kills"][0]["kill"]["outcome"], "done");
    assert!(!container.running());
}

#[test]
fn a_container_labelled_for_another_run_is_left_running() {
    let ledger = Ledger::new();
    ledger.create(REPO, MAIN, "aaaaaaa");
    let old = ledger.claim();
    let other = ledger.create("work/site.git", MAIN, "ccccccc");
    let foreign = Container::start_for(&ledger, &other);
    ledger.ok(&["attach", &old, &foreign.id]);

    let output = with_docker(&ledger, &["--json", "create", REPO, MAIN, "bbbbbbb"]);

    assert!(output.status.success(), "{}", common::stderr(&output));
    let created: serde_json::Value = serde_json::from_str(&common::stdout(&output)).unwrap();
    assert_eq!(created["superseded"][0]["kill"]["outcome"], "refused");
    assert_eq!(
        created["superseded"][0]["kill"]["labelled_run_id"],
        other.as_str()
    );
    assert!(foreign.running());
}

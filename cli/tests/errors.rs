//! Bad arguments and refused operations: each gets its documented exit
//! code, one line on stderr, nothing on stdout, and leaves the ledger as it
//! was.

mod common;

use common::{
    BAD_INPUT, CONFLICT, INVALID_TRANSITION, KILL_FAILED, Ledger, NOT_FOUND, STORAGE,
    assert_refused,
};

const REPO: &str = "work/tools.git";
const MAIN: &str = "refs/heads/main";
const MISSING_RUN: &str = "0190a5c4-7b1e-7cc2-8a51-6a3d2f1e9b10";

#[test]
fn an_unknown_state_is_bad_input() {
    let ledger = Ledger::new();
    let id = ledger.create(REPO, MAIN, "aaaaaaa");
    let before = ledger.snapshot();

    let transition = ledger.run(&["transition", &id, "--from", "pending", "--to", "running"]);
    let list = ledger.run(&["list", "--state", "Pending"]);

    assert_refused(&transition, BAD_INPUT, "unknown state \"running\"");
    assert_refused(&list, BAD_INPUT, "unknown state \"Pending\"");
    assert_eq!(ledger.snapshot(), before);
}

#[test]
fn a_missing_run_is_not_found_for_every_command_that_names_one() {
    let ledger = Ledger::new();
    ledger.create(REPO, MAIN, "aaaaaaa");
    let before = ledger.snapshot();

    for args in [
        vec!["get", MISSING_RUN],
        vec![
            "transition",
            MISSING_RUN,
            "--from",
            "active",
            "--to",
            "complete",
        ],
        vec!["attach", MISSING_RUN, "c0ffee"],
        vec!["heartbeat", MISSING_RUN],
        vec!["cancel", MISSING_RUN],
        vec!["history", MISSING_RUN],
        vec!["labels", MISSING_RUN],
        vec!["--json", "get", MISSING_RUN],
    ] {
        let output = ledger.run(&args);

        assert_refused(&output, NOT_FOUND, &format!("run {MISSING_RUN} not found"));
    }
    assert_eq!(ledger.snapshot(), before);
}

#[test]
fn a_malformed_sha_ref_or_repo_is_bad_input_and_records_nothing() {
    let ledger = Ledger::new();
    ledger.create(REPO, MAIN, "aaaaaaa");
    let before = ledger.snapshot();

    let cases = [
        (vec!["create", REPO, MAIN, "xyz1234"], "invalid sha"),
        (vec!["create", REPO, MAIN, "abc"], "invalid sha"),
        (vec!["create", REPO, "main", "bbbbbbb"], "invalid ref_name"),
        (vec!["create", "../escape", MAIN, "bbbbbbb"], "invalid repo"),
        (
            vec!["create", REPO, MAIN, "bbbbbbb", "--pushed-at", "yesterday"],
            "--pushed-at",
        ),
        (vec!["get", "not-a-run"], "invalid run_id"),
        (
            vec!["attach", MISSING_RUN, "bad/container"],
            "invalid container_id",
        ),
        (vec!["list", "--limit", "0"], "invalid limit"),
        (vec!["list", "--cursor", "nope"], "invalid cursor"),
        (
            vec!["prune", "--keep", "1", "--older-than", "7 days"],
            "--older-than",
        ),
        (vec!["--lease-secs", "0", "claim"], "--lease-secs"),
        (
            vec!["--runtime", "kubernetes", "create", REPO, MAIN, "bbbbbbb"],
            "--runtime",
        ),
        (
            vec!["--kill-signal", "kill -9", "reconcile"],
            "--kill-signal",
        ),
        (
            vec!["--protected-refs", "main", "create", REPO, MAIN, "bbbbbbb"],
            "protected_refs",
        ),
        (vec!["frobnicate"], "unrecognized subcommand"),
        (
            vec!["create", REPO, MAIN],
            "required arguments were not provided: <SHA>",
        ),
        (vec![], "a subcommand is required"),
        (vec!["--json", "demo"], "invalid --json"),
        (vec!["states", "--mermaid", "--json"], "cannot be used with"),
    ];
    for (args, needle) in cases {
        let output = ledger.run(&args);

        assert_refused(&output, BAD_INPUT, needle);
    }
    assert_eq!(ledger.snapshot(), before);
}

#[test]
fn an_argument_that_is_not_utf8_is_bad_input_and_records_nothing() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;

    let ledger = Ledger::new();
    ledger.create(REPO, MAIN, "aaaaaaa");
    let before = ledger.snapshot();
    let not_utf8 = OsStr::from_bytes(b"work/\xfftools.git");

    let output = ledger
        .command()
        .arg("create")
        .arg(not_utf8)
        .args([MAIN, "bbbbbbb"])
        .output()
        .expect("runledger runs");

    assert_refused(&output, BAD_INPUT, "invalid UTF-8");
    assert_eq!(ledger.snapshot(), before);
}

#[test]
fn a_file_that_is_not_a_database_is_a_storage_error_and_is_left_alone() {
    let ledger = Ledger::new();
    let path = ledger.path().join("notes.txt");
    let content = "these are not the runs you are looking for\n".repeat(100);
    std::fs::write(&path, &content).unwrap();

    for args in [
        vec!["--db", "notes.txt", "create", REPO, MAIN, "aaaaaaa"],
        vec!["--db", "notes.txt", "list"],
        vec!["--db", "notes.txt", "--json", "reconcile"],
    ] {
        let output = ledger.run(&args);

        assert_refused(&output, STORAGE, "notes.txt is not a runledger database");
    }
    assert_eq!(std::fs::read_to_string(&path).unwrap(), content);
}

#[test]
fn a_missing_database_is_a_storage_error_except_for_create() {
    let ledger = Ledger::new();

    let list = ledger.run(&["list"]);
    let get = ledger.run(&["get", MISSING_RUN]);

    assert_refused(&list, STORAGE, "does not exist");
    assert_refused(&get, STORAGE, "does not exist");
    assert!(!ledger.db().exists(), "a failed read leaves no file behind");
}

#[test]
fn a_transition_the_table_forbids_is_an_invalid_transition() {
    let ledger = Ledger::new();
    ledger.create(REPO, MAIN, "aaaaaaa");
    let id = ledger.claim();
    let before = ledger.snapshot();

    let backwards = ledger.run(&["transition", &id, "--from", "active", "--to", "pending"]);
    let from_terminal = ledger.run(&["transition", &id, "--from", "complete", "--to", "failed"]);

    assert_refused(&backwards, INVALID_TRANSITION, "from active to pending");
    assert_refused(
        &from_terminal,
        INVALID_TRANSITION,
        "from complete to failed",
    );
    assert_eq!(ledger.snapshot(), before);
}

#[test]
fn a_run_that_moved_on_is_a_conflict_naming_its_state() {
    let ledger = Ledger::new();
    let old = ledger.create(REPO, MAIN, "aaaaaaa");
    ledger.create(REPO, MAIN, "bbbbbbb");
    let before = ledger.snapshot();

    let claim_late = ledger.run(&["transition", &old, "--from", "pending", "--to", "active"]);
    let heartbeat = ledger.run(&["heartbeat", &old]);
    let cancel = ledger.run(&["cancel", &old]);

    assert_refused(&claim_late, CONFLICT, "is superseded, not pending");
    assert_refused(&heartbeat, CONFLICT, "is superseded");
    assert_refused(&cancel, CONFLICT, "is superseded");
    assert_eq!(ledger.snapshot(), before);
}

#[test]
fn attaching_to_a_superseded_run_is_a_conflict() {
    let ledger = Ledger::new();
    ledger.create(REPO, MAIN, "aaaaaaa");
    let old = ledger.claim();
    let new = ledger.create(REPO, MAIN, "bbbbbbb");

    let output = ledger.run(&["attach", &old, "c0ffee04"]);

    assert_refused(&output, CONFLICT, &format!("superseded by {new}"));
    // The container is recorded with a kill request, so it cannot outlive
    // the run unnoticed.
    let run = ledger.json(&["get", &old]);
    assert_eq!(run["container_id"], "c0ffee04");
    assert_eq!(run["kill"]["state"], "requested");
}

#[test]
fn a_kill_that_fails_keeps_the_supersede_and_exits_with_its_own_code() {
    let ledger = Ledger::new();
    ledger.create(REPO, MAIN, "aaaaaaa");
    let old = ledger.claim();
    ledger.ok(&["attach", &old, "c0ffee05"]);
    let engine = ledger.path().join("no-engine.sock");
    let socket = format!("unix://{}", engine.display());

    let output = ledger
        .command()
        .args([
            "--runtime",
            &socket,
            "--json",
            "create",
            REPO,
            MAIN,
            "bbbbbbb",
        ])
        .output()
        .unwrap();

    assert_eq!(output.status.code(), Some(KILL_FAILED));
    let err = common::stderr(&output);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!("killing container c0ffee05 of run {old} failed")),
        "{err}"
    );
    let created: serde_json::Value = serde_json::from_str(&common::stdout(&output)).unwrap();
    assert_eq!(created["superseded"][0]["kill"]["outcome"], "failed");
    let run = ledger.json(&["get", &old]);
    assert_eq!(run["state"], "superseded");
    assert_eq!(run["kill"]["state"], "failed");

    let retry = ledger
        .command()
        .args(["--runtime", &socket, "reconcile"])
        .output()
        .unwrap();

    assert_eq!(retry.status.code(), Some(KILL_FAILED));
    assert!(common::stdout(&retry).contains("kill failed"));
    assert_eq!(ledger.json(&["get", &old])["kill"]["attempts"], 2);
}

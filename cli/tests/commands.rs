//! Every subcommand through the real binary, in both output forms.

mod common;

use common::{Ledger, stdout};
use serde_json::Value;

const REPO: &str = "work/tools.git";
const MAIN: &str = "refs/heads/main";

#[test]
fn create_prints_a_sentence_or_the_created_document() {
    let ledger = Ledger::new();

    let text = ledger.ok(&["create", REPO, MAIN, "4f2a9c1"]);
    let doc = ledger.json(&["create", REPO, MAIN, "4f2a9c2"]);

    assert!(text.starts_with("created run "), "{text}");
    assert!(text.trim_end().ends_with("(pending)"), "{text}");
    assert_eq!(doc["duplicate"], false);
    assert_eq!(doc["run"]["state"], "pending");
    assert_eq!(doc["run"]["repo"], REPO);
    assert_eq!(doc["run"]["ref_name"], MAIN);
    assert_eq!(doc["run"]["group_key"], "work/tools.git:refs/heads/main");
    let superseded = doc["superseded"].as_array().unwrap();
    assert_eq!(superseded.len(), 1);
    assert_eq!(superseded[0]["previous_state"], "pending");
    assert_eq!(superseded[0]["kill"], Value::Null);
}

#[test]
fn create_reports_a_redelivery_and_a_late_push_without_changing_anything() {
    let ledger = Ledger::new();
    let newer = ledger.json(&[
        "create",
        REPO,
        MAIN,
        "bbbbbbb",
        "--pushed-at",
        "2026-05-01T12:00:10Z",
    ]);

    let again = ledger.json(&["create", REPO, MAIN, "BBBBBBB"]);
    let late_text = ledger.ok(&[
        "create",
        REPO,
        MAIN,
        "aaaaaaa",
        "--pushed-at",
        "2026-05-01T12:00:00Z",
    ]);

    let newer_id = newer["run"]["id"].as_str().unwrap();
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["run"]["id"], newer_id);
    assert!(late_text.starts_with("out of order: "), "{late_text}");
    assert!(late_text.contains(newer_id), "{late_text}");
    assert_eq!(ledger.json(&["get", newer_id])["state"], "pending");
    let pending = ledger.json(&["list", "--state", "pending"]);
    assert_eq!(pending["runs"].as_array().unwrap().len(), 1);
}

#[test]
fn create_with_a_group_supersedes_across_refs_of_that_group() {
    let ledger = Ledger::new();
    let first = ledger.ok(&["create", "-q", REPO, MAIN, "aaaaaaa", "--group", "deploy"]);

    let second = ledger.json(&[
        "create",
        REPO,
        "refs/heads/hotfix",
        "bbbbbbb",
        "--group",
        "deploy",
    ]);

    assert_eq!(second["run"]["group_key"], "deploy");
    assert_eq!(second["superseded"][0]["run_id"], first.trim());
}

#[test]
fn get_prints_every_field_or_the_run_document() {
    let ledger = Ledger::new();
    let id = ledger.create(REPO, MAIN, "4f2a9c1");

    let text = ledger.ok(&["get", &id]);
    let doc = ledger.json(&["get", &id]);
    let quiet = ledger.ok(&["get", "--quiet", &id]);

    for field in [
        "id",
        "repo",
        "ref_name",
        "sha",
        "state",
        "queued_at",
        "kill",
    ] {
        assert!(
            text.lines().any(|line| line.starts_with(field)),
            "{field} in {text}"
        );
    }
    assert!(text.contains(&id));
    assert_eq!(doc["id"], id.as_str());
    assert_eq!(doc["sha"], "4f2a9c1");
    assert_eq!(doc["started_at"], Value::Null);
    let keys: Vec<&str> = doc
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "id",
            "repo",
            "ref_name",
            "sha",
            "group_key",
            "state",
            "protected",
            "pushed_at",
            "queued_at",
            "started_at",
            "finished_at",
            "superseded_by",
            "lease_expires_at",
            "container_id",
            "kill"
        ]
    );
    assert_eq!(quiet.trim(), id);
}

#[test]
fn claim_takes_the_oldest_pending_run_and_then_finds_nothing() {
    let ledger = Ledger::new();
    let older = ledger.create(REPO, MAIN, "aaaaaaa");
    let newer = ledger.create(REPO, "refs/heads/dev", "bbbbbbb");

    let first = ledger.json(&["claim"]);
    let second = ledger.ok(&["claim"]);
    let none_text = ledger.ok(&["claim"]);
    let none_json = ledger.json(&["claim"]);
    let none_quiet = ledger.ok(&["claim", "--quiet"]);

    assert_eq!(first["id"], older.as_str());
    assert_eq!(first["state"], "active");
    assert!(first["lease_expires_at"].is_string());
    assert!(
        second.contains(&newer) && second.contains("active"),
        "{second}"
    );
    assert_eq!(none_text.trim(), "no pending run to claim");
    assert_eq!(none_json, Value::Null);
    assert_eq!(none_quiet, "");
}

#[test]
fn claim_filters_by_repository() {
    let ledger = Ledger::new();
    ledger.create(REPO, MAIN, "aaaaaaa");
    let site = ledger.create("work/site.git", MAIN, "bbbbbbb");

    let claimed = ledger.json(&["claim", "--repo", "work/site.git"]);

    assert_eq!(claimed["id"], site.as_str());
}

#[test]
fn transition_moves_a_claimed_run_to_complete() {
    let ledger = Ledger::new();
    ledger.create(REPO, MAIN, "aaaaaaa");
    let id = ledger.claim();

    let text = ledger.ok(&["transition", &id, "--from", "active", "--to", "complete"]);

    assert!(
        text.lines()
            .any(|l| l.starts_with("state") && l.contains("complete")),
        "{text}"
    );
    let doc = ledger.json(&["get", &id]);
    assert_eq!(doc["state"], "complete");
    assert!(doc["finished_at"].is_string());
    assert_eq!(doc["lease_expires_at"], Value::Null);
}

#[test]
fn transition_prints_the_moved_run_as_json() {
    let ledger = Ledger::new();
    let id = ledger.create(REPO, MAIN, "aaaaaaa");

    let doc = ledger.json(&["transition", &id, "--from", "pending", "--to", "failed"]);

    assert_eq!(doc["state"], "failed");
    assert_eq!(doc["started_at"], Value::Null);
}

#[test]
fn attach_records_the_container_and_heartbeat_extends_the_lease() {
    let ledger = Ledger::new();
    ledger.create(REPO, MAIN, "aaaaaaa");
    let id = ledger.claim();
    let lease_before = ledger.json(&["get", &id])["lease_expires_at"].clone();

    let attached = ledger.json(&["attach", &id, "c0ffee01"]);
    let attached_text = ledger.ok(&["attach", &id, "c0ffee01"]);
    std::thread::sleep(std::time::Duration::from_millis(20));
    let beat = ledger.json(&["heartbeat", &id]);
    let beat_text = ledger.ok(&["heartbeat", &id]);

    assert_eq!(attached["container_id"], "c0ffee01");
    assert!(attached_text.contains("c0ffee01"));
    assert!(
        beat["lease_expires_at"].as_str().unwrap() > lease_before.as_str().unwrap(),
        "{beat} renews {lease_before}"
    );
    assert!(beat_text.contains("lease_expires_at"));
}

#[test]
fn cancel_ends_a_live_run_and_records_its_container_kill() {
    let ledger = Ledger::new();
    ledger.create(REPO, MAIN, "aaaaaaa");
    let active = ledger.claim();
    ledger.ok(&["attach", &active, "c0ffee02"]);
    let pending = ledger.create(REPO, "refs/heads/dev", "bbbbbbb");

    let canceled = ledger.json(&["cancel", &active]);
    let text = ledger.ok(&["cancel", &pending]);

    assert_eq!(canceled["state"], "canceled");
    // The record-only runtime leaves the kill requested for the caller.
    assert_eq!(canceled["kill"]["state"], "requested");
    assert!(text.contains("canceled"), "{text}");
}

#[test]
fn list_pages_newest_first_with_filters() {
    let ledger = Ledger::new();
    let first = ledger.create(REPO, MAIN, "aaaaaaa");
    let second = ledger.create(REPO, "refs/heads/dev", "bbbbbbb");
    let third = ledger.create("work/site.git", MAIN, "ccccccc");

    let page = ledger.json(&["list", "--limit", "2"]);
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    let rest = ledger.json(&["list", "--limit", "2", "--cursor", &cursor]);
    let text = ledger.ok(&["list", "--limit", "2"]);
    let quiet = ledger.ok(&["list", "--quiet", "--repo", REPO]);
    let by_ref = ledger.json(&["list", "--ref", MAIN, "--repo", "work/site.git"]);

    let ids = |doc: &Value| -> Vec<String> {
        doc["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(&page), [third.as_str(), second.as_str()]);
    assert_eq!(ids(&rest), [first.as_str()]);
    assert_eq!(rest["next_cursor"], Value::Null);
    assert!(text.starts_with("ID "), "{text}");
    assert!(text.contains(&format!("more: --cursor {cursor}")), "{text}");
    assert_eq!(
        quiet.lines().collect::<Vec<_>>(),
        [second.as_str(), first.as_str()]
    );
    assert_eq!(ids(&by_ref), [third]);
}

#[test]
fn history_lists_each_transition_with_its_reason() {
    let ledger = Ledger::new();
    ledger.create(REPO, MAIN, "aaaaaaa");
    let old = ledger.claim();
    let new = ledger.create(REPO, MAIN, "bbbbbbb");

    let doc = ledger.json(&["history", &old]);
    let text = ledger.ok(&["history", &old]);

    let rows = doc.as_array().unwrap();
    let moves: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|row| {
            (
                row["from"].as_str().unwrap(),
                row["to"].as_str().unwrap(),
                row["reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        moves,
        [
            ("pending", "active", "claimed"),
            ("active", "superseded", "superseded")
        ]
    );
    assert_eq!(rows[1]["superseded_by"], new.as_str());
    assert!(text.contains("claimed") && text.contains(&new), "{text}");
}

#[test]
fn reconcile_fails_runs_whose_lease_expired() {
    let ledger = Ledger::new();
    ledger.create(REPO, MAIN, "aaaaaaa");
    let id = ledger
        .ok(&["--lease-secs", "1", "claim", "-q"])
        .trim()
        .to_owned();
    ledger.ok(&["attach", &id, "c0ffee03"]);

    let nothing_yet = ledger.json(&["reconcile"]);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let text = ledger.ok(&["reconcile"]);

    assert_eq!(
        nothing_yet,
        serde_json::json!({ "orphaned": [], "kills": [] })
    );
    assert!(
        text.contains(&format!("orphaned: run {id} failed")),
        "{text}"
    );
    let run = ledger.json(&["get", &id]);
    assert_eq!(run["state"], "failed");
    let history = ledger.json(&["history", &id]);
    assert_eq!(history[1]["reason"], "orphaned");
}

#[test]
fn prune_deletes_old_finished_runs_beyond_those_kept() {
    let ledger = Ledger::new();
    let old = ledger.create(REPO, MAIN, "aaaaaaa");
    let kept = ledger.create(REPO, MAIN, "bbbbbbb");
    ledger.ok(&["cancel", &kept]);
    let live = ledger.create(REPO, MAIN, "ccccccc");

    let young = ledger.json(&["prune", "--keep", "0", "--older-than", "1d"]);
    // The newest runs of the group count towards those kept, live or not.
    let pruned = ledger.json(&["prune", "--keep", "2", "--older-than", "0s"]);
    let text = ledger.ok(&["prune", "--keep", "0", "--older-than", "0s"]);

    assert_eq!(young, serde_json::json!({ "pruned": [] }));
    assert_eq!(pruned["pruned"].as_array().unwrap().len(), 1);
    assert_eq!(pruned["pruned"][0]["id"], old.as_str());
    assert!(
        text.starts_with("pruned 1 run(s)") && text.contains(&kept),
        "{text}"
    );
    assert_eq!(ledger.ok(&["list", "-q"]).trim(), live);
}

#[test]
fn labels_print_the_container_labels_of_a_run() {
    let ledger = Ledger::new();
    let id = ledger.create(REPO, MAIN, "4f2a9c1");

    let text = ledger.ok(&["labels", &id]);
    let doc = ledger.json(&["labels", &id]);

    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        [
            "runledger.ref=refs/heads/main".to_owned(),
            "runledger.repo=work/tools.git".to_owned(),
            format!("runledger.run-id={id}"),
            "runledger.sha=4f2a9c1".to_owned(),
        ]
    );
    assert_eq!(doc["runledger.run-id"], id.as_str());
    assert_eq!(doc.as_object().unwrap().len(), 4);
}

#[test]
fn states_prints_the_transition_table_in_each_form() {
    let ledger = Ledger::new();

    let text = ledger.ok(&["states"]);
    let doc = ledger.json(&["states"]);
    let mermaid = ledger.ok(&["states", "--mermaid"]);

    assert!(
        text.lines()
            .any(|l| l.starts_with("pending") && l.contains("active, complete"))
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("complete") && l.contains("terminal"))
    );
    let rows = doc["states"].as_array().unwrap();
    assert_eq!(rows.len(), 6);
    assert_eq!(rows[1]["state"], "active");
    assert_eq!(
        rows[1]["may_become"],
        serde_json::json!(["complete", "failed", "superseded", "canceled"])
    );
    assert_eq!(rows[2]["may_become"], serde_json::json!([]));
    assert!(mermaid.starts_with("stateDiagram-v2\n    [*] --> pending\n"));
    assert!(mermaid.contains("    active --> superseded\n"));
    assert!(mermaid.contains("    canceled --> [*]\n"));
    // states needs no ledger file and makes none.
    assert!(!ledger.db().exists());
}

#[test]
fn the_db_comes_from_the_option_then_the_environment_then_the_default() {
    let ledger = Ledger::new();

    ledger.ok(&["--db", "flag.db", "create", REPO, MAIN, "aaaaaaa"]);
    let from_env = ledger
        .command()
        .env("RUNLEDGER_DB", "env.db")
        .args(["create", REPO, MAIN, "bbbbbbb"])
        .output()
        .unwrap();
    ledger.ok(&["create", REPO, MAIN, "ccccccc"]);

    assert!(from_env.status.success());
    assert!(ledger.path().join("flag.db").exists());
    assert!(ledger.path().join("env.db").exists());
    assert!(ledger.db().exists());
    let listed = ledger.ok(&["--db", "env.db", "list", "-q"]);
    assert_eq!(listed.lines().count(), 1);
}

#[test]
fn a_base_directory_gets_a_run_directory_per_run() {
    let ledger = Ledger::new();

    let id = ledger.ok(&["--base-dir", "runs", "create", "-q", REPO, MAIN, "aaaaaaa"]);

    let dir = ledger.path().join("runs").join(REPO).join(id.trim());
    assert!(dir.join("workspace").is_dir(), "{dir:?}");
    assert!(dir.join("logs").is_dir());
}

#[test]
fn protected_refs_from_the_environment_keep_the_active_run() {
    let ledger = Ledger::new();
    let protect = |args: &[&str]| {
        let output = ledger
            .command()
            .env(
                "RUNLEDGER_PROTECTED_REFS",
                "refs/heads/release/*,refs/heads/main",
            )
            .args(args)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", common::stderr(&output));
        serde_json::from_str::<Value>(&stdout(&output)).unwrap()
    };
    protect(&[
        "--json",
        "create",
        REPO,
        "refs/heads/release/1.x",
        "aaaaaaa",
    ]);
    let active = ledger.claim();

    let created = protect(&[
        "--json",
        "create",
        REPO,
        "refs/heads/release/1.x",
        "bbbbbbb",
    ]);

    assert_eq!(created["run"]["protected"], true);
    assert_eq!(created["superseded"], serde_json::json!([]));
    assert_eq!(ledger.json(&["get", &active])["state"], "active");
}

#[test]
fn help_and_version_succeed_on_stdout() {
    let ledger = Ledger::new();

    let help = ledger.ok(&["--help"]);
    let version = ledger.ok(&["--version"]);

    for command in [
        "create",
        "get",
        "claim",
        "transition",
        "attach",
        "heartbeat",
        "cancel",
        "reconcile",
        "list",
        "history",
        "prune",
        "labels",
        "states",
        "demo",
    ] {
        assert!(
            help.contains(&format!("  {command} ")),
            "{command} in {help}"
        );
    }
    assert!(!help.contains("demo-runner"));
    assert!(version.starts_with("runledger "), "{version}");
}

/// The key names of a JSON object, sorted.
fn keys_of(doc: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = doc
        .as_object()
        .unwrap_or_else(|| panic!("an object: {doc}"))
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

#[test]
fn json_documents_have_the_shapes_the_readme_gives() {
    let ledger = Ledger::new();
    let old = ledger.create(REPO, MAIN, "aaaaaaa");
    ledger.claim();
    ledger.ok(&["attach", &old, "c0ffee03"]);

    let created = ledger.json(&["create", REPO, MAIN, "bbbbbbb"]);
    let history = ledger.json(&["history", &old]);
    let page = ledger.json(&["list", "--limit", "1"]);
    // A Docker runtime finishes the kill the record-only create left owed.
    let reconciled = ledger
        .command()
        .env("RUNLEDGER_RUNTIME", "docker")
        .args(["--json", "reconcile"])
        .output()
        .unwrap();

    let kill_keys = ["error", "labelled_run_id", "outcome"];
    assert_eq!(keys_of(&created), ["duplicate", "run", "superseded"]);
    let superseded = &created["superseded"][0];
    assert_eq!(
        keys_of(superseded),
        ["container_id", "kill", "previous_state", "run_id"]
    );
    assert_eq!(keys_of(&superseded["kill"]), kill_keys);
    assert_eq!(superseded["kill"]["outcome"], "recorded");
    assert_eq!(
        keys_of(&history[0]),
        ["at", "from", "reason", "run_id", "superseded_by", "to"]
    );
    assert_eq!(keys_of(&page), ["next_cursor", "runs"]);
    assert_eq!(keys_of(&created["run"]), keys_of(&page["runs"][0]));
    assert_eq!(reconciled.status.code(), Some(common::SUCCESS));
    let reconciled: Value = serde_json::from_str(&stdout(&reconciled)).unwrap();
    assert_eq!(keys_of(&reconciled), ["kills", "orphaned"]);
    let kill = &reconciled["kills"][0];
    assert_eq!(keys_of(kill), ["container_id", "kill", "run_id"]);
    assert_eq!(keys_of(&kill["kill"]), kill_keys);
    assert_eq!(kill["kill"]["outcome"], "done", "no such container is done");
}

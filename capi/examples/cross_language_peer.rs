//! The Rust half of the cross-language test: runs against the same ledger
//! file as the C program `tests/c/cross_language.c`, at the same time, and
//! checks that each side sees the other's runs and supersedes.
//!
//! Usage: `cross_language_peer <ledger.db>`. Prints a summary line and exits
//! non-zero when a check failed.

use std::process::ExitCode;
use std::thread::sleep;
use std::time::{Duration, Instant};

use core::{Config, ListFilter, Push, Run, RunState, Runs, RuntimeConfig};

const SHARED_REPO: &str = "xlang/shared.git";
const MAIN: &str = "refs/heads/main";
const OWN_PUSHES: usize = 20;
const PATIENCE: Duration = Duration::from_secs(60);

/// Polls `repo` until a run satisfies `wanted` or patience runs out.
fn wait_for_run(runs: &Runs, repo: &str, wanted: impl Fn(&[Run]) -> Option<Run>) -> Option<Run> {
    let filter = ListFilter {
        repo: Some(repo.to_owned()),
        ..ListFilter::default()
    };
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline {
        if let Ok(page) = runs.list(&filter, 1000, None) {
            if let Some(run) = wanted(&page.runs) {
                return Some(run);
            }
        }
        sleep(Duration::from_millis(20));
    }
    None
}

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: cross_language_peer <ledger.db>");
        return ExitCode::from(2);
    };
    let config = Config {
        runtime: RuntimeConfig::RecordOnly,
        ..Config::default()
    };
    let runs = match Runs::open_with(&path, config) {
        Ok(runs) => runs,
        Err(error) => {
            eprintln!("rust peer: cannot open {path}: {error}");
            return ExitCode::from(2);
        }
    };
    let mut passed = 0;
    let mut failed = 0;
    let mut check = |ok: bool, what: &str| {
        if ok {
            passed += 1;
        } else {
            failed += 1;
            eprintln!("rust peer: check failed: {what}");
        }
    };

    // Load of our own while the C side writes its own.
    for i in 0..OWN_PUSHES {
        let push = Push::new(
            "xlang/rust.git",
            format!("refs/heads/r{i}"),
            format!("{i:07x}"),
        );
        check(
            runs.create(&push).is_ok(),
            "a create in xlang/rust.git succeeds",
        );
    }

    // The C side's first push, then ours supersedes it.
    let from_c = wait_for_run(&runs, SHARED_REPO, |page| {
        page.iter().find(|run| run.sha == "aaaaaaa").cloned()
    });
    check(
        from_c.is_some(),
        "the C side's push aaaaaaa becomes visible",
    );
    let Some(from_c) = from_c else {
        eprintln!("rust peer: {passed} passed, {failed} failed");
        return ExitCode::FAILURE;
    };
    let created = runs.create(&Push::new(SHARED_REPO, MAIN, "bbbbbbb"));
    let Ok(created) = created else {
        check(false, "the push bbbbbbb is recorded");
        eprintln!("rust peer: {passed} passed, {failed} failed");
        return ExitCode::FAILURE;
    };
    check(
        created.superseded.iter().any(|old| old.run_id == from_c.id),
        "the push bbbbbbb supersedes the C side's run",
    );

    // The C side's next push supersedes ours; we learn it as a runner would.
    let ours = runs.wait_for_change(&created.run.id, RunState::Pending, PATIENCE);
    check(
        ours.as_ref()
            .is_ok_and(|run| run.state == RunState::Superseded),
        "our run is superseded by the C side",
    );
    let replacement = ours
        .ok()
        .and_then(|run| run.superseded_by)
        .and_then(|id| runs.get(&id).ok());
    check(
        replacement.is_some_and(|run| run.sha == "ccccccc"),
        "the run that replaced ours is the C side's ccccccc",
    );

    let all_of_c = wait_for_run(&runs, "xlang/c.git", |page| {
        (page.len() == OWN_PUSHES).then(|| page[0].clone())
    });
    check(
        all_of_c.is_some(),
        "all of the C side's runs become visible",
    );

    println!("rust peer: {passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

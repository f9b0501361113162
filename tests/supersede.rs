//! Create with supersede: the behaviours users of the original supersede
//! rely on, and the guarantees added on top of them.

mod common;

use std::time::Duration;

use common::{Fixture, MAIN, REPO, push, sha};
use jiff::Timestamp;
use runledger::{
    ClaimFilter, Config, Error, KillOutcome, ListFilter, ProtectedRefs, Push, Reason, RunState,
};

#[test]
fn a_pending_run_on_the_same_ref_is_superseded() {
    let fixture = Fixture::new();
    let runs = fixture.open();
    let old = runs.create(&push(MAIN, &sha(1))).unwrap().run;

    let new = runs.create(&push(MAIN, &sha(2))).unwrap();

    let old = runs.get(&old.id).unwrap();
    assert_eq!(old.state, RunState::Superseded);
    assert_eq!(old.superseded_by.as_deref(), Some(new.run.id.as_str()));
    assert!(
        old.started_at.is_none(),
        "superseded while pending, never started"
    );
    assert!(
        old.finished_at.is_some(),
        "a superseded run has its finish time"
    );
    assert_eq!(new.run.state, RunState::Pending);
    assert_eq!(new.superseded.len(), 1);
    assert_eq!(new.superseded[0].run_id, old.id);
    assert_eq!(new.superseded[0].previous_state, RunState::Pending);
}

#[test]
fn an_active_run_on_the_same_ref_is_superseded_and_its_container_reported() {
    let fixture = Fixture::new();
    let runs = fixture.open();
    runs.create(&push(MAIN, &sha(1))).unwrap();
    let active = runs.claim(&ClaimFilter::default()).unwrap().unwrap();
    runs.attach_container(&active.id, "c0ffee").unwrap();

    let new = runs.create(&push(MAIN, &sha(2))).unwrap();

    let old = runs.get(&active.id).unwrap();
    assert_eq!(old.state, RunState::Superseded);
    assert_eq!(old.superseded_by.as_deref(), Some(new.run.id.as_str()));
    assert!(old.lease_expires_at.is_none());
    let report = &new.superseded[0];
    assert_eq!(report.previous_state, RunState::Active);
    assert_eq!(report.container_id.as_deref(), Some("c0ffee"));
    // The record-only runtime leaves the kill requested, for the caller.
    assert_eq!(report.kill, Some(KillOutcome::Recorded));
    assert_eq!(old.kill.unwrap().state, runledger::KillState::Requested);
}

#[test]
fn runs_of_other_refs_and_finished_runs_are_untouched() {
    let fixture = Fixture::new();
    let runs = fixture.open();
    let other_ref = runs.create(&push("refs/heads/dev", &sha(1))).unwrap().run;
    let complete = runs.create(&push(MAIN, &sha(2))).unwrap().run;
    runs.transition(&complete.id, RunState::Pending, RunState::Complete)
        .unwrap();
    let failed = runs.create(&push(MAIN, &sha(3))).unwrap().run;
    runs.transition(&failed.id, RunState::Pending, RunState::Failed)
        .unwrap();
    let other_repo = runs
        .create(&Push::new("work/other.git", MAIN, sha(4)))
        .unwrap()
        .run;

    let new = runs.create(&push(MAIN, &sha(5))).unwrap();

    assert!(new.superseded.is_empty());
    assert_eq!(runs.get(&other_ref.id).unwrap().state, RunState::Pending);
    assert_eq!(runs.get(&complete.id).unwrap().state, RunState::Complete);
    assert_eq!(runs.get(&failed.id).unwrap().state, RunState::Failed);
    assert_eq!(runs.get(&other_repo.id).unwrap().state, RunState::Pending);
}

#[test]
fn pending_and_active_runs_may_be_superseded_by_ordinary_transitions() {
    let fixture = Fixture::new();
    let runs = fixture.open();
    let pending = runs.create(&push(MAIN, &sha(1))).unwrap().run;
    runs.create(&push("refs/heads/dev", &sha(2))).unwrap();
    let active = runs
        .claim(&ClaimFilter {
            group: Some(format!("{REPO}:refs/heads/dev")),
            ..ClaimFilter::default()
        })
        .unwrap()
        .unwrap();

    let pending = runs
        .transition(&pending.id, RunState::Pending, RunState::Superseded)
        .unwrap();
    let active = runs
        .transition(&active.id, RunState::Active, RunState::Superseded)
        .unwrap();

    assert_eq!(pending.state, RunState::Superseded);
    assert!(pending.finished_at.is_some());
    assert_eq!(active.state, RunState::Superseded);
    assert!(active.finished_at.is_some());
}

#[test]
fn a_redelivered_push_returns_the_live_run_as_a_duplicate_and_changes_nothing() {
    let fixture = Fixture::new();
    let runs = fixture.open();
    let first = runs.create(&push(MAIN, "ABCDEF0")).unwrap();

    let again = runs.create(&push(MAIN, "abcdef0")).unwrap();

    assert!(again.duplicate);
    assert!(!first.duplicate);
    assert_eq!(again.run, first.run);
    assert!(again.superseded.is_empty());
    assert_eq!(common::assert_invariants(&fixture.db()), 1);
}

#[test]
fn an_older_push_arriving_late_is_recorded_as_superseded_by_the_newer_run() {
    let fixture = Fixture::new();
    let runs = fixture.open();
    let at = |s: i64| Timestamp::from_second(1_800_000_000 + s).unwrap();
    let newer = runs
        .create(&push(MAIN, &sha(2)).pushed_at(at(20)))
        .unwrap()
        .run;

    let late = runs.create(&push(MAIN, &sha(1)).pushed_at(at(10))).unwrap();

    assert_eq!(late.run.state, RunState::Superseded);
    assert_eq!(late.run.superseded_by.as_deref(), Some(newer.id.as_str()));
    assert!(late.run.started_at.is_none());
    assert!(late.superseded.is_empty());
    assert_eq!(runs.get(&newer.id).unwrap().state, RunState::Pending);
    let history = runs.history(&late.run.id).unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].reason, Reason::OutOfOrder);
    assert_eq!(history[0].from, None);
}

#[test]
fn a_protected_ref_keeps_its_active_run_and_replaces_only_the_pending_one() {
    let fixture = Fixture::new();
    let runs = fixture.open_with(Config {
        protected_refs: ProtectedRefs::new(["refs/heads/main", "refs/heads/release/*"]),
        ..Config::default()
    });
    runs.create(&push(MAIN, &sha(1))).unwrap();
    let active = runs.claim(&ClaimFilter::default()).unwrap().unwrap();
    let pending = runs.create(&push(MAIN, &sha(2))).unwrap().run;

    let newest = runs.create(&push(MAIN, &sha(3))).unwrap();

    assert_eq!(runs.get(&active.id).unwrap().state, RunState::Active);
    assert_eq!(runs.get(&pending.id).unwrap().state, RunState::Superseded);
    assert_eq!(newest.superseded.len(), 1);
    assert_eq!(newest.superseded[0].run_id, pending.id);
    // The next run of the ref waits until the active one ends.
    assert_eq!(runs.claim(&ClaimFilter::default()).unwrap(), None);
    runs.transition(&active.id, RunState::Active, RunState::Complete)
        .unwrap();
    let next = runs.claim(&ClaimFilter::default()).unwrap().unwrap();
    assert_eq!(next.id, newest.run.id);
    assert!(next.protected);
}

#[test]
fn a_runner_whose_run_was_superseded_gets_a_conflict_naming_superseded() {
    let fixture = Fixture::new();
    let runs = fixture.open();
    runs.create(&push(MAIN, &sha(1))).unwrap();
    let mine = runs.claim(&ClaimFilter::default()).unwrap().unwrap();
    runs.create(&push(MAIN, &sha(2))).unwrap();

    let finish = runs.transition(&mine.id, RunState::Active, RunState::Complete);
    let heartbeat = runs.heartbeat(&mine.id);

    for result in [finish, heartbeat] {
        assert!(
            matches!(
                result,
                Err(Error::Conflict {
                    actual: RunState::Superseded,
                    ..
                })
            ),
            "{result:?}"
        );
    }
}

#[test]
fn an_explicit_group_supersedes_across_refs_and_nothing_else() {
    let fixture = Fixture::new();
    let runs = fixture.open();
    let a = runs
        .create(&push("refs/heads/a", &sha(1)).group("deploy-production"))
        .unwrap()
        .run;
    let untouched = runs.create(&push("refs/heads/a", &sha(2))).unwrap().run;

    let b = runs
        .create(&push("refs/heads/b", &sha(3)).group("deploy-production"))
        .unwrap();

    assert_eq!(b.superseded.len(), 1);
    assert_eq!(b.superseded[0].run_id, a.id);
    assert_eq!(runs.get(&untouched.id).unwrap().state, RunState::Pending);
}

#[test]
fn claim_filters_by_repo_and_group_and_takes_the_oldest() {
    let fixture = Fixture::new();
    let runs = fixture.open();
    let first = runs.create(&push("refs/heads/a", &sha(1))).unwrap().run;
    let second = runs.create(&push("refs/heads/b", &sha(2))).unwrap().run;
    let elsewhere = runs
        .create(&Push::new("work/other.git", MAIN, sha(3)))
        .unwrap()
        .run;

    let by_repo = runs
        .claim(&ClaimFilter {
            repo: Some("work/other.git".into()),
            ..ClaimFilter::default()
        })
        .unwrap()
        .unwrap();
    let oldest = runs.claim(&ClaimFilter::default()).unwrap().unwrap();
    let by_group = runs
        .claim(&ClaimFilter {
            group: Some(second.group_key.clone()),
            ..ClaimFilter::default()
        })
        .unwrap()
        .unwrap();

    assert_eq!(by_repo.id, elsewhere.id);
    assert_eq!(oldest.id, first.id);
    assert_eq!(by_group.id, second.id);
    assert_eq!(runs.claim(&ClaimFilter::default()).unwrap(), None);
}

#[test]
fn reconcile_fails_runs_whose_lease_expired_and_leaves_live_leases_and_pending_runs() {
    let fixture = Fixture::new();
    let short = fixture.open_with(Config {
        lease: Duration::from_millis(50),
        ..Config::default()
    });
    let long = fixture.open_with(Config {
        lease: Duration::from_secs(600),
        ..Config::default()
    });
    short.create(&push("refs/heads/a", &sha(1))).unwrap();
    long.create(&push("refs/heads/b", &sha(2))).unwrap();
    let pending = long.create(&push("refs/heads/c", &sha(3))).unwrap().run;
    let expiring = short.claim(&ClaimFilter::default()).unwrap().unwrap();
    let alive = long.claim(&ClaimFilter::default()).unwrap().unwrap();
    std::thread::sleep(Duration::from_millis(120));

    let report = long.reconcile().unwrap();

    assert_eq!(report.orphaned, vec![expiring.id.clone()]);
    assert_eq!(long.get(&expiring.id).unwrap().state, RunState::Failed);
    assert_eq!(long.get(&alive.id).unwrap().state, RunState::Active);
    assert_eq!(long.get(&pending.id).unwrap().state, RunState::Pending);
    let reasons: Vec<Reason> = long
        .history(&expiring.id)
        .unwrap()
        .iter()
        .map(|entry| entry.reason)
        .collect();
    assert_eq!(reasons, vec![Reason::Claimed, Reason::Orphaned]);
    assert!(
        long.reconcile().unwrap().orphaned.is_empty(),
        "reconcile is idempotent"
    );
}

#[test]
fn a_heartbeat_keeps_a_run_from_being_orphaned() {
    let fixture = Fixture::new();
    let runs = fixture.open_with(Config {
        lease: Duration::from_millis(300),
        ..Config::default()
    });
    runs.create(&push(MAIN, &sha(1))).unwrap();
    let run = runs.claim(&ClaimFilter::default()).unwrap().unwrap();

    for _ in 0..4 {
        std::thread::sleep(Duration::from_millis(100));
        runs.heartbeat(&run.id).unwrap();
    }

    assert!(runs.reconcile().unwrap().orphaned.is_empty());
    assert_eq!(runs.get(&run.id).unwrap().state, RunState::Active);
}

#[test]
fn cancel_ends_a_live_run_and_conflicts_on_a_finished_one() {
    let fixture = Fixture::new();
    let runs = fixture.open();
    let run = runs.create(&push(MAIN, &sha(1))).unwrap().run;

    let canceled = runs.cancel(&run.id).unwrap();
    let again = runs.cancel(&run.id);

    assert_eq!(canceled.state, RunState::Canceled);
    assert!(matches!(
        again,
        Err(Error::Conflict {
            actual: RunState::Canceled,
            ..
        })
    ));
    assert_eq!(runs.history(&run.id).unwrap()[0].reason, Reason::Canceled);
}

#[test]
fn list_pages_through_runs_newest_first_with_filters() {
    let fixture = Fixture::new();
    let runs = fixture.open();
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(
            runs.create(&push(&format!("refs/heads/b{n}"), &sha(n)))
                .unwrap()
                .run
                .id,
        );
    }
    runs.create(&Push::new("work/other.git", MAIN, sha(9)))
        .unwrap();

    let filter = ListFilter {
        repo: Some(REPO.into()),
        ..ListFilter::default()
    };
    let first = runs.list(&filter, 2, None).unwrap();
    let second = runs.list(&filter, 2, first.next_cursor.as_deref()).unwrap();
    let third = runs
        .list(&filter, 2, second.next_cursor.as_deref())
        .unwrap();

    let listed: Vec<String> = [first.runs, second.runs, third.runs]
        .concat()
        .into_iter()
        .map(|run| run.id)
        .collect();
    ids.reverse();
    assert_eq!(listed, ids);
    assert_eq!(third.next_cursor, None);
    assert!(runs.list(&ListFilter::default(), 0, None).is_err());
}

#[test]
fn prune_keeps_the_newest_runs_of_each_group_and_every_live_run() {
    let fixture = Fixture::new();
    let base = fixture.dir.path().join("runs");
    let runs = fixture.open_with(Config {
        base_dir: Some(base.clone()),
        ..Config::default()
    });
    let mut made = Vec::new();
    for n in 0..5 {
        made.push(runs.create(&push(MAIN, &sha(n))).unwrap().run);
    }
    let live = made.last().unwrap().clone();
    assert!(runs.run_dir(&made[0]).unwrap().join("workspace").is_dir());
    std::thread::sleep(Duration::from_millis(20));

    let pruned = runs.prune(2, Duration::from_millis(10)).unwrap();

    let pruned_ids: Vec<&str> = pruned.iter().map(|run| run.id.as_str()).collect();
    let expected: Vec<&str> = made[..3].iter().rev().map(|run| run.id.as_str()).collect();
    let mut sorted = pruned_ids.clone();
    sorted.sort_unstable();
    let mut expected_sorted = expected.clone();
    expected_sorted.sort_unstable();
    assert_eq!(sorted, expected_sorted);
    assert!(matches!(runs.get(&made[0].id), Err(Error::NotFound { .. })));
    assert!(
        !runs.run_dir(&made[0]).unwrap().exists(),
        "its directory went with it"
    );
    assert_eq!(runs.get(&live.id).unwrap().state, RunState::Pending);
    assert!(runs.run_dir(&live).unwrap().join("logs").is_dir());
    assert!(runs.prune(0, Duration::from_secs(3600)).unwrap().is_empty());
}

#[test]
fn a_repo_name_that_would_escape_the_base_directory_is_refused_and_nothing_is_written() {
    let fixture = Fixture::new();
    let base = fixture.dir.path().join("runs");
    let runs = fixture.open_with(Config {
        base_dir: Some(base.clone()),
        ..Config::default()
    });

    for repo in ["../escape", "/etc/passwd", "a/../../b", "a//b", "", "a\0b"] {
        let result = runs.create(&Push::new(repo, MAIN, sha(1)));
        assert!(
            matches!(result, Err(Error::InvalidInput { field: "repo", .. })),
            "{repo:?}: {result:?}"
        );
    }

    assert_eq!(common::assert_invariants(&fixture.db()), 0);
    assert!(!fixture.dir.path().join("escape").exists());
}

#[test]
fn a_symbolic_link_below_the_base_directory_is_not_followed() {
    let fixture = Fixture::new();
    let base = fixture.dir.path().join("runs");
    let outside = fixture.dir.path().join("outside");
    std::fs::create_dir_all(&base).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, base.join("work")).unwrap();
    let runs = fixture.open_with(Config {
        base_dir: Some(base),
        ..Config::default()
    });

    let result = runs.create(&push(MAIN, &sha(1)));

    assert!(
        matches!(result, Err(Error::RunDirectory { .. })),
        "{result:?}"
    );
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
    assert_eq!(
        common::assert_invariants(&fixture.db()),
        0,
        "the insert rolled back"
    );
}

#[test]
fn bad_input_is_refused_before_anything_is_written() {
    let fixture = Fixture::new();
    let runs = fixture.open();

    let refused = [
        runs.create(&push("main", &sha(1))).err(),
        runs.create(&push(MAIN, "not-hex")).err(),
        runs.create(&push(MAIN, "abc")).err(),
        runs.create(&push(&format!("refs/heads/{}", "x".repeat(300)), &sha(1)))
            .err(),
        runs.create(&push(MAIN, &sha(1)).group("")).err(),
        runs.get("not-a-run-id").err(),
        runs.transition("nope", RunState::Pending, RunState::Active)
            .err(),
    ];

    for err in refused {
        assert!(matches!(err, Some(Error::InvalidInput { .. })), "{err:?}");
    }
    assert_eq!(common::assert_invariants(&fixture.db()), 0);
    let missing = runs.get("0190a5c4-7b1e-7cc2-8a51-6a3d2f1e9b10");
    assert!(matches!(missing, Err(Error::NotFound { .. })));
}

#[test]
fn wait_for_change_returns_when_another_handle_moves_the_run() {
    let fixture = Fixture::new();
    let runs = fixture.open();
    let run = runs.create(&push(MAIN, &sha(1))).unwrap().run;
    let other = fixture.open();
    let id = run.id.clone();
    let mover = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        other.cancel(&id).unwrap();
    });

    let seen = runs
        .wait_for_change(&run.id, RunState::Pending, Duration::from_secs(10))
        .unwrap();
    mover.join().unwrap();
    let unchanged = runs
        .wait_for_change(&run.id, RunState::Canceled, Duration::from_millis(50))
        .unwrap();

    assert_eq!(seen.state, RunState::Canceled);
    assert_eq!(unchanged.state, RunState::Canceled);
}

#[test]
fn prune_keeps_a_run_whose_container_kill_is_still_owed() {
    let fixture = Fixture::new();
    let runs = fixture.open();
    runs.create(&push(MAIN, &sha(1))).unwrap();
    let owed = runs.claim(&ClaimFilter::default()).unwrap().unwrap();
    runs.attach_container(&owed.id, "still-running").unwrap();
    let newer = runs.create(&push(MAIN, &sha(2))).unwrap().run;
    runs.transition(&newer.id, RunState::Pending, RunState::Complete)
        .unwrap();
    std::thread::sleep(Duration::from_millis(5));

    let pruned = runs.prune(0, Duration::ZERO).unwrap();

    let pruned_ids: Vec<&str> = pruned.iter().map(|run| run.id.as_str()).collect();
    assert_eq!(pruned_ids, vec![newer.id.as_str()]);
    let kept = runs.get(&owed.id).unwrap();
    assert_eq!(kept.kill.unwrap().state, runledger::KillState::Requested);
}

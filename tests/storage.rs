//! The file itself: schema versions, foreign files, and the guarantees that
//! live in the schema rather than in code.

mod common;

use std::collections::HashSet;
use std::sync::Arc;

use common::{Fixture, MAIN, push, sha};
use runledger::{ClaimFilter, Error, Runs, SCHEMA_VERSION};

#[test]
fn a_file_written_by_a_newer_version_is_refused_and_left_alone() {
    let fixture = Fixture::new();
    drop(fixture.open());
    common::raw(&fixture.db())
        .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();

    let err = Runs::open(fixture.db()).unwrap_err();

    assert!(
        matches!(
            err,
            Error::SchemaTooNew { found, supported, .. }
                if found == SCHEMA_VERSION + 1 && supported == SCHEMA_VERSION
        ),
        "{err}"
    );
    assert!(err.to_string().contains("upgrade runledger"), "{err}");
    let version: i64 = common::raw(&fixture.db())
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION + 1);
}

#[test]
fn a_file_that_is_not_a_database_is_refused_and_left_alone() {
    let fixture = Fixture::new();
    let text = b"this is a build log, not a database\n".repeat(200);
    std::fs::write(fixture.db(), &text).unwrap();

    let err = Runs::open(fixture.db()).unwrap_err();

    assert!(matches!(err, Error::NotADatabase { .. }), "{err}");
    assert_eq!(std::fs::read(fixture.db()).unwrap(), text);
}

#[test]
fn a_database_of_another_application_is_refused() {
    let fixture = Fixture::new();
    common::raw(&fixture.db())
        .execute_batch("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
        .unwrap();

    let err = Runs::open(fixture.db()).unwrap_err();

    assert!(matches!(err, Error::NotADatabase { .. }), "{err}");
}

#[test]
fn the_schema_makes_a_second_live_run_in_a_group_impossible() {
    let fixture = Fixture::new();
    let runs = fixture.open();
    let live = runs.create(&push(MAIN, &sha(1))).unwrap().run;
    let raw = common::raw(&fixture.db());

    let second = raw.execute(
        "INSERT INTO runs (id, repo, ref_name, sha, group_key, state, pushed_at, queued_at) \
         VALUES ('x', ?1, ?2, 'abcdef0', ?3, 'pending', 0, 0)",
        [&live.repo, &live.ref_name, &live.group_key],
    );

    assert!(second.unwrap_err().to_string().contains("UNIQUE"));
}

#[test]
fn an_existing_file_opens_again_with_its_runs() {
    let fixture = Fixture::new();
    let id = fixture.open().create(&push(MAIN, &sha(1))).unwrap().run.id;

    let reopened = Runs::open(fixture.db()).unwrap();

    assert_eq!(reopened.get(&id).unwrap().sha, sha(1));
    let mode: String = common::raw(&fixture.db())
        .pragma_query_value(None, "journal_mode", |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn claim_never_hands_one_run_to_two_claimers() {
    let fixture = Fixture::new();
    let runs = fixture.open();
    for n in 0..200 {
        runs.create(&push(&format!("refs/heads/b{n}"), &sha(n)))
            .unwrap();
    }

    // Each claimer has its own handle, so only SQLite's lock stands between
    // them, as between processes; two more share one handle.
    let shared = Arc::new(fixture.open());
    let claimers: Vec<_> = (0..8)
        .map(|n| {
            let runs = if n < 6 {
                Arc::new(fixture.open())
            } else {
                Arc::clone(&shared)
            };
            std::thread::spawn(move || {
                let mut mine = Vec::new();
                while let Some(run) = runs.claim(&ClaimFilter::default()).unwrap() {
                    mine.push(run.id);
                }
                mine
            })
        })
        .collect();
    let claimed: Vec<String> = claimers
        .into_iter()
        .flat_map(|claimer| claimer.join().unwrap())
        .collect();

    let distinct: HashSet<&String> = claimed.iter().collect();
    assert_eq!(claimed.len(), 200);
    assert_eq!(distinct.len(), 200);
}

#[test]
fn the_handle_is_send_and_sync() {
    fn shareable<T: Send + Sync>() {}

    shareable::<Runs>();
}

#[test]
fn settings_that_could_only_fail_later_are_refused_at_open() {
    use std::time::Duration;

    use runledger::{Config, KillConfig, ProtectedRefs};
    let fixture = Fixture::new();
    let kill = |signal: &str, grace: Option<u64>, timeout: u64| Config {
        kill: KillConfig {
            signal: signal.into(),
            grace: grace.map(Duration::from_millis),
            timeout: Duration::from_millis(timeout),
        },
        ..Config::default()
    };

    let refused = [
        ("kill_signal", kill("", None, 1000)),
        ("kill_signal", kill("TERM; rm", None, 1000)),
        ("kill_signal", kill("99", None, 1000)),
        ("kill_timeout", kill("SIGKILL", None, 0)),
        ("kill_grace", kill("SIGTERM", Some(2000), 1000)),
        (
            "protected_refs",
            Config {
                protected_refs: ProtectedRefs::new(["main"]),
                ..Config::default()
            },
        ),
        (
            "lease",
            Config {
                lease: Duration::ZERO,
                ..Config::default()
            },
        ),
    ];

    for (field, config) in refused {
        let err = Runs::open_with(fixture.db(), config).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidInput { field: f, .. } if *f == field),
            "{field}: {err}"
        );
    }
    assert!(!fixture.db().exists(), "a refused open created the file");
    assert!(Runs::open_with(fixture.db(), kill("SIGTERM", Some(500), 1000)).is_ok());
    assert!(Runs::open_with(fixture.db(), kill("15", None, 1000)).is_ok());
}

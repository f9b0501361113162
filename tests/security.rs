//! What no caller may make the ledger do: run input as SQL, write outside
//! the base directory, kill another run's container, create files other
//! users can write, or log a secret.
//!
//! This test binary has its own main: the file-mode check re-runs it under
//! `umask 000` and `umask 022` (the umask belongs to the whole process, so it
//! cannot change under the threads of a normal test binary), and the logging
//! check installs a global log collector.

mod common;
#[path = "support/fake_engine.rs"]
mod fake_engine;

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Fixture, MAIN, sha};
use fake_engine::{Behaviour, FakeEngine};
use runledger::{
    ClaimFilter, Config, Error, KillConfig, KillOutcome, ListFilter, Push, RunState, Runs,
    RuntimeConfig,
};
use tracing_subscriber::layer::SubscriberExt;

/// One named check of this binary.
type Check = Box<dyn Fn()>;

fn main() {
    if let Ok(dir) = std::env::var("RUNLEDGER_SECURITY_MAKE_FILES") {
        make_files_and_report_modes(Path::new(&dir));
        return;
    }
    let logs = install_log_collector();
    let checks: [(&str, Check); 7] = [
        (
            "hostile_strings_are_stored_and_matched_as_data_never_as_sql",
            Box::new(hostile_strings_are_stored_and_matched_as_data_never_as_sql),
        ),
        (
            "a_symlink_planted_below_the_base_cannot_redirect_a_run_directory",
            Box::new(a_symlink_planted_below_the_base_cannot_redirect_a_run_directory),
        ),
        (
            "prune_never_deletes_through_a_symlink_planted_after_the_run_was_made",
            Box::new(prune_never_deletes_through_a_symlink_planted_after_the_run_was_made),
        ),
        (
            "repo_names_that_would_leave_the_base_are_refused_before_anything_is_written",
            Box::new(repo_names_that_would_leave_the_base_are_refused_before_anything_is_written),
        ),
        (
            "containers_labelled_with_another_run_are_never_sent_a_kill",
            Box::new(containers_labelled_with_another_run_are_never_sent_a_kill),
        ),
        (
            "created_files_and_directories_are_not_writable_by_others_under_any_umask",
            Box::new(created_files_and_directories_are_not_writable_by_others_under_any_umask),
        ),
        (
            "logs_carry_only_operational_fields_and_no_secret",
            Box::new(move || logs_carry_only_operational_fields_and_no_secret(&logs)),
        ),
    ];
    let mut failed = 0;
    for (name, check) in &checks {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(check)) {
            Ok(()) => println!("test {name} ... ok"),
            Err(_) => {
                println!("test {name} ... FAILED");
                failed += 1;
            }
        }
    }
    println!(
        "security: {} passed, {failed} failed",
        checks.len() - failed
    );
    if failed > 0 {
        std::process::exit(1);
    }
}

const HOSTILE: [&str; 4] = [
    "'; DROP TABLE runs; --",
    "x' OR '1'='1",
    "%",
    "\"); DELETE FROM run_history; --",
];

fn hostile_strings_are_stored_and_matched_as_data_never_as_sql() {
    let fixture = Fixture::new();
    let runs = fixture.open();
    let plain = runs
        .create(&Push::new("work/plain.git", MAIN, sha(1)))
        .unwrap()
        .run;
    let mut hostile_ids = Vec::new();
    for (n, text) in HOSTILE.iter().enumerate() {
        let repo = format!("work/{text}");
        let ref_name = format!("refs/heads/{}", text.replace([' ', '\''], "_"));
        let push = Push::new(repo.clone(), ref_name.clone(), sha(10 + n as u32)).group(*text);

        let created = runs.create(&push).unwrap().run;

        assert_eq!(
            (created.repo.as_str(), created.group_key.as_str()),
            (repo.as_str(), *text)
        );
        let got = runs.get(&created.id).unwrap();
        assert_eq!(
            (got.repo, got.ref_name, got.group_key),
            (repo.clone(), ref_name, (*text).to_owned())
        );
        let by_repo = runs
            .list(
                &ListFilter {
                    repo: Some(repo),
                    ..ListFilter::default()
                },
                10,
                None,
            )
            .unwrap()
            .runs;
        assert_eq!(
            by_repo.len(),
            1,
            "a hostile repo filter matched {by_repo:?}"
        );
        let claimed = runs
            .claim(&ClaimFilter {
                group: Some((*text).to_owned()),
                ..ClaimFilter::default()
            })
            .unwrap()
            .unwrap();
        assert_eq!(claimed.id, created.id);
        hostile_ids.push(created.id);
    }

    // "%" is a wildcard to LIKE: as a filter it must match only itself.
    let percent = runs
        .list(
            &ListFilter {
                group: Some("%".into()),
                ..ListFilter::default()
            },
            10,
            None,
        )
        .unwrap()
        .runs;
    assert_eq!(percent.len(), 1);
    assert_eq!(runs.get(&plain.id).unwrap().state, RunState::Pending);
    let raw = common::raw(&fixture.db());
    let tables: i64 = raw
        .query_row(
            "SELECT count(*) FROM sqlite_schema \
             WHERE type = 'table' AND name IN ('runs', 'run_history')",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(tables, 2, "a table was dropped");
    let history: i64 = raw
        .query_row("SELECT count(*) FROM run_history", [], |row| row.get(0))
        .unwrap();
    assert_eq!(history, HOSTILE.len() as i64, "history rows were deleted");
    assert_eq!(
        common::assert_invariants(&fixture.db()),
        1 + HOSTILE.len() as i64
    );
}

fn ledger_with_base(fixture: &Fixture, base: &Path) -> Runs {
    fixture.open_with(Config {
        base_dir: Some(base.to_path_buf()),
        ..Config::default()
    })
}

fn entries_below(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(next) = stack.pop() {
        for entry in std::fs::read_dir(&next).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() && !path.is_symlink() {
                stack.push(path.clone());
            }
            found.push(path);
        }
    }
    found
}

fn a_symlink_planted_below_the_base_cannot_redirect_a_run_directory() {
    let fixture = Fixture::new();
    let base = fixture.dir.path().join("runs");
    let outside = fixture.dir.path().join("outside");
    std::fs::create_dir_all(base.join("deep/org")).unwrap();
    std::fs::create_dir(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, base.join("work")).unwrap();
    std::os::unix::fs::symlink(&outside, base.join("deep/org/tools.git")).unwrap();
    let runs = ledger_with_base(&fixture, &base);

    for repo in [
        "work/tools.git",
        "work",
        "deep/org/tools.git",
        "deep/org/tools.git/sub",
    ] {
        let err = runs.create(&Push::new(repo, MAIN, sha(1))).unwrap_err();

        assert!(
            matches!(&err, Error::RunDirectory { .. }) && err.to_string().contains("symbolic link"),
            "{repo}: {err:?}"
        );
    }
    assert!(
        entries_below(&outside).is_empty(),
        "something was written through a link"
    );
    assert_eq!(
        runs.list(&ListFilter::default(), 10, None)
            .unwrap()
            .runs
            .len(),
        0,
        "a refused create left a run"
    );
    let fine = runs
        .create(&Push::new("deep/org/other.git", MAIN, sha(2)))
        .unwrap()
        .run;
    assert!(runs.run_dir(&fine).unwrap().starts_with(&base));
    assert!(runs.run_dir(&fine).unwrap().join("workspace").is_dir());
}

fn prune_never_deletes_through_a_symlink_planted_after_the_run_was_made() {
    let fixture = Fixture::new();
    let base = fixture.dir.path().join("runs");
    let outside = fixture.dir.path().join("outside");
    let runs = ledger_with_base(&fixture, &base);
    let run = runs
        .create(&Push::new("org/victim.git", MAIN, sha(1)))
        .unwrap()
        .run;
    runs.transition(&run.id, RunState::Pending, RunState::Complete)
        .unwrap();
    // Someone who can write below the base swaps the repository's directory
    // for a link to a tree of theirs holding a directory of the same name.
    std::fs::create_dir_all(outside.join(&run.id)).unwrap();
    std::fs::write(outside.join(&run.id).join("precious"), "keep me").unwrap();
    std::fs::remove_dir_all(base.join("org/victim.git")).unwrap();
    std::os::unix::fs::symlink(&outside, base.join("org/victim.git")).unwrap();
    // Prune takes runs finished strictly before now.
    std::thread::sleep(Duration::from_millis(5));

    let pruned = runs.prune(0, Duration::ZERO).unwrap();

    assert_eq!(pruned.len(), 1, "the finished run's row goes");
    assert!(
        outside.join(&run.id).join("precious").is_file(),
        "prune deleted through a link"
    );
}

fn repo_names_that_would_leave_the_base_are_refused_before_anything_is_written() {
    let fixture = Fixture::new();
    let base = fixture.dir.path().join("runs");
    let runs = ledger_with_base(&fixture, &base);

    for repo in [
        "../escape",
        "/etc",
        "a/../../escape",
        "a//b",
        "./a",
        "a\\..\\b",
        "a\0b",
        "",
    ] {
        let err = runs.create(&Push::new(repo, MAIN, sha(1))).unwrap_err();

        assert!(
            matches!(&err, Error::InvalidInput { field: "repo", .. }),
            "{repo:?}: {err:?}"
        );
    }
    assert!(!fixture.dir.path().join("escape").exists());
    assert!(!base.exists() || entries_below(&base).is_empty());
    assert_eq!(common::assert_invariants(&fixture.db()), 0);
}

const OTHER_RUN: &str = "0190a5c4-7b1e-7cc2-8a51-6a3d2f1e9b10";

fn containers_labelled_with_another_run_are_never_sent_a_kill() {
    let fixture = Fixture::new();
    let engine = FakeEngine::start(&fixture.dir.path().join("docker.sock"), Behaviour::Healthy);
    let runs = Runs::open_with(
        fixture.db(),
        Config {
            runtime: RuntimeConfig::DockerAt(engine.host()),
            kill: KillConfig {
                timeout: Duration::from_secs(5),
                ..KillConfig::default()
            },
            ..Config::default()
        },
    )
    .unwrap();
    runs.create(&common::push(MAIN, &sha(1))).unwrap();
    let old = runs.claim(&ClaimFilter::default()).unwrap().unwrap();
    engine.add("borrowed", Some(OTHER_RUN));
    runs.attach_container(&old.id, "borrowed").unwrap();
    // Running containers reconcile will see: one of a run this ledger does
    // not hold, one of a live run.
    engine.add("foreign", Some(OTHER_RUN));
    let newer = runs.create(&common::push(MAIN, &sha(2))).unwrap();
    let live = runs.claim(&ClaimFilter::default()).unwrap().unwrap();
    engine.add("live", Some(&live.id));

    let report = runs.reconcile().unwrap();

    assert_eq!(
        newer.superseded[0].kill,
        Some(KillOutcome::Refused {
            labelled_run_id: OTHER_RUN.into()
        })
    );
    assert!(report.kills.is_empty(), "{report:?}");
    assert_eq!(
        engine.kills(),
        Vec::<String>::new(),
        "the engine was asked to kill"
    );
    for container in ["borrowed", "foreign", "live"] {
        assert!(engine.running(container), "{container} was stopped");
    }
}

/// Child side of the file-mode check: makes a ledger with a run directory
/// and, while the handle is open (so -wal and -shm exist), writes the mode
/// of every file and directory it made to `dir/modes`.
fn make_files_and_report_modes(dir: &Path) {
    let db = dir.join("ledger.db");
    let base = dir.join("runs");
    let runs = Runs::open_with(
        &db,
        Config {
            runtime: RuntimeConfig::RecordOnly,
            base_dir: Some(base.clone()),
            ..Config::default()
        },
    )
    .unwrap();
    let run = runs
        .create(&Push::new("work/tools.git", MAIN, sha(1)))
        .unwrap()
        .run;
    let run_dir = runs.run_dir(&run).unwrap();
    let mut made = vec![
        db.clone(),
        PathBuf::from(format!("{}-wal", db.display())),
        PathBuf::from(format!("{}-shm", db.display())),
        base.clone(),
    ];
    made.extend(entries_below(&base));
    assert!(made.contains(&run_dir.join("logs")));
    let lines: Vec<String> = made
        .iter()
        .map(|path| {
            let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o7777;
            format!("{mode:o} {}", path.display())
        })
        .collect();
    std::fs::write(dir.join("modes"), lines.join("\n")).unwrap();
}

fn created_files_and_directories_are_not_writable_by_others_under_any_umask() {
    let me = std::env::current_exe().unwrap();
    for umask in ["000", "022"] {
        let dir = tempfile::tempdir().unwrap();
        let status = Command::new("sh")
            .args([
                "-c",
                &format!("umask {umask} && exec \"$0\""),
                &me.display().to_string(),
            ])
            .env("RUNLEDGER_SECURITY_MAKE_FILES", dir.path())
            .status()
            .unwrap();
        assert!(status.success(), "the child under umask {umask} failed");

        let modes = std::fs::read_to_string(dir.path().join("modes")).unwrap();
        let writable: Vec<&str> = modes
            .lines()
            .filter(|line| {
                let mode = u32::from_str_radix(line.split(' ').next().unwrap(), 8).unwrap();
                mode & 0o022 != 0
            })
            .collect();
        println!("security: under umask {umask}:\n{modes}");
        assert!(
            modes.lines().count() >= 8,
            "too few files were checked: {modes}"
        );
        assert!(
            writable.is_empty(),
            "under umask {umask} group or others may write: {writable:#?}"
        );
    }
}

/// Every event the library logs, as `field=value` strings, per event.
type Logged = Arc<Mutex<Vec<Vec<(String, String)>>>>;

struct Collector(Logged);

struct Fields(Vec<(String, String)>);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push((field.name().to_owned(), format!("{value:?}")));
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Collector {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        let mut fields = Fields(Vec::new());
        event.record(&mut fields);
        self.0.lock().unwrap().push(fields.0);
    }
}

fn install_log_collector() -> Logged {
    let logged = Logged::default();
    let subscriber = tracing_subscriber::registry().with(Collector(Arc::clone(&logged)));
    tracing::subscriber::set_global_default(subscriber).expect("install the log collector");
    logged
}

/// Planted where a careless log line would pick it up: in the environment,
/// and in a label of a container the library inspects.
const SECRET: &str = "s3cr3t-t0ken-value-e4b1";

fn logs_carry_only_operational_fields_and_no_secret(logged: &Logged) {
    // SAFETY: this binary runs its checks one after another on one thread,
    // so nothing reads the environment while it changes.
    unsafe {
        std::env::set_var("RUNLEDGER_TOKEN", SECRET);
        std::env::set_var("GITHUB_TOKEN", SECRET);
    }
    let fixture = Fixture::new();
    let engine = FakeEngine::start(&fixture.dir.path().join("docker.sock"), Behaviour::Healthy);
    let runs = Runs::open_with(
        fixture.db(),
        Config {
            runtime: RuntimeConfig::DockerAt(engine.host()),
            lease: Duration::from_millis(50),
            ..Config::default()
        },
    )
    .unwrap();
    logged.lock().unwrap().clear();
    runs.create(&common::push(MAIN, &sha(1))).unwrap();
    let old = runs.claim(&ClaimFilter::default()).unwrap().unwrap();
    engine.add_labelled("c1", Some(&old.id), &[("ci.token", SECRET)]);
    runs.attach_container(&old.id, "c1").unwrap();
    runs.create(&common::push(MAIN, &sha(2))).unwrap();
    let orphan = runs.claim(&ClaimFilter::default()).unwrap().unwrap();
    engine.add_labelled("c2", Some(OTHER_RUN), &[("ci.token", SECRET)]);
    runs.attach_container(&orphan.id, "c2").unwrap();
    std::thread::sleep(Duration::from_millis(100));
    runs.reconcile().unwrap();
    engine.set(Behaviour::Fails);
    runs.create(&common::push(MAIN, &sha(3))).unwrap();
    drop(runs);

    let events = logged.lock().unwrap().clone();
    let allowed: BTreeSet<&str> = [
        "message",
        "run_id",
        "repo",
        "ref_name",
        "container_id",
        "labelled_run_id",
        "superseded",
        "orphaned",
        "error",
        "pruned",
        "path",
        "from_version",
        "to_version",
    ]
    .into();
    let names: BTreeSet<String> = events
        .iter()
        .flatten()
        .map(|(name, _)| name.clone())
        .collect();
    println!(
        "security: {} log events with fields {names:?}",
        events.len()
    );
    assert!(
        events.len() >= 3,
        "the workflow logged too little to check: {events:?}"
    );
    for (name, value) in events.iter().flatten() {
        assert!(
            allowed.contains(name.as_str()),
            "unexpected log field {name}={value}"
        );
        assert!(
            !value.contains(SECRET),
            "a secret was logged in {name}={value}"
        );
    }
}

//! Faults around the ledger: a container engine that is absent, hangs,
//! answers errors or dies in the middle of a kill, and a database file that
//! is read-only, on a full disk, locked by another process, not a database,
//! or written by a newer version. In each case the caller gets a clear
//! error, nothing is half written, and the ledger works again once the fault
//! is gone.
//!
//! The disk faults use small tmpfs mounts, so this suite must run as root
//! (as CI does); without `mount` it fails rather than skips.

mod common;
#[path = "support/fake_engine.rs"]
mod fake_engine;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Fixture, MAIN, push, sha};
use fake_engine::{Behaviour, FakeEngine};
use runledger::{
    ClaimFilter, Config, Error, KillConfig, KillOutcome, KillState, RunState, Runs, RuntimeConfig,
};

fn count_runs(db: &Path) -> i64 {
    common::raw(db)
        .query_row("SELECT count(*) FROM runs", [], |row| row.get(0))
        .unwrap()
}

fn ledger_at(db: &Path, host: &str, timeout: Duration) -> Runs {
    Runs::open_with(
        db,
        Config {
            runtime: RuntimeConfig::DockerAt(host.to_owned()),
            kill: KillConfig {
                timeout,
                ..KillConfig::default()
            },
            ..Config::default()
        },
    )
    .unwrap()
}

/// An active run with a container (known to `engine`) attached.
fn active_run_with_container(runs: &Runs, engine: Option<&FakeEngine>) -> runledger::Run {
    runs.create(&push(MAIN, &sha(1))).unwrap();
    let run = runs.claim(&ClaimFilter::default()).unwrap().unwrap();
    if let Some(engine) = engine {
        engine.add("doomed", Some(&run.id));
    }
    runs.attach_container(&run.id, "doomed").unwrap()
}

/// The fault's kill failed, the supersede stands, and a reconcile against a
/// healthy engine finishes the kill.
fn assert_recovers(runs: &Runs, engine: &FakeEngine, old: &runledger::Run, attempts: u32) {
    assert_eq!(runs.get(&old.id).unwrap().state, RunState::Superseded);
    assert!(engine.running("doomed"), "the container was already killed");
    engine.set(Behaviour::Healthy);

    let report = runs.reconcile().unwrap();

    assert!(
        !engine.running("doomed"),
        "reconcile did not retry the kill"
    );
    assert!(
        report
            .kills
            .iter()
            .any(|k| k.run_id == old.id && k.outcome == KillOutcome::Done),
        "{report:?}"
    );
    let kill = runs.get(&old.id).unwrap().kill.unwrap();
    assert_eq!((kill.state, kill.attempts), (KillState::Done, attempts));
    common::assert_invariants(runs.path());
}

fn failed_kill(created: &runledger::Created) -> String {
    match &created.superseded[0].kill {
        Some(KillOutcome::Failed { error }) => error.clone(),
        other => panic!("the kill should have failed, got {other:?}"),
    }
}

#[test]
fn an_absent_engine_fails_the_kill_and_reconcile_finishes_it_once_the_engine_is_there() {
    let fixture = Fixture::new();
    let socket = fixture.dir.path().join("docker.sock");
    let runs = ledger_at(
        &fixture.db(),
        &format!("unix://{}", socket.display()),
        Duration::from_secs(2),
    );
    let old = active_run_with_container(&runs, None);

    let started = Instant::now();
    let created = runs.create(&push(MAIN, &sha(2))).unwrap();

    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(failed_kill(&created).contains("unavailable"), "{created:?}");
    let engine = FakeEngine::start(&socket, Behaviour::Healthy);
    engine.add("doomed", Some(&old.id));
    assert_recovers(&runs, &engine, &old, 2);
}

#[test]
fn a_hanging_engine_delays_create_by_the_timeout_and_reconcile_finishes_the_kill_later() {
    let fixture = Fixture::new();
    let engine = FakeEngine::start(&fixture.dir.path().join("docker.sock"), Behaviour::Healthy);
    let runs = ledger_at(&fixture.db(), &engine.host(), Duration::from_millis(600));
    let old = active_run_with_container(&runs, Some(&engine));
    engine.set(Behaviour::Hangs);

    let started = Instant::now();
    let created = runs.create(&push(MAIN, &sha(2))).unwrap();
    let took = started.elapsed();

    assert!(took < Duration::from_secs(3), "create waited {took:?}");
    assert!(
        failed_kill(&created).contains("did not answer"),
        "{created:?}"
    );
    assert_recovers(&runs, &engine, &old, 2);
}

#[test]
fn an_engine_answering_errors_fails_the_kill_with_its_message_and_reconcile_retries() {
    let fixture = Fixture::new();
    let engine = FakeEngine::start(&fixture.dir.path().join("docker.sock"), Behaviour::Healthy);
    let runs = ledger_at(&fixture.db(), &engine.host(), Duration::from_secs(5));
    let old = active_run_with_container(&runs, Some(&engine));
    engine.set(Behaviour::Fails);

    let created = runs.create(&push(MAIN, &sha(2))).unwrap();

    let error = failed_kill(&created);
    assert!(
        error.contains("500") && error.contains("engine on fire"),
        "{error}"
    );
    let reconciled_while_failing = runs.reconcile().unwrap();
    assert!(
        matches!(
            reconciled_while_failing.kills[0].outcome,
            KillOutcome::Failed { .. }
        ),
        "{reconciled_while_failing:?}"
    );
    assert_recovers(&runs, &engine, &old, 3);
}

#[test]
fn an_engine_that_dies_in_the_middle_of_a_kill_and_restarts_gets_the_kill_retried() {
    let fixture = Fixture::new();
    let socket = fixture.dir.path().join("docker.sock");
    let engine = FakeEngine::start(&socket, Behaviour::DiesOnKill);
    let runs = ledger_at(&fixture.db(), &engine.host(), Duration::from_secs(5));
    let old = active_run_with_container(&runs, Some(&engine));

    let created = runs.create(&push(MAIN, &sha(2))).unwrap();

    assert_eq!(
        engine.kills(),
        ["doomed"],
        "the kill never reached the engine"
    );
    let error = failed_kill(&created);
    assert!(error.contains("unavailable"), "{error}");
    let stopped = engine.stop();
    let down = runs.reconcile().unwrap();
    assert!(
        matches!(down.kills[0].outcome, KillOutcome::Failed { .. }),
        "{down:?}"
    );
    let engine = stopped.restart(Behaviour::Healthy);
    assert_recovers(&runs, &engine, &old, 3);
}

/// A tmpfs of `size` mounted on a fresh directory; unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// `options` as `mount -o` takes them, such as `size=1m`.
    fn mount(options: &str) -> Tmpfs {
        let dir = tempfile::tempdir().unwrap();
        mount(&["-t", "tmpfs", "-o", options, "tmpfs"], dir.path());
        Tmpfs { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

fn mount(args: &[&str], target: &Path) {
    let status = Command::new("mount")
        .args(args)
        .arg(target)
        .status()
        .expect("run mount");
    assert!(
        status.success(),
        "mount {args:?} failed: this suite needs root and tmpfs mounts"
    );
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

fn record_only(db: &Path, base_dir: Option<PathBuf>) -> Result<Runs, Error> {
    Runs::open_with(
        db,
        Config {
            runtime: RuntimeConfig::RecordOnly,
            base_dir,
            ..Config::default()
        },
    )
}

#[test]
fn a_read_only_mount_refuses_writes_clearly_and_the_writable_path_works_after() {
    let fixture = Fixture::new();
    let db = fixture.db();
    let first = fixture.open().create(&push(MAIN, &sha(1))).unwrap().run;
    let before = std::fs::read(&db).unwrap();
    let view = ReadOnlyView::of(fixture.dir.path());

    let result = record_only(&view.path().join("runledger.db"), None)
        .and_then(|runs| runs.create(&push(MAIN, &sha(2))));

    let err = result.unwrap_err();
    assert!(matches!(err, Error::ReadOnly { .. }), "{err:?}");
    assert!(err.to_string().contains("read-only"), "{err}");
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "the read-only file changed"
    );
    drop(view);
    let runs = record_only(&db, None).unwrap();
    let second = runs.create(&push(MAIN, &sha(2))).unwrap();
    assert_eq!(second.superseded[0].run_id, first.id);
    assert_eq!(count_runs(&db), 2);
    common::assert_invariants(&db);
}

/// A read-only bind mount of a directory; unmounted when dropped. (A file
/// system with a database open for writing cannot be remounted read-only.)
struct ReadOnlyView {
    dir: tempfile::TempDir,
}

impl ReadOnlyView {
    fn of(source: &Path) -> ReadOnlyView {
        let dir = tempfile::tempdir().unwrap();
        mount(&["--bind", &source.display().to_string()], dir.path());
        mount(&["-o", "remount,bind,ro"], dir.path());
        ReadOnlyView { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for ReadOnlyView {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

#[test]
fn an_immutable_database_file_is_refused_as_read_only_and_opens_once_writable() {
    let fixture = Fixture::new();
    let db = fixture.db();
    let first = fixture.open().create(&push(MAIN, &sha(1))).unwrap().run;
    let before = std::fs::read(&db).unwrap();
    let chattr = |flag: &str| {
        let status = Command::new("chattr").arg(flag).arg(&db).status().unwrap();
        assert!(
            status.success(),
            "chattr {flag} failed: this suite needs root"
        );
    };
    chattr("+i");

    let result = record_only(&db, None).and_then(|runs| runs.create(&push(MAIN, &sha(2))));

    chattr("-i");
    let err = result.unwrap_err();
    assert!(
        matches!(err, Error::ReadOnly { .. }),
        "an immutable file gave {err:?}"
    );
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "the refused file changed"
    );
    let runs = record_only(&db, None).unwrap();
    let second = runs.create(&push(MAIN, &sha(2))).unwrap();
    assert_eq!(second.superseded[0].run_id, first.id);
}

#[test]
fn a_full_disk_fails_creates_clearly_keeps_every_committed_run_and_recovers() {
    let disk = Tmpfs::mount("size=1m");
    let db = disk.path().join("runledger.db");
    let runs = record_only(&db, None).unwrap();
    runs.create(&push(MAIN, &sha(0))).unwrap();
    let filler = disk.path().join("filler");
    fill(&filler);

    let mut committed = Vec::new();
    let err = loop {
        let n = committed.len() as u32 + 1;
        match runs.create(&push(&format!("refs/heads/b{n}"), &sha(n))) {
            Ok(created) => committed.push(created.run.id),
            Err(err) => break err,
        }
        assert!(committed.len() < 100_000, "the disk never filled");
    };

    assert!(
        matches!(&err, Error::Storage { .. }) && err.to_string().contains("full"),
        "{err:?}"
    );
    for id in &committed {
        runs.get(id).unwrap();
    }
    std::fs::remove_dir_all(&filler).unwrap();
    runs.create(&push("refs/heads/after", &sha(999_999)))
        .unwrap();
    assert_eq!(count_runs(&db), committed.len() as i64 + 2);
    common::assert_invariants(&db);
}

#[test]
fn run_directories_on_a_full_disk_roll_back_the_create_and_work_again_after() {
    let fixture = Fixture::new();
    let disk = Tmpfs::mount("size=256k,nr_inodes=64");
    let runs = record_only(&fixture.db(), Some(disk.path().join("runs"))).unwrap();
    runs.create(&push(MAIN, &sha(1))).unwrap();
    let filler = disk.path().join("filler");
    fill(&filler);

    // Directories take inodes and blocks; with neither left, mkdir fails.
    let err = (2..200)
        .find_map(|n| runs.create(&push(MAIN, &sha(n))).err())
        .expect("a create on a full disk failed");

    assert!(matches!(err, Error::RunDirectory { .. }), "{err:?}");
    let live: Vec<runledger::Run> = runs
        .list(&runledger::ListFilter::default(), 1000, None)
        .unwrap()
        .runs
        .into_iter()
        .filter(|run| run.state == RunState::Pending)
        .collect();
    assert_eq!(
        live.len(),
        1,
        "the failed create left the group without its run"
    );
    let live = &live[0];
    assert!(
        runs.run_dir(live).unwrap().is_dir(),
        "the live run lost its directory"
    );
    std::fs::remove_dir_all(&filler).unwrap();
    let after = runs.create(&push(MAIN, &sha(500))).unwrap();
    assert_eq!(after.superseded[0].run_id, live.id);
    assert!(runs.run_dir(&after.run).unwrap().join("logs").is_dir());
}

/// Fills the file system of `path` with files in the new directory `path`,
/// until it refuses more data and more files.
fn fill(path: &Path) {
    std::fs::create_dir(path).unwrap();
    let mut file = std::fs::File::create(path.join("data")).unwrap();
    let block = vec![0u8; 4096];
    while file.write_all(&block).is_ok() {}
    let _ = file.sync_all();
    // Empty files take inodes: take what is left of them too.
    for n in 0.. {
        if std::fs::File::create(path.join(format!("empty-{n}"))).is_err() || n > 1000 {
            break;
        }
    }
}

#[test]
fn a_lock_held_by_another_process_past_the_busy_timeout_is_a_busy_error_and_nothing_changes() {
    let fixture = Fixture::new();
    let db = fixture.db();
    let runs = fixture.open_with(Config {
        busy_timeout: Duration::from_millis(400),
        ..Config::default()
    });
    let first = runs.create(&push(MAIN, &sha(1))).unwrap().run;
    let mut holder = Command::new("sqlite3")
        .arg(&db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the sqlite3 command runs");
    let mut stdin = holder.stdin.take().unwrap();
    writeln!(stdin, "BEGIN EXCLUSIVE;\nSELECT 'locked';").unwrap();
    let mut line = String::new();
    BufReader::new(holder.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "locked");

    let started = Instant::now();
    let err = runs.create(&push(MAIN, &sha(2))).unwrap_err();
    let waited = started.elapsed();

    assert!(matches!(err, Error::Busy { .. }), "{err:?}");
    assert!(
        err.to_string().contains("locked for more than 400 ms"),
        "{err}"
    );
    assert!(
        waited >= Duration::from_millis(400),
        "gave up after {waited:?}"
    );
    assert_eq!(runs.get(&first.id).unwrap().state, RunState::Pending);
    writeln!(stdin, "COMMIT;").unwrap();
    drop(stdin);
    assert!(holder.wait().unwrap().success());
    let second = runs.create(&push(MAIN, &sha(2))).unwrap();
    assert_eq!(second.superseded[0].run_id, first.id);
    assert_eq!(count_runs(&db), 2);
}

#[test]
fn a_file_that_is_not_a_database_is_refused_and_left_as_it_was() {
    let fixture = Fixture::new();
    let text = fixture.dir.path().join("notes.txt");
    std::fs::write(&text, "these are notes, not a ledger\n".repeat(200)).unwrap();
    let other = fixture.dir.path().join("other.db");
    common::raw(&other)
        .execute_batch(
            "CREATE TABLE photos (id INTEGER PRIMARY KEY); INSERT INTO photos VALUES (1);",
        )
        .unwrap();
    let other_before = std::fs::read(&other).unwrap();

    let text_err = record_only(&text, None).unwrap_err();
    let other_err = record_only(&other, None).unwrap_err();

    assert!(
        matches!(text_err, Error::NotADatabase { .. }),
        "{text_err:?}"
    );
    assert!(
        text_err.to_string().contains("is not a runledger database"),
        "{text_err}"
    );
    assert!(
        matches!(other_err, Error::NotADatabase { .. }),
        "{other_err:?}"
    );
    assert_eq!(
        std::fs::read_to_string(&text).unwrap(),
        "these are notes, not a ledger\n".repeat(200)
    );
    assert_eq!(std::fs::read(&other).unwrap(), other_before);
    assert!(!fixture.dir.path().join("notes.txt-wal").exists());
    std::fs::remove_file(&text).unwrap();
    let runs = record_only(&text, None).unwrap();
    runs.create(&push(MAIN, &sha(1))).unwrap();
}

#[test]
fn a_file_written_by_a_newer_version_is_refused_untouched_and_opens_at_its_own_version() {
    let fixture = Fixture::new();
    let db = fixture.db();
    let first = fixture.open().create(&push(MAIN, &sha(1))).unwrap().run;
    let newer = runledger::SCHEMA_VERSION + 1;
    common::raw(&db)
        .pragma_update(None, "user_version", newer)
        .unwrap();
    let before = std::fs::read(&db).unwrap();

    let err = record_only(&db, None).unwrap_err();

    assert!(
        matches!(err, Error::SchemaTooNew { found, .. } if found == newer),
        "{err:?}"
    );
    assert!(err.to_string().contains("upgrade runledger"), "{err}");
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "the refused file changed"
    );
    common::raw(&db)
        .pragma_update(None, "user_version", runledger::SCHEMA_VERSION)
        .unwrap();
    let runs = record_only(&db, None).unwrap();
    assert_eq!(runs.get(&first.id).unwrap().state, RunState::Pending);
    runs.create(&push(MAIN, &sha(2))).unwrap();
}

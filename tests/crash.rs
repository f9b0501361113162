//! Crash safety: writer processes killed with SIGKILL at random moments,
//! cycle after cycle, on one ledger file, lose nothing they were told was
//! done.
//!
//! This test binary is its own writer: started with `RUNLEDGER_CRASH_DB`
//! set, it creates, claims, attaches, transitions, cancels and reconciles
//! until it is killed. After each call returns, and before the writer counts
//! it as acknowledged, it appends the run id and the state it was told of to
//! its log and fsyncs the log. A kill between the call and the fsync loses
//! only an unacknowledged line. The parent then checks that every
//! acknowledged run is in the file in that state or a later one.
//!
//! `RUNLEDGER_CRASH_CYCLES` sets how many cycles to run (default 50).

mod common;

use std::collections::{BTreeMap, HashSet};
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use runledger::{ClaimFilter, Config, Error, Push, RunState, Runs, RuntimeConfig};

const WRITERS: usize = 4;
const DEFAULT_CYCLES: u32 = 50;
const REPOS: [&str; 2] = ["work/tools.git", "work/site.git"];
const REFS: [&str; 3] = ["refs/heads/main", "refs/heads/dev", "refs/pull/7/head"];
/// Short, so the runs of killed writers expire and reconcile finds them.
const LEASE: Duration = Duration::from_millis(300);

fn main() {
    if let Ok(db) = std::env::var("RUNLEDGER_CRASH_DB") {
        let log = std::env::var("RUNLEDGER_CRASH_LOG").expect("writer log path");
        let seed = std::env::var("RUNLEDGER_CRASH_SEED").expect("writer seed");
        writer(
            Path::new(&db),
            Path::new(&log),
            seed.parse().expect("numeric seed"),
        );
        return;
    }
    let cycles = std::env::var("RUNLEDGER_CRASH_CYCLES")
        .ok()
        .map_or(DEFAULT_CYCLES, |n| n.parse().expect("numeric cycle count"));
    let checks = [(
        "writers_killed_at_random_moments_lose_no_acknowledged_run",
        Box::new(move || writers_killed_at_random_moments_lose_no_acknowledged_run(cycles))
            as Box<dyn Fn() + std::panic::RefUnwindSafe>,
    )];
    let mut failed = 0;
    for (name, check) in &checks {
        match std::panic::catch_unwind(check) {
            Ok(()) => println!("test {name} ... ok"),
            Err(_) => {
                println!("test {name} ... FAILED");
                failed += 1;
            }
        }
    }
    println!("crash: {} passed, {failed} failed", checks.len() - failed);
    if failed > 0 {
        std::process::exit(1);
    }
}

/// A small xorshift generator: the writers need variety, not quality.
struct Dice(u64);

impl Dice {
    fn new(seed: u64) -> Dice {
        Dice(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn roll(&mut self, sides: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % sides
    }
}

/// The writer's log of acknowledged operations, one line each:
/// `<run id> <state>` or `<run id> active <container id>` for an attach.
struct AckLog(std::fs::File);

impl AckLog {
    fn acknowledge(&mut self, line: &str) {
        // One write per line, then fsync: only a synced line is acknowledged.
        self.0
            .write_all(format!("{line}\n").as_bytes())
            .expect("append to the log");
        self.0.sync_data().expect("fsync the log");
    }
}

fn writer(db: &Path, log: &Path, seed: u64) {
    let runs = Runs::open_with(
        db,
        Config {
            runtime: RuntimeConfig::RecordOnly,
            lease: LEASE,
            ..Config::default()
        },
    )
    .expect("writer opens the ledger");
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("open the log");
    let mut log = AckLog(file);
    let mut dice = Dice::new(seed);
    let mut mine: Vec<String> = Vec::new();
    let mut attached: HashSet<String> = HashSet::new();
    let mut counter = 0u64;

    // A claimer only creates runs on refs of their own and claims them, so
    // it dies holding active runs for the final reconcile to settle.
    let claimer = std::env::var_os("RUNLEDGER_CRASH_CLAIMER").is_some();

    // Runs until the parent kills it.
    loop {
        counter += 1;
        let op = if claimer {
            4 + counter % 2 * 100
        } else {
            dice.roll(10)
        };
        let result: Result<(), Error> = match op {
            104 => {
                let push = Push::new(
                    REPOS[0],
                    format!("refs/heads/claimer-{seed}-{counter}"),
                    format!("{seed:08x}{counter:08x}"),
                );
                runs.create(&push).map(|created| {
                    log.acknowledge(&format!("{} {}", created.run.id, created.run.state));
                })
            }
            0..=3 => {
                let repo = REPOS[dice.roll(2) as usize];
                let ref_name = REFS[dice.roll(3) as usize];
                let sha = format!("{seed:08x}{counter:08x}");
                let mut push = Push::new(repo, ref_name, sha);
                if dice.roll(5) == 0 {
                    let back = SignedDuration::from_millis(dice.roll(2000) as i64);
                    push = push.pushed_at(Timestamp::now() - back);
                }
                runs.create(&push).map(|created| {
                    for old in &created.superseded {
                        log.acknowledge(&format!("{} superseded", old.run_id));
                    }
                    log.acknowledge(&format!("{} {}", created.run.id, created.run.state));
                })
            }
            4..=5 => runs.claim(&ClaimFilter::default()).map(|claimed| {
                if let Some(run) = claimed {
                    log.acknowledge(&format!("{} active", run.id));
                    mine.push(run.id);
                }
            }),
            // A run gets one container: a second attach would replace the
            // first, and the log could no longer say which one is right.
            6 if mine.iter().any(|id| !attached.contains(id)) => {
                let free: Vec<&String> = mine.iter().filter(|id| !attached.contains(*id)).collect();
                let id = free[dice.roll(free.len() as u64) as usize].clone();
                attached.insert(id.clone());
                let container = format!("c{seed}x{counter}");
                runs.attach_container(&id, &container)
                    .map(|run| log.acknowledge(&format!("{} {} {container}", run.id, run.state)))
            }
            7 if !mine.is_empty() => {
                let id = mine.remove(dice.roll(mine.len() as u64) as usize);
                let to = if dice.roll(2) == 0 {
                    RunState::Complete
                } else {
                    RunState::Failed
                };
                runs.transition(&id, RunState::Active, to)
                    .map(|run| log.acknowledge(&format!("{} {}", run.id, run.state)))
            }
            8 if !mine.is_empty() => {
                let id = mine.remove(dice.roll(mine.len() as u64) as usize);
                runs.cancel(&id)
                    .map(|run| log.acknowledge(&format!("{} {}", run.id, run.state)))
            }
            _ => runs.reconcile().map(|report| {
                for run in &report.orphaned {
                    log.acknowledge(&format!("{run} failed"));
                }
            }),
        };
        match result {
            Ok(()) => {}
            // Another writer moved the run first, or a killed writer's run was
            // orphaned: expected under this load.
            Err(Error::Conflict { .. } | Error::Superseded { .. }) => {}
            Err(err) => panic!("writer {seed}: unexpected error: {err}"),
        }
    }
}

/// Whether a run acknowledged in `acked` may now be in `now`: the same
/// state, or one the transition table leads to from it.
fn same_or_later(acked: RunState, now: RunState) -> bool {
    acked == now
        || acked.may_become(now)
        || acked.successors().iter().any(|next| next.may_become(now))
}

/// One acknowledged operation read back from a writer's log.
struct Ack {
    run_id: String,
    state: RunState,
    container_id: Option<String>,
}

fn read_log(log: &Path) -> Vec<Ack> {
    let Ok(text) = std::fs::read_to_string(log) else {
        return Vec::new();
    };
    // A line without its newline was cut by the kill before its fsync.
    let complete = match text.rfind('\n') {
        Some(end) => &text[..=end],
        None => "",
    };
    complete
        .lines()
        .map(|line| {
            let fields: Vec<&str> = line.split(' ').collect();
            let (run_id, state, container_id) = match fields.as_slice() {
                [id, state] => (*id, *state, None),
                [id, state, container] => (*id, *state, Some((*container).to_owned())),
                _ => panic!("malformed log line {line:?}"),
            };
            Ack {
                run_id: run_id.to_owned(),
                state: state.parse().expect("a state name"),
                container_id,
            }
        })
        .collect()
}

struct Stored {
    state: RunState,
    container_id: Option<String>,
}

fn stored_runs(db: &Path) -> BTreeMap<String, Stored> {
    let raw = common::raw(db);
    let mut stmt = raw
        .prepare("SELECT id, state, container_id FROM runs")
        .unwrap();
    stmt.query_map([], |row| {
        let state: String = row.get(1)?;
        Ok((
            row.get::<_, String>(0)?,
            Stored {
                state: state.parse().expect("a stored state"),
                container_id: row.get(2)?,
            },
        ))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

/// Every acknowledged operation that the file no longer reflects.
fn losses(db: &Path, logs: &[PathBuf]) -> (usize, Vec<String>) {
    let stored = stored_runs(db);
    let mut acknowledged = 0;
    let mut lost = Vec::new();
    for log in logs {
        for ack in read_log(log) {
            acknowledged += 1;
            match stored.get(&ack.run_id) {
                None => lost.push(format!("run {} is missing", ack.run_id)),
                Some(run) if !same_or_later(ack.state, run.state) => lost.push(format!(
                    "run {} was acknowledged {} but is {}",
                    ack.run_id, ack.state, run.state
                )),
                Some(run) if ack.container_id.is_some() && run.container_id != ack.container_id => {
                    lost.push(format!(
                        "run {} was acknowledged with container {:?} but has {:?}",
                        ack.run_id, ack.container_id, run.container_id
                    ));
                }
                Some(_) => {}
            }
        }
    }
    (acknowledged, lost)
}

/// Every run that left pending has the history row of the state it is in.
fn assert_history_matches_state(db: &Path) {
    let raw = common::raw(db);
    let unexplained: i64 = raw
        .query_row(
            "SELECT count(*) FROM runs AS r WHERE r.state <> 'pending' AND NOT EXISTS \
             (SELECT 1 FROM run_history AS h WHERE h.run_id = r.id AND h.to_state = r.state)",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(unexplained, 0, "a run's state is missing from its history");
}

fn start_writer(me: &Path, db: &Path, log: &Path, seed: u64) -> Child {
    Command::new(me)
        .env("RUNLEDGER_CRASH_DB", db)
        .env("RUNLEDGER_CRASH_LOG", log)
        .env("RUNLEDGER_CRASH_SEED", seed.to_string())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start a writer process")
}

fn writers_killed_at_random_moments_lose_no_acknowledged_run(cycles: u32) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.db");
    drop(Runs::open(&db).unwrap());
    let me = std::env::current_exe().unwrap();
    let mut dice = Dice::new(u64::from(std::process::id()));
    let mut logs: Vec<PathBuf> = Vec::new();
    let mut killed = 0u32;
    let mut exited_early = Vec::new();
    let started = Instant::now();

    for cycle in 0..cycles {
        let mut writers: Vec<(Child, Instant)> = (0..WRITERS)
            .map(|n| {
                let seed = u64::from(cycle) * 100 + n as u64 + 1;
                let log = dir.path().join(format!("writer-{seed}.log"));
                let child = start_writer(&me, &db, &log, seed);
                logs.push(log);
                // Each writer dies at its own moment: 50 to 650 ms in.
                let dies_at = Instant::now() + Duration::from_millis(50 + dice.roll(600));
                (child, dies_at)
            })
            .collect();
        writers.sort_by_key(|(_, dies_at)| *dies_at);
        for (mut child, dies_at) in writers {
            std::thread::sleep(dies_at.saturating_duration_since(Instant::now()));
            if let Ok(Some(status)) = child.try_wait() {
                // A writer only stops by being killed: anything else is a
                // failure, whose message went to stderr.
                exited_early.push(format!("cycle {cycle}: writer exited with {status}"));
                continue;
            }
            child.kill().expect("SIGKILL a writer");
            child.wait().unwrap();
            killed += 1;
        }
        common::assert_invariants(&db);
    }

    // Claimers die holding active runs. Every writer is then dead: once
    // their leases run out, one reconcile must settle every run left active.
    for n in 0..2u64 {
        let log = dir.path().join(format!("claimer-{n}.log"));
        let mut child = Command::new(&me)
            .env("RUNLEDGER_CRASH_DB", &db)
            .env("RUNLEDGER_CRASH_LOG", &log)
            .env("RUNLEDGER_CRASH_SEED", (1_000_000 + n).to_string())
            .env("RUNLEDGER_CRASH_CLAIMER", "1")
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("start a claimer");
        logs.push(log);
        std::thread::sleep(Duration::from_millis(150 + dice.roll(150)));
        assert!(
            child.try_wait().unwrap().is_none(),
            "a claimer stopped early"
        );
        child.kill().expect("SIGKILL a claimer");
        child.wait().unwrap();
        killed += 1;
    }
    let left_active: i64 = common::raw(&db)
        .query_row(
            "SELECT count(*) FROM runs WHERE state = 'active'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    std::thread::sleep(LEASE + Duration::from_millis(100));
    let report = Runs::open_with(
        &db,
        Config {
            runtime: RuntimeConfig::RecordOnly,
            ..Config::default()
        },
    )
    .unwrap()
    .reconcile()
    .unwrap();
    let runs = common::assert_invariants(&db);
    assert_history_matches_state(&db);
    let (acknowledged, lost) = losses(&db, &logs);
    let still_active: i64 = common::raw(&db)
        .query_row(
            "SELECT count(*) FROM runs WHERE state = 'active'",
            [],
            |row| row.get(0),
        )
        .unwrap();

    let orphaned: i64 = common::raw(&db)
        .query_row(
            "SELECT count(*) FROM run_history WHERE reason = 'orphaned'",
            [],
            |row| row.get(0),
        )
        .unwrap();

    println!(
        "crash: {cycles} cycles, {killed} writers killed with SIGKILL, {acknowledged} \
         acknowledged operations, {runs} runs, {orphaned} runs orphaned by killed writers and \
         failed by reconcile ({} by the final one), {} lost, in {:.1} s",
        report.orphaned.len(),
        lost.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(exited_early.is_empty(), "writers failed: {exited_early:?}");
    assert!(
        lost.is_empty(),
        "acknowledged operations were lost: {lost:#?}"
    );
    assert!(left_active > 0, "the claimers left no active run to settle");
    assert_eq!(report.orphaned.len() as i64, left_active, "{report:?}");
    assert_eq!(still_active, 0, "reconcile left an orphaned run active");
    assert!(
        acknowledged > cycles as usize * 10,
        "the writers did too little to prove anything"
    );
}

//! Several real OS processes on one ledger file at once.
//!
//! This test binary is its own worker: run normally, it starts copies of
//! itself with `RUNLEDGER_WORKER_DB` set, which create, claim, attach,
//! heartbeat, transition and cancel on a handful of refs for a few seconds
//! and write down every run id they were given and every run they claimed.
//! Then it reads the file with plain SQLite and checks the invariants the
//! ledger promises, and that no run was claimed by two processes.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use runledger::{ClaimFilter, Config, Error, Push, RunState, Runs, RuntimeConfig};

const WORKERS: usize = 6;
const RUN_FOR: Duration = Duration::from_secs(4);
const REPOS: [&str; 2] = ["work/tools.git", "work/site.git"];
const REFS: [&str; 3] = ["refs/heads/main", "refs/heads/dev", "refs/pull/7/head"];

fn main() {
    if let Ok(db) = std::env::var("RUNLEDGER_WORKER_DB") {
        let out = std::env::var("RUNLEDGER_WORKER_OUT").expect("worker output path");
        let seed = std::env::var("RUNLEDGER_WORKER_SEED").expect("worker seed");
        worker(
            Path::new(&db),
            Path::new(&out),
            seed.parse().expect("numeric seed"),
        );
        return;
    }
    let checks = [(
        "processes_creating_claiming_and_transitioning_keep_every_invariant",
        processes_creating_claiming_and_transitioning_keep_every_invariant as fn(),
    )];
    let mut failed = 0;
    for (name, check) in checks {
        match std::panic::catch_unwind(check) {
            Ok(()) => println!("test {name} ... ok"),
            Err(_) => {
                println!("test {name} ... FAILED");
                failed += 1;
            }
        }
    }
    println!(
        "processes: {} passed, {failed} failed",
        checks.len() - failed
    );
    if failed > 0 {
        std::process::exit(1);
    }
}

/// A small xorshift generator: the workers need variety, not quality.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, sides: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % sides
    }
}

/// What a worker reports: every run id it was handed, the runs it claimed,
/// and its errors by kind.
fn worker(db: &Path, out: &Path, seed: u64) {
    let runs = Runs::open_with(
        db,
        Config {
            runtime: RuntimeConfig::RecordOnly,
            lease: Duration::from_millis(400),
            ..Config::default()
        },
    )
    .expect("worker opens the ledger");
    let mut dice = Dice(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut given: Vec<String> = Vec::new();
    let mut claimed: Vec<String> = Vec::new();
    let mut errors: BTreeMap<&'static str, u32> = BTreeMap::new();
    let mut mine: Vec<String> = Vec::new();
    let started = Instant::now();
    let mut counter = 0u32;

    while started.elapsed() < RUN_FOR {
        counter += 1;
        let result: Result<(), Error> = match dice.roll(10) {
            0..=3 => {
                let repo = REPOS[dice.roll(2) as usize];
                let ref_name = REFS[dice.roll(3) as usize];
                // Some pushes are redeliveries, some arrive out of order.
                let sha = format!("{:07x}{:04x}", seed, counter - u32::from(dice.roll(4) == 0));
                let mut push = Push::new(repo, ref_name, sha);
                if dice.roll(5) == 0 {
                    let back = SignedDuration::from_millis(dice.roll(2000) as i64);
                    push = push.pushed_at(Timestamp::now() - back);
                }
                runs.create(&push).map(|created| given.push(created.run.id))
            }
            4..=5 => runs.claim(&ClaimFilter::default()).map(|claimed_run| {
                if let Some(run) = claimed_run {
                    given.push(run.id.clone());
                    claimed.push(run.id.clone());
                    mine.push(run.id);
                }
            }),
            6 if !mine.is_empty() => {
                let id = mine[dice.roll(mine.len() as u64) as usize].clone();
                runs.attach_container(&id, &format!("c{seed}x{counter}"))
                    .map(drop)
            }
            7 if !mine.is_empty() => {
                let id = mine.remove(dice.roll(mine.len() as u64) as usize);
                let to = if dice.roll(2) == 0 {
                    RunState::Complete
                } else {
                    RunState::Failed
                };
                runs.transition(&id, RunState::Active, to).map(drop)
            }
            8 if !mine.is_empty() => {
                let id = mine[dice.roll(mine.len() as u64) as usize].clone();
                runs.heartbeat(&id).map(drop)
            }
            8 | 9 => runs.reconcile().map(drop),
            _ => match given.last() {
                Some(id) => runs.cancel(&id.clone()).map(drop),
                None => Ok(()),
            },
        };
        if let Err(err) = result {
            let kind = match err {
                // Another process moved the run first: expected under load.
                Error::Conflict { .. } | Error::Superseded { .. } => "conflict",
                Error::Busy { .. } => "busy",
                _ => {
                    eprintln!("worker {seed}: unexpected error: {err}");
                    "other"
                }
            };
            *errors.entry(kind).or_default() += 1;
        }
    }

    let mut file = std::fs::File::create(out).expect("worker output");
    for id in &given {
        writeln!(file, "run {id}").unwrap();
    }
    for id in &claimed {
        writeln!(file, "claimed {id}").unwrap();
    }
    for (kind, count) in &errors {
        writeln!(file, "error {kind} {count}").unwrap();
    }
    writeln!(file, "operations {counter}").unwrap();
}

fn processes_creating_claiming_and_transitioning_keep_every_invariant() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shared.db");
    drop(Runs::open(&db).unwrap());
    let me = std::env::current_exe().unwrap();

    let workers: Vec<(std::process::Child, PathBuf)> = (0..WORKERS)
        .map(|n| {
            let out = dir.path().join(format!("worker-{n}.txt"));
            let child = Command::new(&me)
                .env("RUNLEDGER_WORKER_DB", &db)
                .env("RUNLEDGER_WORKER_OUT", &out)
                .env("RUNLEDGER_WORKER_SEED", (n + 1).to_string())
                .spawn()
                .expect("start worker process");
            (child, out)
        })
        .collect();
    let mut given = HashSet::new();
    let mut claims: BTreeMap<String, u32> = BTreeMap::new();
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    let mut operations = 0u64;
    for (mut child, out) in workers {
        assert!(child.wait().unwrap().success(), "a worker process failed");
        for line in std::fs::read_to_string(out).unwrap().lines() {
            let fields: Vec<&str> = line.split(' ').collect();
            match fields.as_slice() {
                ["run", id] => {
                    given.insert((*id).to_owned());
                }
                ["claimed", id] => *claims.entry((*id).to_owned()).or_default() += 1,
                ["error", kind, count] => {
                    *errors.entry((*kind).to_owned()).or_default() += count.parse::<u64>().unwrap();
                }
                ["operations", count] => operations += count.parse::<u64>().unwrap(),
                _ => panic!("unexpected worker line {line:?}"),
            }
        }
    }

    println!(
        "processes: {WORKERS} workers, {operations} operations, {} run ids given, {} claims, \
         errors {errors:?}",
        given.len(),
        claims.len()
    );
    assert!(
        operations > 1000,
        "the workers did too little to prove anything"
    );
    assert!(!claims.is_empty(), "no process ever claimed a run");
    let twice: Vec<&String> = claims
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(id, _)| id)
        .collect();
    assert!(twice.is_empty(), "runs claimed more than once: {twice:?}");
    assert_eq!(errors.get("busy"), None, "a busy error reached a caller");
    assert_eq!(
        errors.get("other"),
        None,
        "an unexpected error reached a caller"
    );
    common::assert_invariants(&db);
    let raw = common::raw(&db);
    let stored: HashSet<String> = raw
        .prepare("SELECT id FROM runs")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let missing: Vec<&String> = given.difference(&stored).collect();
    assert!(
        missing.is_empty(),
        "run ids given to a process are missing: {missing:?}"
    );
    let older_superseder: i64 = raw
        .query_row(
            "SELECT count(*) FROM runs AS old JOIN runs AS new ON new.id = old.superseded_by \
             WHERE new.pushed_at < old.pushed_at",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(older_superseder, 0, "a run was superseded by an older push");
    let unexplained: i64 = raw
        .query_row(
            "SELECT count(*) FROM runs AS r WHERE r.superseded_by IS NOT NULL AND NOT EXISTS \
             (SELECT 1 FROM run_history AS h WHERE h.run_id = r.id AND h.to_state = 'superseded' \
              AND h.superseded_by = r.superseded_by)",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(unexplained, 0, "a supersede is missing from the history");
    let superseded: i64 = raw
        .query_row(
            "SELECT count(*) FROM runs WHERE state = 'superseded'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert!(superseded > 0, "the load never superseded anything");
}

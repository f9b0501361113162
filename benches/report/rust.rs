//! The Rust side of the benchmark report (`benches/report/report.py` runs it
//! and writes BENCHMARKS.md). Every measurement prints one JSON line, so the
//! driver can put it in a table next to the Python, C and CLI figures.
//!
//! Three contenders write the same pushes into the same schema:
//! - `runledger`: the core's create, which supersedes the group's live run
//!   in one IMMEDIATE transaction on a connection kept open (and, in the
//!   single-process table, `runledger-inline`: the same with the core's
//!   background checkpoints off, so SQLite checkpoints inside a commit as it
//!   does for the floor);
//! - `floor`: a bare one-row INSERT transaction with rusqlite, what any
//!   ledger on this file must pay for one durable row;
//! - `original`: the design runledger replaces, the same supersede as
//!   separate autocommit statements on a new connection per call.
//!
//! Modes (the first argument):
//! - `single SYNC COUNT`: one process, rounds of 100 calls per contender in
//!   turn, on 1,000 refs;
//! - `history SYNC SIZE... HOT`: create and floor on files that already hold
//!   SIZE finished runs, and on one whose hot ref has HOT runs of its own;
//! - `contention KIND PROCESSES TOTAL SYNC`: PROCESSES worker processes on
//!   one file, TOTAL calls in all, then the invariants checked on the file;
//! - `profile KIND COUNT`: COUNT calls of one kind after a warm-up, for
//!   callgrind;
//! - `kill COUNT IMAGE`: what killing a real container adds to a create:
//!   COUNT supersedes of an active run whose container runs IMAGE, against
//!   the same supersedes with the record-only runtime;
//! - `version`: the SQLite the Rust side links.

use std::io::{BufRead, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use runledger::{ClaimFilter, Config, Error, KillOutcome, Push, Runs, RuntimeConfig, Synchronous};
use rusqlite::{Connection, ErrorCode, TransactionBehavior, params};

const REFS: u64 = 1000;
const REPO: &str = "work/bench.git";
const HOT_REPO: &str = "work/hot.git";
const HOT_REF: &str = "refs/heads/main";
/// Calls per contender before it yields to the next, in interleaved modes.
const ROUND: usize = 100;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["single", sync, count] => single(sync_of(sync), count.parse().unwrap()),
        ["history", sync, rest @ ..] if rest.len() >= 2 => {
            let numbers: Vec<u64> = rest.iter().map(|n| n.parse().unwrap()).collect();
            let (hot, sizes) = numbers.split_last().unwrap();
            history(sync_of(sync), sizes, *hot);
        }
        ["contention", kind, processes, total, sync] => contention(
            kind,
            processes.parse().unwrap(),
            total.parse().unwrap(),
            sync_of(sync),
        ),
        ["worker", kind, db, worker, count, sync] => worker_process(
            kind,
            Path::new(db),
            worker.parse().unwrap(),
            count.parse().unwrap(),
            sync_of(sync),
        ),
        ["profile", kind, count] => profile(kind, count.parse().unwrap()),
        ["kill", count, image] => kill_cost(count.parse().unwrap(), image),
        ["version"] => println!("{{\"sqlite\": \"{}\"}}", rusqlite::version()),
        // `cargo bench` runs every bench target with `--bench`: this one
        // only makes sense under its driver.
        _ => eprintln!("report: run benches/report/report.py (or make bench) for the report"),
    }
}

fn sync_of(name: &str) -> Synchronous {
    match name.to_ascii_uppercase().as_str() {
        "OFF" => Synchronous::Off,
        "NORMAL" => Synchronous::Normal,
        "FULL" => Synchronous::Full,
        other => panic!("unknown synchronous {other:?}"),
    }
}

fn ledger(path: &Path, synchronous: Synchronous) -> Runs {
    ledger_checkpointing(path, synchronous, true)
}

fn ledger_checkpointing(path: &Path, synchronous: Synchronous, background: bool) -> Runs {
    Runs::open_with(
        path,
        Config {
            synchronous,
            background_checkpoints: background,
            runtime: RuntimeConfig::RecordOnly,
            ..Config::default()
        },
    )
    .expect("open ledger")
}

fn ref_of(n: u64) -> String {
    format!("refs/heads/b{}", n % REFS)
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

fn new_id() -> String {
    uuid::Uuid::now_v7().hyphenated().to_string()
}

/// What one call of a contender came to, for the error columns.
enum Outcome {
    Done,
    Busy,
    Failed,
}

/// One of the three ways of recording a push.
enum Contender {
    Ledger(Runs),
    Floor(Connection),
    Original {
        path: std::path::PathBuf,
        synchronous: Synchronous,
    },
}

impl Contender {
    fn open(kind: &str, path: &Path, synchronous: Synchronous) -> Contender {
        match kind {
            "runledger" => Contender::Ledger(ledger(path, synchronous)),
            "runledger-inline" => Contender::Ledger(ledger_checkpointing(path, synchronous, false)),
            "floor" => {
                // The ledger makes the schema and WAL mode; the floor writes alone.
                drop(ledger(path, synchronous));
                let conn = Connection::open(path).unwrap();
                conn.busy_timeout(Duration::from_secs(5)).unwrap();
                conn.pragma_update(None, "synchronous", synchronous.as_str())
                    .unwrap();
                conn.pragma_update(None, "foreign_keys", true).unwrap();
                Contender::Floor(conn)
            }
            "original" => {
                drop(ledger(path, synchronous));
                Contender::Original {
                    path: path.to_owned(),
                    synchronous,
                }
            }
            other => panic!("unknown contender {other:?}"),
        }
    }

    /// Records push `n` on `ref_name`; `superseding` says the ref already
    /// has a live run, which the ledger must then have superseded.
    fn call(&mut self, n: u64, repo: &str, ref_name: &str, superseding: bool) -> Outcome {
        match self {
            Contender::Ledger(runs) => {
                match runs.create(&Push::new(repo, ref_name, format!("{n:08x}"))) {
                    Ok(created) => {
                        if superseding {
                            assert_eq!(created.superseded.len(), 1, "a create must supersede");
                        }
                        Outcome::Done
                    }
                    Err(Error::Busy { .. }) => Outcome::Busy,
                    Err(err) => panic!("create: {err}"),
                }
            }
            Contender::Floor(conn) => sql_outcome(floor_insert(conn, n, repo, ref_name)),
            Contender::Original { path, synchronous } => {
                sql_outcome(original_create(path, *synchronous, n, repo, ref_name))
            }
        }
    }
}

fn sql_outcome(result: rusqlite::Result<()>) -> Outcome {
    match result {
        Ok(()) => Outcome::Done,
        Err(err) if err.sqlite_error_code() == Some(ErrorCode::DatabaseBusy) => Outcome::Busy,
        Err(err) if err.sqlite_error_code() == Some(ErrorCode::ConstraintViolation) => {
            Outcome::Failed
        }
        Err(err) => panic!("sqlite: {err}"),
    }
}

const FLOOR_INSERT: &str = "INSERT INTO runs (id, repo, ref_name, sha, group_key, state, \
     pushed_at, queued_at, finished_at) VALUES (?1, ?2, ?3, ?4, ?5, 'complete', ?6, ?6, ?6)";

fn floor_insert(conn: &mut Connection, n: u64, repo: &str, ref_name: &str) -> rusqlite::Result<()> {
    let now = now_ms();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.prepare_cached(FLOOR_INSERT)?.execute(params![
        new_id(),
        repo,
        ref_name,
        format!("{n:08x}"),
        format!("{repo}:{ref_name}"),
        now
    ])?;
    tx.commit()
}

/// The design runledger replaces: a connection per call, the group's live
/// runs read, each superseded and its history written, and the new run
/// inserted, every statement its own autocommit transaction. The same rows
/// as a create when nothing runs beside it; under contention, two callers
/// can read the same live run, and the second insert then hits the
/// one-pending-run-per-group index.
fn original_create(
    path: &Path,
    synchronous: Synchronous,
    n: u64,
    repo: &str,
    ref_name: &str,
) -> rusqlite::Result<()> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "synchronous", synchronous.as_str())?;
    let group = format!("{repo}:{ref_name}");
    let now = now_ms();
    let id = new_id();
    let live: Vec<(String, String)> = conn
        .prepare(
            "SELECT id, state FROM runs WHERE group_key = ?1 AND state = 'pending' \
             UNION ALL SELECT id, state FROM runs WHERE group_key = ?1 AND state = 'active'",
        )?
        .query_map([&group], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (old, state) in &live {
        conn.execute(
            "UPDATE runs SET state = 'superseded', superseded_by = ?2, finished_at = ?3, \
             lease_expires_at = NULL WHERE id = ?1 AND state = ?4",
            params![old, id, now, state],
        )?;
        conn.execute(
            "INSERT INTO run_history (run_id, from_state, to_state, at, reason, superseded_by) \
             VALUES (?1, ?2, 'superseded', ?3, 'superseded', ?4)",
            params![old, state, now, id],
        )?;
    }
    conn.execute(
        "INSERT INTO runs (id, repo, ref_name, sha, group_key, state, protected, pushed_at, \
         queued_at) VALUES (?1, ?2, ?3, ?4, ?5, 'pending', 0, ?6, ?6)",
        params![id, repo, ref_name, format!("{n:08x}"), group, now],
    )?;
    Ok(())
}

/// Per-call latencies of one contender.
struct Samples(Vec<Duration>);

impl Samples {
    fn json(mut self, fields: &str) -> String {
        self.0.sort_unstable();
        let total: Duration = self.0.iter().sum();
        let pct = |p: f64| {
            let index = ((self.0.len() as f64 - 1.0) * p).round() as usize;
            self.0[index].as_secs_f64() * 1e6
        };
        format!(
            "{{{fields}, \"n\": {}, \"ops_per_sec\": {:.1}, \"p50_us\": {:.2}, \
             \"p99_us\": {:.2}, \"max_us\": {:.2}}}",
            self.0.len(),
            self.0.len() as f64 / total.as_secs_f64(),
            pct(0.5),
            pct(0.99),
            pct(1.0)
        )
    }
}

fn single(synchronous: Synchronous, count: usize) {
    let dir = tempfile::tempdir().unwrap();
    let kinds = ["runledger", "runledger-inline", "floor", "original"];
    let mut contenders: Vec<Contender> = kinds
        .iter()
        .map(|kind| Contender::open(kind, &dir.path().join(format!("{kind}.db")), synchronous))
        .collect();
    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); kinds.len()];
    // Warm every file past the first push of each ref, so every timed
    // create supersedes one run.
    for n in 0..REFS {
        for contender in &mut contenders {
            contender.call(n, REPO, &ref_of(n), false);
        }
    }
    let mut n = REFS;
    while samples[0].len() < count {
        for ((kind, contender), samples) in kinds.iter().zip(&mut contenders).zip(&mut samples) {
            // The original design is a hundred times slower: fewer calls per
            // round keep the run short while it still sees every moment.
            let calls = if *kind == "original" {
                ROUND / 10
            } else {
                ROUND
            };
            for i in 0..calls as u64 {
                let started = Instant::now();
                let outcome = contender.call(n + i, REPO, &ref_of(n + i), true);
                samples.push(started.elapsed());
                assert!(
                    matches!(outcome, Outcome::Done),
                    "one process is never refused"
                );
            }
        }
        n += ROUND as u64;
    }
    for (kind, samples) in kinds.iter().zip(samples) {
        println!(
            "{}",
            Samples(samples).json(&format!(
                "\"workload\": \"single\", \"sync\": \"{}\", \"contender\": \"{kind}\"",
                synchronous.as_str()
            ))
        );
    }
}

/// Fills the file with `count` finished runs. Spread (`hot` false): over
/// 97 repositories and 5,000 refs, as years of history would be. Hot: all
/// in the one group the timed creates then push to. Rows are written
/// directly in one transaction: a million creates would take the whole
/// time budget and leave the same rows.
fn fill_history(path: &Path, count: u64, hot: bool) {
    drop(ledger(path, Synchronous::Off));
    let mut conn = Connection::open(path).unwrap();
    let tx = conn.transaction().unwrap();
    {
        let mut insert = tx.prepare(FLOOR_INSERT).unwrap();
        let start = now_ms() - 1_000_000_000;
        for i in 0..count {
            let (repo, ref_name) = if hot {
                (HOT_REPO.to_owned(), HOT_REF.to_owned())
            } else {
                (
                    format!("work/r{}.git", i % 97),
                    format!("refs/heads/h{}", i % 5_000),
                )
            };
            insert
                .execute(params![
                    new_id(),
                    repo,
                    ref_name,
                    format!("{i:08x}"),
                    format!("{repo}:{ref_name}"),
                    start + i as i64
                ])
                .unwrap();
        }
    }
    tx.commit().unwrap();
}

fn history(synchronous: Synchronous, sizes: &[u64], hot: u64) {
    let dir = tempfile::tempdir().unwrap();
    // (label, runs already in the file, whether the creates go to the hot ref)
    let mut files: Vec<(String, u64, bool)> = sizes
        .iter()
        .map(|size| (size.to_string(), *size, false))
        .collect();
    files.push((format!("hot ref {hot}"), hot, true));
    let mut contenders = Vec::new();
    for (index, (_, size, is_hot)) in files.iter().enumerate() {
        let path = dir.path().join(format!("history-{index}.db"));
        let started = Instant::now();
        fill_history(&path, *size, *is_hot);
        eprintln!("report: filled {size} runs in {:.1?}", started.elapsed());
        // Both contenders write to the same file, so both see its size.
        let runs = Contender::open("runledger", &path, synchronous);
        let floor = Contender::open("floor", &path, synchronous);
        contenders.push([runs, floor]);
    }
    let mut samples: Vec<[Vec<Duration>; 2]> = files.iter().map(|_| Default::default()).collect();
    let mut n = 0u64;
    for round in 0..21 {
        for ((_, _, is_hot), (pair, samples)) in
            files.iter().zip(contenders.iter_mut().zip(&mut samples))
        {
            for (contender, samples) in pair.iter_mut().zip(samples.iter_mut()) {
                for _ in 0..ROUND {
                    n += 1;
                    let (repo, ref_name) = if *is_hot {
                        (HOT_REPO.to_owned(), HOT_REF.to_owned())
                    } else {
                        (REPO.to_owned(), ref_of(n))
                    };
                    let started = Instant::now();
                    contender.call(n, &repo, &ref_name, false);
                    // The first round warms the caches and the refs.
                    if round > 0 {
                        samples.push(started.elapsed());
                    }
                }
            }
        }
    }
    for ((label, size, _), pair) in files.iter().zip(samples) {
        for (kind, samples) in ["runledger", "floor"].iter().zip(pair) {
            println!(
                "{}",
                Samples(samples).json(&format!(
                    "\"workload\": \"history\", \"sync\": \"{}\", \"contender\": \"{kind}\", \
                     \"history\": \"{label}\", \"existing\": {size}",
                    synchronous.as_str()
                ))
            );
        }
    }
}

/// One process of the contention mode: opens its contender, says it is
/// ready, starts on the parent's line (process start-up is not timed), and
/// prints its counts and latencies.
fn worker_process(kind: &str, db: &Path, worker: u64, count: u64, synchronous: Synchronous) {
    let mut contender = Contender::open_existing(kind, db, synchronous);
    println!("ready");
    let mut go = String::new();
    std::io::stdin().lock().read_line(&mut go).unwrap();
    let (mut samples, mut busy, mut failed) = (Vec::with_capacity(count as usize), 0, 0);
    let started = unix_micros();
    for i in 0..count {
        let n = worker * 10_000_000 + i;
        let op = Instant::now();
        match contender.call(n, REPO, &ref_of(n), false) {
            Outcome::Done => samples.push(op.elapsed().as_micros().to_string()),
            Outcome::Busy => busy += 1,
            Outcome::Failed => failed += 1,
        }
    }
    let ended = unix_micros();
    println!("counts {busy} {failed}");
    println!("span {started} {ended}");
    println!("samples {}", samples.join(","));
}

impl Contender {
    /// Opens a contender on a file the parent has already made.
    fn open_existing(kind: &str, path: &Path, synchronous: Synchronous) -> Contender {
        match kind {
            "floor" => {
                let conn = Connection::open(path).unwrap();
                conn.busy_timeout(Duration::from_secs(5)).unwrap();
                conn.pragma_update(None, "synchronous", synchronous.as_str())
                    .unwrap();
                Contender::Floor(conn)
            }
            _ => Contender::open(kind, path, synchronous),
        }
    }
}

fn unix_micros() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros()
}

fn contention(kind: &str, processes: u64, total: u64, synchronous: Synchronous) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("contention.db");
    drop(ledger(&db, synchronous));
    let exe = std::env::current_exe().unwrap();
    let each = total / processes;
    let mut children: Vec<_> = (0..processes)
        .map(|worker| {
            Command::new(&exe)
                .args(["worker", kind])
                .arg(&db)
                .args([worker.to_string(), each.to_string()])
                .arg(synchronous.as_str())
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut outputs: Vec<_> = children
        .iter_mut()
        .map(|child| std::io::BufReader::new(child.stdout.take().unwrap()))
        .collect();
    for output in &mut outputs {
        let mut ready = String::new();
        output.read_line(&mut ready).unwrap();
        assert_eq!(ready.trim(), "ready");
    }
    for child in &mut children {
        writeln!(child.stdin.as_mut().unwrap(), "go").unwrap();
    }
    let (mut samples, mut busy, mut failed) = (Vec::new(), 0u64, 0u64);
    let (mut first, mut last) = (u128::MAX, 0u128);
    for (mut child, mut output) in children.into_iter().zip(outputs) {
        let mut text = String::new();
        output.read_to_string(&mut text).unwrap();
        assert!(
            child.wait().unwrap().success(),
            "a contention worker failed"
        );
        for line in text.lines() {
            if let Some(counts) = line.strip_prefix("counts ") {
                let (b, f) = counts.split_once(' ').unwrap();
                busy += b.parse::<u64>().unwrap();
                failed += f.parse::<u64>().unwrap();
            } else if let Some(span) = line.strip_prefix("span ") {
                let (start, end) = span.split_once(' ').unwrap();
                first = first.min(start.parse().unwrap());
                last = last.max(end.parse().unwrap());
            } else if let Some(list) = line.strip_prefix("samples ") {
                samples.extend(
                    list.split(',')
                        .filter(|s| !s.is_empty())
                        .map(|s| Duration::from_micros(s.parse().unwrap())),
                );
            }
        }
    }
    let done = samples.len() as u64;
    let wall = Duration::from_micros((last - first) as u64);
    let violations = invariant_violations(&db, kind, done);
    let line = Samples(samples).json(&format!(
        "\"workload\": \"contention\", \"sync\": \"{}\", \"contender\": \"{kind}\", \
         \"processes\": {processes}, \"busy\": {busy}, \"failed\": {failed}, \
         \"wall_ops_per_sec\": {:.1}, \"violations\": [{}]",
        synchronous.as_str(),
        done as f64 / wall.as_secs_f64(),
        violations
            .iter()
            .map(|v| format!("\"{v}\""))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    println!("{line}");
}

/// Checks the file after a contention run and names every broken rule.
/// For the floor only the row count applies (it supersedes nothing).
fn invariant_violations(db: &Path, kind: &str, done: u64) -> Vec<String> {
    let conn = Connection::open(db).unwrap();
    let count = |sql: &str| -> u64 {
        let value: i64 = conn.query_row(sql, [], |row| row.get(0)).unwrap();
        value as u64
    };
    let mut violations = Vec::new();
    let rows = count("SELECT count(*) FROM runs");
    if rows != done {
        violations.push(format!("{rows} runs for {done} successful calls"));
    }
    if kind == "floor" {
        return violations;
    }
    let groups = count("SELECT count(DISTINCT group_key) FROM runs");
    let live_groups =
        count("SELECT count(DISTINCT group_key) FROM runs WHERE state IN ('pending', 'active')");
    if live_groups != groups {
        violations.push(format!(
            "{} groups left without a pending run",
            groups - live_groups
        ));
    }
    let extra_live = count(
        "SELECT count(*) FROM (SELECT group_key FROM runs WHERE state IN ('pending', 'active') \
         GROUP BY group_key HAVING count(*) > 1)",
    );
    if extra_live > 0 {
        violations.push(format!("{extra_live} groups with two live runs"));
    }
    let dangling = count(
        "SELECT count(*) FROM runs AS old WHERE old.state = 'superseded' AND NOT EXISTS \
         (SELECT 1 FROM runs AS new WHERE new.id = old.superseded_by \
          AND new.group_key = old.group_key)",
    );
    if dangling > 0 {
        violations.push(format!(
            "{dangling} runs superseded by a run that was never recorded"
        ));
    }
    let unrecorded = count(
        "SELECT count(*) FROM runs AS r WHERE r.state = 'superseded' AND (SELECT count(*) \
         FROM run_history AS h WHERE h.run_id = r.id AND h.to_state = 'superseded') <> 1",
    );
    if unrecorded > 0 {
        violations.push(format!(
            "{unrecorded} supersedes without exactly one history row"
        ));
    }
    violations
}

/// `count` calls of one kind after a warm-up past the first push of each
/// ref, for callgrind: two counts differ by the cost of the extra calls.
fn profile(kind: &str, count: u64) {
    let dir = tempfile::tempdir().unwrap();
    let mut contender = Contender::open(kind, &dir.path().join("profile.db"), Synchronous::Off);
    for n in 0..REFS + count {
        contender.call(n, REPO, &ref_of(n), n >= REFS);
    }
}

/// Supersedes of an active run with a container: with the Docker runtime a
/// real container (IMAGE, no network) that the create kills before it
/// returns; with the record-only runtime the same ledger work and no kill.
/// The two alternate push by push. Only the superseding create is timed:
/// starting the container is the runner's cost, not the forge's.
fn kill_cost(count: usize, image: &str) {
    let dir = tempfile::tempdir().unwrap();
    let open = |name: &str, runtime: RuntimeConfig| {
        Runs::open_with(
            dir.path().join(name),
            Config {
                runtime,
                ..Config::default()
            },
        )
        .expect("open ledger")
    };
    let contenders = [
        ("docker", open("docker.db", RuntimeConfig::Docker)),
        ("record-only", open("record.db", RuntimeConfig::RecordOnly)),
    ];
    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); contenders.len()];
    let mut containers = Vec::new();
    for i in 0..count {
        let ref_name = format!("refs/heads/k{i}");
        for ((kind, runs), samples) in contenders.iter().zip(&mut samples) {
            let first = runs.create(&Push::new(REPO, &ref_name, "0000001")).unwrap();
            let filter = ClaimFilter {
                repo: None,
                group: Some(first.run.group_key.clone()),
            };
            let run = runs.claim(&filter).unwrap().expect("the run just created");
            let container = if *kind == "docker" {
                let id = start_container(image, &runs.container_labels(&run));
                containers.push(id.clone());
                id
            } else {
                format!("record-only-{i}")
            };
            runs.attach_container(&run.id, &container).unwrap();

            let started = Instant::now();
            let created = runs.create(&Push::new(REPO, &ref_name, "0000002")).unwrap();
            samples.push(started.elapsed());

            let expected = if *kind == "docker" {
                KillOutcome::Done
            } else {
                KillOutcome::Recorded
            };
            assert_eq!(created.superseded.len(), 1, "one active run replaced");
            assert_eq!(created.superseded[0].kill, Some(expected), "kill outcome");
        }
    }
    let mut remove = Command::new("docker");
    remove.args(["rm", "--force"]).args(&containers);
    let removed = remove
        .stdout(Stdio::null())
        .status()
        .expect("run docker rm");
    assert!(removed.success(), "docker rm of the benchmark's containers");
    for ((kind, _), samples) in contenders.iter().zip(samples) {
        println!(
            "{}",
            Samples(samples).json(&format!(
                "\"workload\": \"kill\", \"contender\": \"{kind}\""
            ))
        );
    }
}

/// Starts a container that sleeps, labelled for its run, without a network.
fn start_container(image: &str, labels: &std::collections::BTreeMap<String, String>) -> String {
    let mut docker = Command::new("docker");
    docker.args(["run", "--detach", "--network", "none"]);
    for (key, value) in labels {
        docker.arg("--label").arg(format!("{key}={value}"));
    }
    docker.args(["--label", "runledger.suite=bench", image, "sleep", "1000"]);
    let out = docker.output().expect("run docker");
    assert!(
        out.status.success(),
        "docker run failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

//! Benchmarks of the core ledger, measured side by side in one run and
//! reported as ratios (these machines are noisy; ratios travel better than
//! absolute numbers). Run with `make bench` or `cargo bench --bench core`.
//!
//! 1. create-with-supersede against the floor, a bare one-row INSERT
//!    transaction into the same schema on a file with the same settings,
//!    at synchronous NORMAL and OFF. The two alternate in short rounds so
//!    both see the same machine.
//! 2. create at 10^6 existing runs against 10^3: p50 of each.
//! 3. 8 processes against 1 on one file: aggregate creates per second,
//!    latency percentiles, busy errors surfaced.

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use runledger::{Config, Error, Push, Runs, RuntimeConfig, Synchronous};

const REFS: u32 = 1000;
const REPO: &str = "work/bench.git";

fn main() {
    // `cargo bench` passes `--bench`; a worker is told so by environment.
    if let Ok(db) = std::env::var("RUNLEDGER_BENCH_WORKER_DB") {
        let worker: u32 = std::env::var("RUNLEDGER_BENCH_WORKER")
            .unwrap()
            .parse()
            .unwrap();
        let count: usize = std::env::var("RUNLEDGER_BENCH_COUNT")
            .unwrap()
            .parse()
            .unwrap();
        contention_worker(Path::new(&db), worker, count);
        return;
    }
    if let Ok(kind) = std::env::var("RUNLEDGER_BENCH_PROFILE") {
        let count = std::env::var("RUNLEDGER_BENCH_COUNT")
            .unwrap()
            .parse()
            .unwrap();
        profile(&kind, count);
        return;
    }
    let quick = std::env::var_os("RUNLEDGER_BENCH_QUICK").is_some();
    println!("# runledger core benchmarks\n");
    for sync in [Synchronous::Normal, Synchronous::Off] {
        create_against_floor(sync, if quick { 2_000 } else { 20_000 });
    }
    history_size(if quick { 100_000 } else { 1_000_000 });
    contention(if quick { 1_000 } else { 4_000 });
}

fn ledger(path: &Path, synchronous: Synchronous) -> Runs {
    Runs::open_with(
        path,
        Config {
            synchronous,
            runtime: RuntimeConfig::RecordOnly,
            ..Config::default()
        },
    )
    .expect("open ledger")
}

fn push(n: u64) -> Push {
    Push::new(
        REPO,
        format!("refs/heads/b{}", n % u64::from(REFS)),
        format!("{n:08x}"),
    )
}

/// The latency distribution of a set of samples.
struct Stats {
    samples: Vec<Duration>,
}

impl Stats {
    fn new(mut samples: Vec<Duration>) -> Stats {
        samples.sort_unstable();
        Stats { samples }
    }

    fn pct(&self, p: f64) -> Duration {
        let index = ((self.samples.len() as f64 - 1.0) * p).round() as usize;
        self.samples[index]
    }

    fn total(&self) -> Duration {
        self.samples.iter().sum()
    }

    fn ops_per_sec(&self) -> f64 {
        self.samples.len() as f64 / self.total().as_secs_f64()
    }
}

fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

/// The floor: what any ledger on this file must pay for one durable row.
struct Floor {
    conn: rusqlite::Connection,
    n: u64,
}

impl Floor {
    fn open(path: &Path, synchronous: Synchronous) -> Floor {
        // The ledger creates the schema; the floor then writes to it alone.
        drop(ledger(path, synchronous));
        let conn = rusqlite::Connection::open(path).unwrap();
        conn.busy_timeout(Duration::from_secs(5)).unwrap();
        conn.pragma_update(None, "synchronous", synchronous.as_str())
            .unwrap();
        conn.pragma_update(None, "foreign_keys", true).unwrap();
        Floor { conn, n: 0 }
    }

    fn insert(&mut self) {
        self.n += 1;
        let id = uuid::Uuid::now_v7().hyphenated().to_string();
        let now = jiff::Timestamp::now().as_millisecond();
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .unwrap();
        tx.prepare_cached(
            "INSERT INTO runs (id, repo, ref_name, sha, group_key, state, pushed_at, queued_at, \
             finished_at) VALUES (?1, ?2, ?3, ?4, ?5, 'complete', ?6, ?6, ?6)",
        )
        .unwrap()
        .execute(rusqlite::params![
            id,
            REPO,
            format!("refs/heads/b{}", self.n % u64::from(REFS)),
            format!("{:08x}", self.n),
            format!("{REPO}:refs/heads/b{}", self.n % u64::from(REFS)),
            now
        ])
        .unwrap();
        tx.commit().unwrap();
    }
}

/// Runs `count` operations of one kind after a warm-up, for an instruction
/// counter (`valgrind --tool=callgrind`): the difference between two counts
/// divided by the difference in operations is the cost of one.
fn profile(kind: &str, count: u64) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("profile.db");
    match kind {
        "create" => {
            let runs = ledger(&path, Synchronous::Off);
            for n in 0..u64::from(REFS) + count {
                runs.create(&push(n)).unwrap();
            }
        }
        "floor" => {
            let mut floor = Floor::open(&path, Synchronous::Off);
            for _ in 0..u64::from(REFS) + count {
                floor.insert();
            }
        }
        other => panic!("unknown profile kind {other:?}; use create or floor"),
    }
}

fn create_against_floor(synchronous: Synchronous, count: usize) {
    let dir = tempfile::tempdir().unwrap();
    let runs = ledger(&dir.path().join("ledger.db"), synchronous);
    let mut floor = Floor::open(&dir.path().join("floor.db"), synchronous);
    let (mut ledger_samples, mut floor_samples) = (Vec::new(), Vec::new());
    let mut n = 0u64;
    // Warm both files past the first supersede of every ref.
    for _ in 0..REFS {
        n += 1;
        runs.create(&push(n)).unwrap();
        floor.insert();
    }
    while ledger_samples.len() < count {
        for _ in 0..100 {
            n += 1;
            let started = Instant::now();
            let created = runs.create(&push(n)).unwrap();
            ledger_samples.push(started.elapsed());
            assert_eq!(
                created.superseded.len(),
                1,
                "every create supersedes one run"
            );
        }
        for _ in 0..100 {
            let started = Instant::now();
            floor.insert();
            floor_samples.push(started.elapsed());
        }
    }
    let (ledger, floor) = (Stats::new(ledger_samples), Stats::new(floor_samples));
    println!(
        "## create with supersede vs bare INSERT, synchronous {}, {count} each on {REFS} refs\n",
        synchronous.as_str()
    );
    println!("| | ops/s | p50 | p99 |\n|---|---|---|---|");
    for (name, stats) in [
        ("runledger create", &ledger),
        ("floor: one-row INSERT", &floor),
    ] {
        println!(
            "| {name} | {:.0} | {} | {} |",
            stats.ops_per_sec(),
            us(stats.pct(0.5)),
            us(stats.pct(0.99))
        );
    }
    println!(
        "\nratio create/floor throughput: **{:.2}** (target at least 0.5)\n",
        ledger.ops_per_sec() / floor.ops_per_sec()
    );
}

/// Fills the file with `count` finished runs spread over many groups, as
/// years of history would, writing rows directly for speed.
fn fill_history(path: &Path, count: u64) {
    drop(ledger(path, Synchronous::Off));
    let mut conn = rusqlite::Connection::open(path).unwrap();
    let tx = conn.transaction().unwrap();
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO runs (id, repo, ref_name, sha, group_key, state, pushed_at, \
                 queued_at, finished_at) VALUES (?1, ?2, ?3, ?4, ?5, 'complete', ?6, ?6, ?6)",
            )
            .unwrap();
        let start = jiff::Timestamp::now().as_millisecond() - 1_000_000_000;
        for i in 0..count {
            let repo = format!("work/r{}.git", i % 97);
            let ref_name = format!("refs/heads/h{}", i % 5_000);
            insert
                .execute(rusqlite::params![
                    uuid::Uuid::now_v7().hyphenated().to_string(),
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

fn history_size(large: u64) {
    let dir = tempfile::tempdir().unwrap();
    let sizes = [1_000u64, large];
    let handles: Vec<Runs> = sizes
        .iter()
        .map(|size| {
            let path = dir.path().join(format!("history-{size}.db"));
            fill_history(&path, *size);
            ledger(&path, Synchronous::Normal)
        })
        .collect();
    let mut samples = vec![Vec::new(), Vec::new()];
    let mut n = 0u64;
    for round in 0..40 {
        for (handle, samples) in handles.iter().zip(samples.iter_mut()) {
            for _ in 0..100 {
                n += 1;
                let started = Instant::now();
                handle.create(&push(n)).unwrap();
                if round > 0 {
                    samples.push(started.elapsed());
                }
            }
        }
    }
    let stats: Vec<Stats> = samples.into_iter().map(Stats::new).collect();
    println!("## create at {} existing runs vs {}\n", sizes[1], sizes[0]);
    println!("| existing runs | p50 | p99 |\n|---|---|---|");
    for (size, stats) in sizes.iter().zip(&stats) {
        println!(
            "| {size} | {} | {} |",
            us(stats.pct(0.5)),
            us(stats.pct(0.99))
        );
    }
    println!(
        "\nratio p50 at {} / p50 at {}: **{:.2}** (target at most 1.5)\n",
        sizes[1],
        sizes[0],
        stats[1].pct(0.5).as_secs_f64() / stats[0].pct(0.5).as_secs_f64()
    );
}

/// One process of the contention benchmark: `count` creates on refs shared
/// with the other processes. It opens the ledger, says it is ready, and
/// starts when the parent writes a line, so process start-up is not timed.
fn contention_worker(db: &Path, worker: u32, count: usize) {
    use std::io::BufRead;

    let runs = ledger(db, Synchronous::Normal);
    println!("ready");
    let mut go = String::new();
    std::io::stdin().lock().read_line(&mut go).unwrap();
    let mut samples = Vec::with_capacity(count);
    let mut busy = 0u32;
    let started = unix_micros();
    for i in 0..count as u64 {
        let n = u64::from(worker) * 10_000_000 + i;
        let op = Instant::now();
        match runs.create(&push(n)) {
            Ok(_) => samples.push(op.elapsed()),
            Err(Error::Busy { .. }) => busy += 1,
            Err(err) => panic!("worker {worker}: {err}"),
        }
    }
    let ended = unix_micros();
    let micros: Vec<String> = samples.iter().map(|d| d.as_micros().to_string()).collect();
    println!("busy {busy}");
    println!("span {started} {ended}");
    println!("samples {}", micros.join(","));
}

fn unix_micros() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros()
}

fn contention(per_process_total: usize) {
    let exe = std::env::current_exe().unwrap();
    println!("## processes on one file, {per_process_total} creates in all per row\n");
    println!(
        "| processes | creates/s (aggregate) | p50 | p99 | max | busy errors |\n\
         |---|---|---|---|---|---|"
    );
    let mut single = 0.0;
    let mut eight = 0.0;
    for processes in [1u32, 2, 4, 8] {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("contention.db");
        drop(ledger(&db, Synchronous::Normal));
        let each = per_process_total / processes as usize;
        let mut children: Vec<_> = (0..processes)
            .map(|worker| {
                Command::new(&exe)
                    .env("RUNLEDGER_BENCH_WORKER_DB", &db)
                    .env("RUNLEDGER_BENCH_WORKER", worker.to_string())
                    .env("RUNLEDGER_BENCH_COUNT", each.to_string())
                    .stdin(std::process::Stdio::piped())
                    .stdout(std::process::Stdio::piped())
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
            std::io::BufRead::read_line(output, &mut ready).unwrap();
            assert_eq!(ready.trim(), "ready");
        }
        for child in &mut children {
            writeln!(child.stdin.as_mut().unwrap(), "go").unwrap();
        }
        let mut samples = Vec::new();
        let mut busy = 0u32;
        let (mut first, mut last) = (u128::MAX, 0u128);
        for (mut child, mut output) in children.into_iter().zip(outputs) {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut output, &mut text).unwrap();
            assert!(
                child.wait().unwrap().success(),
                "a contention worker failed"
            );
            for line in text.lines() {
                if let Some(count) = line.strip_prefix("busy ") {
                    busy += count.parse::<u32>().unwrap();
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
        let wall = Duration::from_micros((last - first) as u64);
        let stats = Stats::new(samples);
        let throughput = stats.samples.len() as f64 / wall.as_secs_f64();
        if processes == 1 {
            single = throughput;
        }
        if processes == 8 {
            eight = throughput;
        }
        println!(
            "| {processes} | {throughput:.0} | {} | {} | {} | {busy} |",
            us(stats.pct(0.5)),
            us(stats.pct(0.99)),
            us(stats.pct(1.0))
        );
    }
    println!(
        "\nratio 8 processes / 1 process aggregate throughput: **{:.2}** (target at least 0.9); \
         timed from the first create to the last, process start-up excluded\n",
        eight / single
    );
}

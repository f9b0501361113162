//! The Rust side of the Python benchmark (`benches/python/python_bench_peer.py`):
//! the same creates the benchmark makes through the Python package, made on
//! the core directly, so the ratio of the two is the cost of the Python face.
//!
//! Usage: `python_bench_peer <ledger.db> <groups> <calls>`. Prints one line,
//! `ns_per_create=<n>`.

use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;

use runledger::{Config, Push, Runs, RuntimeConfig};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [path, groups, calls] = args.as_slice() else {
        eprintln!("usage: python_bench_peer <ledger.db> <groups> <calls>");
        return ExitCode::from(2);
    };
    let (Ok(groups), Ok(calls)) = (groups.parse::<usize>(), calls.parse::<usize>()) else {
        eprintln!("python_bench_peer: groups and calls must be numbers");
        return ExitCode::from(2);
    };
    let config = Config {
        runtime: RuntimeConfig::RecordOnly,
        ..Config::default()
    };
    let runs = match Runs::open_with(path, config) {
        Ok(runs) => runs,
        Err(error) => {
            eprintln!("python_bench_peer: {error}");
            return ExitCode::FAILURE;
        }
    };
    // The inputs are made before the clock starts, as the Python side does.
    let pushes: Vec<Push> = (0..calls)
        .map(|i| {
            Push::new(
                "bench/tools.git",
                format!("refs/heads/b{}", i % groups),
                format!("{i:08x}"),
            )
        })
        .collect();

    let started = Instant::now();
    for push in &pushes {
        if let Err(error) = black_box(runs.create(black_box(push))) {
            eprintln!("python_bench_peer: {error}");
            return ExitCode::FAILURE;
        }
    }
    let elapsed = started.elapsed();

    println!("ns_per_create={}", elapsed.as_nanos() / calls as u128);
    ExitCode::SUCCESS
}

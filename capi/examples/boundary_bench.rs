//! The Rust side of the boundary benchmark (`benches/c/run.sh`): the same
//! calls as `benches/c/create.c` makes through the C library, made on the
//! core directly, so the difference is the cost of the boundary.
//!
//! Usage: `boundary_bench <ledger.db> <creates> [gets]`; gets defaults to
//! creates and either may be 0. Prints one line:
//! `create_ns=<per call> get_ns=<per call>`.

use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;

use core::{Config, Push, Runs, RuntimeConfig};

/// Groups the pushes rotate through, so each create supersedes the pending
/// run its group got `GROUPS` creates earlier, as on a busy forge.
const GROUPS: usize = 50;
const WARM_UP: usize = 200;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let path = args.next();
    let calls = args.next().map(|n| n.parse::<usize>());
    let gets = args.next().map(|n| n.parse::<usize>());
    let (Some(path), Some(Ok(calls)), None | Some(Ok(_)), None) = (path, calls, &gets, args.next())
    else {
        eprintln!("usage: boundary_bench <ledger.db> <creates> [gets]");
        return ExitCode::from(2);
    };
    let gets = gets.and_then(Result::ok).unwrap_or(calls);
    let config = Config {
        runtime: RuntimeConfig::RecordOnly,
        ..Config::default()
    };
    let runs = match Runs::open_with(&path, config) {
        Ok(runs) => runs,
        Err(error) => {
            eprintln!("boundary_bench: {error}");
            return ExitCode::FAILURE;
        }
    };
    let refs: Vec<String> = (0..GROUPS).map(|g| format!("refs/heads/b{g}")).collect();
    let shas: Vec<String> = (0..WARM_UP + calls).map(|i| format!("{i:08x}")).collect();
    let push = |i: usize| Push::new("bench/r.git", refs[i % GROUPS].as_str(), shas[i].as_str());

    let mut last_id = String::new();
    for i in 0..WARM_UP {
        match runs.create(&push(i)) {
            Ok(created) => last_id = created.run.id,
            Err(error) => {
                eprintln!("boundary_bench: {error}");
                return ExitCode::FAILURE;
            }
        }
    }

    // Strings are made before the clock starts, as the C side does.
    let pushes: Vec<Push> = (WARM_UP..WARM_UP + calls).map(push).collect();
    let started = Instant::now();
    for push in &pushes {
        if black_box(runs.create(black_box(push))).is_err() {
            eprintln!("boundary_bench: a create failed");
            return ExitCode::FAILURE;
        }
    }
    let create_ns = started.elapsed().as_nanos() / calls.max(1) as u128;

    let started = Instant::now();
    for _ in 0..gets {
        if black_box(runs.get(black_box(&last_id))).is_err() {
            eprintln!("boundary_bench: a get failed");
            return ExitCode::FAILURE;
        }
    }
    let get_ns = started.elapsed().as_nanos() / gets.max(1) as u128;

    println!("create_ns={create_ns} get_ns={get_ns}");
    ExitCode::SUCCESS
}

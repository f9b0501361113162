//! Where the write-ahead log is copied back into the database. One test in
//! its own binary, because it counts the threads of the process.

mod common;

use std::path::Path;

use common::{Fixture, sha};
use runledger::{Config, Push, Runs, RuntimeConfig};

/// Pages of 4 KiB plus a frame header, as the log stores them.
const FRAME_BYTES: u64 = 4096 + 24;

/// Threads of this process named as the checkpoint thread is.
fn checkpoint_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter(|task| {
            let comm = task.as_ref().unwrap().path().join("comm");
            std::fs::read_to_string(comm).is_ok_and(|name| name.trim() == "runledger-ckpt")
        })
        .count()
}

fn open(db: &Path, background_checkpoints: bool) -> Runs {
    Runs::open_with(
        db,
        Config {
            runtime: RuntimeConfig::RecordOnly,
            background_checkpoints,
            ..Config::default()
        },
    )
    .unwrap()
}

/// Creates `count` runs, each superseding the one its ref had, and returns
/// the largest the log file grew meanwhile, in pages.
fn create_and_watch_the_log(runs: &Runs, first: u32, count: u32) -> u64 {
    let wal = runs.path().with_extension("db-wal");
    let mut largest = 0;
    for n in first..first + count {
        let ref_name = format!("refs/heads/b{}", n % 200);
        runs.create(&Push::new("work/tools.git", ref_name, sha(n)))
            .unwrap();
        if n % 50 == 0 {
            let bytes = std::fs::metadata(&wal).map_or(0, |meta| meta.len());
            largest = largest.max(bytes / FRAME_BYTES);
        }
    }
    largest
}

#[test]
fn long_lived_handles_checkpoint_on_their_own_thread_and_short_lived_ones_inline() {
    // Forty handles of fifty creates each, as forty CLI calls would be:
    // about 20,000 pages of log, checkpointed inline at 1000 as SQLite does,
    // and no thread ever started.
    let short = Fixture::new();
    let mut largest_short = 0;
    for call in 0..40 {
        let runs = open(&short.db(), true);
        largest_short = largest_short.max(create_and_watch_the_log(&runs, call * 50, 50));
    }
    assert_eq!(
        checkpoint_threads(),
        0,
        "a short-lived handle started a thread"
    );
    assert!(largest_short < 1200, "log grew to {largest_short} pages");

    // One handle that keeps writing hands the checkpoints to its thread; the
    // log stays bounded by the inline limit (8000 pages), far below the
    // 20,000 pages it would reach if nothing checkpointed.
    let long = Fixture::new();
    let runs = open(&long.db(), true);
    let largest_long = create_and_watch_the_log(&runs, 0, 2000);
    assert_eq!(
        checkpoint_threads(),
        1,
        "the long-lived handle has its thread"
    );
    assert!(largest_long <= 8200, "log grew to {largest_long} pages");
    drop(runs);
    assert_eq!(
        checkpoint_threads(),
        0,
        "closing the handle ends its thread"
    );

    // With background checkpoints off, the handle checkpoints inline.
    let inline = Fixture::new();
    let runs = open(&inline.db(), false);
    let largest_inline = create_and_watch_the_log(&runs, 0, 2000);
    assert_eq!(checkpoint_threads(), 0, "an inline handle started a thread");
    assert!(largest_inline < 1200, "log grew to {largest_inline} pages");
}

//! Fixtures shared by the integration tests: a fresh ledger file per test,
//! and direct SQL access for checks that must not trust the library.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use runledger::{Config, Push, Runs, RuntimeConfig};

pub const REPO: &str = "work/tools.git";
pub const MAIN: &str = "refs/heads/main";

/// A temporary directory holding one ledger file; removed when dropped.
pub struct Fixture {
    pub dir: tempfile::TempDir,
}

impl Fixture {
    pub fn new() -> Fixture {
        Fixture {
            dir: tempfile::tempdir().expect("temporary directory"),
        }
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("runledger.db")
    }

    /// A ledger with the record-only runtime, so tests that are not about
    /// containers do not depend on a Docker engine.
    pub fn open(&self) -> Runs {
        self.open_with(Config::default())
    }

    pub fn open_with(&self, config: Config) -> Runs {
        Runs::open_with(
            self.db(),
            Config {
                runtime: RuntimeConfig::RecordOnly,
                ..config
            },
        )
        .expect("open ledger")
    }
}

/// A push of `sha` to `ref_name` of the test repository.
pub fn push(ref_name: &str, sha: &str) -> Push {
    Push::new(REPO, ref_name, sha)
}

/// A distinct valid sha for each number.
pub fn sha(n: u32) -> String {
    format!("{n:08x}")
}

/// Reads the file with plain SQLite, bypassing the library.
pub fn raw(db: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(db).expect("open raw connection")
}

/// Checks the invariants of the ledger directly in the file:
/// no group has two live runs, every `superseded_by` names a run that exists
/// in the same group, and no run supersedes itself. Returns the number of runs.
pub fn assert_invariants(db: &Path) -> i64 {
    let conn = raw(db);
    let doubled: i64 = conn
        .query_row(
            "SELECT count(*) FROM (SELECT group_key FROM runs WHERE state IN ('pending', 'active') \
             AND protected = 0 GROUP BY group_key HAVING count(*) > 1)",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(doubled, 0, "a group without protection has two live runs");
    let doubled_state: i64 = conn
        .query_row(
            "SELECT count(*) FROM (SELECT group_key, state FROM runs \
             WHERE state IN ('pending', 'active') GROUP BY group_key, state HAVING count(*) > 1)",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(
        doubled_state, 0,
        "a group has two pending or two active runs"
    );
    let foreign: i64 = conn
        .query_row(
            "SELECT count(*) FROM runs AS old LEFT JOIN runs AS new ON new.id = old.superseded_by \
             WHERE old.superseded_by IS NOT NULL \
               AND (new.id IS NULL OR new.group_key <> old.group_key OR new.id = old.id)",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(
        foreign, 0,
        "a run was superseded by a missing run or a run of another group"
    );
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    conn.query_row("SELECT count(*) FROM runs", [], |row| row.get(0))
        .unwrap()
}

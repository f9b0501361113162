//! Storage faults through the real binary: a database written by a newer
//! version, an immutable (read-only) file, and a lock held by another
//! process past the busy timeout. Each is a storage error on stderr with
//! exit code 6, changes nothing, and the next command after the fault works.
//! Uses `sqlite3` and `chattr`, which CI installs and may use as root.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use common::{Ledger, STORAGE, assert_refused};

const REPO: &str = "work/tools.git";
const MAIN: &str = "refs/heads/main";

fn sqlite(ledger: &Ledger, sql: &str) {
    let status = Command::new("sqlite3")
        .arg(ledger.db())
        .arg(sql)
        .status()
        .expect("the sqlite3 command runs");
    assert!(status.success(), "sqlite3 {sql:?} failed");
}

#[test]
fn a_database_of_a_newer_version_is_refused_and_left_alone() {
    let ledger = Ledger::new();
    ledger.create(REPO, MAIN, "aaaaaaa");
    let newer = runledger::SCHEMA_VERSION + 1;
    sqlite(&ledger, &format!("PRAGMA user_version = {newer}"));
    let before = std::fs::read(ledger.db()).unwrap();

    let output = ledger.run(&["create", REPO, MAIN, "bbbbbbb"]);

    assert_refused(&output, STORAGE, "upgrade runledger to open it");
    assert_eq!(std::fs::read(ledger.db()).unwrap(), before);
    sqlite(
        &ledger,
        &format!("PRAGMA user_version = {}", runledger::SCHEMA_VERSION),
    );
    ledger.create(REPO, MAIN, "bbbbbbb");
}

#[test]
fn an_immutable_database_is_read_only_and_nothing_is_written() {
    let ledger = Ledger::new();
    ledger.create(REPO, MAIN, "aaaaaaa");
    let before = ledger.snapshot();
    let chattr = |flag: &str| {
        let status = Command::new("chattr")
            .arg(flag)
            .arg(ledger.db())
            .status()
            .unwrap();
        assert!(status.success(), "chattr {flag} needs root");
    };
    chattr("+i");

    let output = ledger.run(&["create", REPO, MAIN, "bbbbbbb"]);

    chattr("-i");
    assert_refused(&output, STORAGE, "is read-only");
    assert_eq!(ledger.snapshot(), before);
    ledger.create(REPO, MAIN, "bbbbbbb");
}

#[test]
fn a_lock_held_past_the_busy_timeout_is_a_storage_error_and_nothing_is_written() {
    let ledger = Ledger::new();
    ledger.create(REPO, MAIN, "aaaaaaa");
    let before = ledger.snapshot();
    let mut holder = Command::new("sqlite3")
        .arg(ledger.db())
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

    let output = ledger.run(&["--busy-timeout-ms", "300", "create", REPO, MAIN, "bbbbbbb"]);

    assert_refused(&output, STORAGE, "stayed locked for more than 300 ms");
    writeln!(stdin, "COMMIT;").unwrap();
    drop(stdin);
    assert!(holder.wait().unwrap().success());
    assert_eq!(ledger.snapshot(), before);
    ledger.create(REPO, MAIN, "bbbbbbb");
}

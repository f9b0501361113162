//! Drives the real `runledger` binary on a ledger file in a fresh
//! temporary directory.

#![allow(dead_code)] // each test file uses its own part of these helpers

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The exit codes, as documented.
pub const SUCCESS: i32 = 0;
pub const BAD_INPUT: i32 = 2;
pub const NOT_FOUND: i32 = 3;
pub const CONFLICT: i32 = 4;
pub const INVALID_TRANSITION: i32 = 5;
pub const STORAGE: i32 = 6;
pub const KILL_FAILED: i32 = 7;

/// A temporary directory holding one ledger file, `runledger.db`.
pub struct Ledger {
    pub dir: tempfile::TempDir,
}

impl Ledger {
    pub fn new() -> Ledger {
        Ledger {
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("runledger.db")
    }

    /// A `runledger` command in the directory, with no RUNLEDGER_ variable
    /// from the calling environment and the record-only runtime unless the
    /// test chooses another.
    pub fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_runledger"));
        command.current_dir(self.dir.path());
        for (name, _) in std::env::vars() {
            if name.starts_with("RUNLEDGER_") {
                command.env_remove(name);
            }
        }
        command.env("RUNLEDGER_RUNTIME", "record-only");
        command
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().expect("runledger runs")
    }

    /// Runs a command that must succeed, returning its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert_eq!(
            output.status.code(),
            Some(SUCCESS),
            "runledger {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        stdout(&output)
    }

    /// Runs a command with `--json` that must succeed, returning the document.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut with_json = vec!["--json"];
        with_json.extend_from_slice(args);
        let text = self.ok(&with_json);
        serde_json::from_str(&text).unwrap_or_else(|error| panic!("{text:?} is not JSON: {error}"))
    }

    /// Records a push and returns the new run's id.
    pub fn create(&self, repo: &str, ref_name: &str, sha: &str) -> String {
        self.ok(&["create", "--quiet", repo, ref_name, sha])
            .trim()
            .to_owned()
    }

    /// Claims the oldest pending run, which must exist, and returns its id.
    pub fn claim(&self) -> String {
        let id = self.ok(&["claim", "--quiet"]).trim().to_owned();
        assert!(!id.is_empty(), "a run was waiting to be claimed");
        id
    }

    /// Every run as JSON, to show that a refused command changed nothing.
    pub fn snapshot(&self) -> String {
        self.ok(&["--json", "list", "--limit", "1000"])
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8")
}

/// Asserts the exit code, that stdout is empty and that stderr is one line
/// naming `needle`.
pub fn assert_refused(output: &Output, code: i32, needle: &str) {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(code), "stderr: {err}");
    assert!(
        output.stdout.is_empty(),
        "nothing on stdout: {:?}",
        stdout(output)
    );
    assert_eq!(err.lines().count(), 1, "one line on stderr: {err:?}");
    assert!(err.starts_with("runledger: "), "{err:?}");
    assert!(err.contains(needle), "{err:?} names {needle:?}");
}

/// The image the suites start, built by `.ci/test-image.sh`.
pub const IMAGE: &str = "runledger-test:busybox";
/// The label that marks containers started by these tests.
pub const SUITE_LABEL: &str = "runledger.suite=cli-tests";

/// Runs `docker ARGS` and returns its trimmed stdout; panics when it fails,
/// because these tests need the real engine.
pub fn docker(args: &[&str]) -> String {
    let output = Command::new("docker")
        .args(args)
        .output()
        .expect("the docker CLI is installed");
    assert!(
        output.status.success(),
        "docker {args:?} failed (these tests need a running engine and {IMAGE}, built by \
         .ci/test-image.sh): {}",
        stderr(&output)
    );
    stdout(&output).trim().to_owned()
}

/// A container started for a run, removed when dropped.
pub struct Container {
    pub id: String,
}

impl Container {
    /// Starts a sleeping container with no network, the run's labels (as
    /// `runledger labels` prints them) and the suite's label.
    pub fn start_for(ledger: &Ledger, run_id: &str) -> Container {
        let labels = ledger.ok(&["labels", run_id]);
        let mut args = vec![
            "run",
            "--detach",
            "--network",
            "none",
            "--label",
            SUITE_LABEL,
        ];
        for label in labels.lines() {
            args.extend(["--label", label]);
        }
        args.push(IMAGE);
        Container { id: docker(&args) }
    }

    pub fn running(&self) -> bool {
        docker(&["inspect", "--format", "{{.State.Running}}", &self.id]) == "true"
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["rm", "--force", &self.id])
            .output();
    }
}

//! Arbitrary repo, ref, sha and group strings through `Runs::create` on a
//! real ledger with a run-directory base. Whatever the input: no panic; an
//! accepted push is stored exactly as given (sha in lower case) with its
//! run directory inside the base; a refused push is an `InvalidInput` error
//! naming the field, and the ledger is unchanged.

#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use runledger::{Config, Error, ListFilter, Push, Runs, RuntimeConfig};

struct Ledger {
    _dir: tempfile::TempDir,
    base: std::path::PathBuf,
    runs: Runs,
}

fn ledger() -> &'static Ledger {
    static LEDGER: OnceLock<Ledger> = OnceLock::new();
    LEDGER.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temporary directory");
        let base = dir.path().join("runs");
        let runs = Runs::open_with(
            dir.path().join("fuzz.db"),
            Config {
                runtime: RuntimeConfig::RecordOnly,
                base_dir: Some(base.clone()),
                ..Config::default()
            },
        )
        .expect("open the ledger");
        std::fs::create_dir_all(&base).expect("base directory");
        let base = base.canonicalize().expect("canonical base");
        Ledger {
            _dir: dir,
            base,
            runs,
        }
    })
}

fn newest(runs: &Runs) -> Option<String> {
    let page = runs.list(&ListFilter::default(), 1, None).expect("list");
    page.runs.first().map(|run| run.id.clone())
}

/// Safety properties every accepted push must have, whatever the rules.
fn assert_safe(base: &Path, dir: &Path, repo: &str, ref_name: &str, sha: &str) {
    assert!(!repo.is_empty() && repo.len() <= 256, "repo {repo:?}");
    assert!(
        !repo.starts_with('/') && !repo.contains('\0'),
        "repo {repo:?}"
    );
    assert!(
        repo.split('/').all(|s| !matches!(s, "" | "." | "..")),
        "repo {repo:?}"
    );
    assert!(
        ref_name.starts_with("refs/") && ref_name.len() <= 256,
        "ref {ref_name:?}"
    );
    assert!((7..=64).contains(&sha.len()), "sha {sha:?}");
    assert!(sha.bytes().all(|b| b.is_ascii_hexdigit()), "sha {sha:?}");
    let dir = dir.canonicalize().expect("the run directory exists");
    assert!(
        dir.starts_with(base),
        "run directory {dir:?} is outside {base:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.split('\u{1f}');
    let (Some(repo), Some(ref_name), Some(sha)) = (parts.next(), parts.next(), parts.next()) else {
        return;
    };
    let group = parts.next();
    let ledger = ledger();
    let mut push = Push::new(repo, ref_name, sha);
    if let Some(group) = group {
        push = push.group(group);
    }
    let before = newest(&ledger.runs);

    match ledger.runs.create(&push) {
        Ok(created) => {
            let run = ledger.runs.get(&created.run.id).expect("the created run");
            // A redelivery returns the group's live run of the same commit,
            // which another repo may have pushed under an explicit group.
            if !created.duplicate {
                assert_eq!(run.repo, repo);
                assert_eq!(run.ref_name, ref_name);
            }
            assert_eq!(run.sha, sha.to_ascii_lowercase());
            if let Some(group) = group {
                assert_eq!(run.group_key, group);
            }
            let dir = ledger.runs.run_dir(&run).expect("a base is configured");
            assert_safe(&ledger.base, &dir, repo, ref_name, sha);
        }
        Err(Error::InvalidInput { field, reason }) => {
            assert!(
                matches!(field, "repo" | "ref_name" | "sha" | "group"),
                "{field}"
            );
            assert!(!reason.is_empty());
            assert_eq!(
                newest(&ledger.runs),
                before,
                "a refused push changed the ledger"
            );
        }
        Err(other) => panic!("{push:?} gave {other:?}"),
    }
});

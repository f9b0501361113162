//! The README's copies of what the command produces: the state diagram and
//! the shell tour. Each must match its source, so the front page cannot
//! drift from the product.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::Ledger;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The text between `<!-- NAME:begin -->` and `<!-- NAME:end -->`.
fn readme_block(name: &str) -> String {
    let readme = std::fs::read_to_string(repo_root().join("README.md"))
        .expect("README.md at the root of the repository");
    let begin = format!("<!-- {name}:begin -->");
    let end = format!("<!-- {name}:end -->");
    let start = readme
        .find(&begin)
        .unwrap_or_else(|| panic!("README.md has no {begin} marker"))
        + begin.len();
    let stop = readme[start..]
        .find(&end)
        .unwrap_or_else(|| panic!("README.md has no {end} marker after {begin}"))
        + start;
    readme[start..stop].trim().to_owned()
}

#[test]
fn the_readme_state_diagram_is_what_runledger_states_prints() {
    let ledger = Ledger::new();

    let printed = ledger.ok(&["states", "--mermaid"]);

    let expected = format!("```mermaid\n{printed}```");
    assert_eq!(
        readme_block("states"),
        expected,
        "paste the output of `runledger states --mermaid` into README.md"
    );
}

#[test]
fn the_readme_shell_tour_is_the_script_the_tests_run() {
    let script = std::fs::read_to_string(repo_root().join("cli/tests/shell_tour.sh")).unwrap();

    let expected = format!("```bash\n{script}```");
    assert_eq!(
        readme_block("shell-tour"),
        expected,
        "copy cli/tests/shell_tour.sh"
    );
}

#[test]
fn the_shell_tour_runs_against_the_real_binary_and_engine() {
    let ledger = Ledger::new();
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_runledger")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );

    let output = Command::new("bash")
        .arg(repo_root().join("cli/tests/shell_tour.sh"))
        .current_dir(ledger.path())
        .env("PATH", path)
        .env_remove("RUNLEDGER_RUNTIME")
        .env_remove("RUNLEDGER_DB")
        .output()
        .unwrap();
    let leftovers = common::docker(&[
        "ps",
        "--all",
        "--quiet",
        "--filter",
        "label=runledger.suite=shell-tour",
    ]);
    for id in leftovers.lines() {
        common::docker(&["rm", "--force", id]);
    }

    let text = common::stdout(&output);
    let err = common::stderr(&output);
    assert!(output.status.success(), "the tour failed:\n{text}\n{err}");
    assert!(text.contains("\"state\": \"superseded\""), "{text}");
    assert!(err.contains("is superseded, not active"), "{err}");
    assert!(text.contains("complete"), "{text}");
    assert_eq!(leftovers, "", "the tour removes its container");
}

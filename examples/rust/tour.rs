//! A forge and a runner sharing one ledger file: two pushes to one branch,
//! the second superseding the first while its runner works on it.
//! Run it with `cargo run --example tour`.

use runledger::{ClaimFilter, Config, Error, Push, RunState, Runs, RuntimeConfig};

pub fn main() -> Result<(), Error> {
    let dir = std::env::temp_dir().join(format!("runledger-tour-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    // The record-only runtime: this runner manages its own processes.
    // The default, RuntimeConfig::Docker, kills superseded containers itself.
    let config = Config {
        runtime: RuntimeConfig::RecordOnly,
        ..Config::default()
    };
    let runs = Runs::open_with(dir.join("runledger.db"), config)?;

    // The forge's webhook receiver records a push.
    let first = runs.create(&Push::new("work/tools.git", "refs/heads/main", "4f2a9c1"))?;
    println!("queued {} for {}", first.run.id, first.run.sha);

    // A runner claims it, starts a container and attaches it.
    let claimed = runs.claim(&ClaimFilter::default())?.expect("a pending run");
    runs.attach_container(&claimed.id, "runner-container-1")?;

    // A newer push to the same branch supersedes the running one.
    let second = runs.create(&Push::new("work/tools.git", "refs/heads/main", "9b1e0d7"))?;
    for old in &second.superseded {
        println!(
            "{} superseded {} (was {}, container {:?}, kill {:?})",
            second.run.id, old.run_id, old.previous_state, old.container_id, old.kill
        );
    }

    // The first runner learns it when it reports: a conflict, not a success.
    match runs.transition(&claimed.id, RunState::Active, RunState::Complete) {
        Err(Error::Conflict { actual, .. }) => println!("runner: my run is {actual}, stopping"),
        other => panic!("expected a conflict, got {other:?}"),
    }

    for entry in runs.history(&claimed.id)? {
        println!(
            "history: {:?} -> {} ({})",
            entry.from, entry.to, entry.reason
        );
    }
    std::fs::remove_dir_all(&dir).expect("remove the scratch directory");
    Ok(())
}

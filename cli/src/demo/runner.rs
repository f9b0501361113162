//! One runner process of the demo: claims runs, starts a container for
//! each, heartbeats while the work lasts, and reports how it ended. It
//! notices a supersede the way any runner would: its run is no longer
//! active when it looks, or a heartbeat reports a conflict.
//!
//! It speaks to the demo on stdout, one event per line, tab-separated:
//! `ready`, `claimed ID REPO REF SHA`, `started ID CONTAINER`,
//! `late ID STATE` (attach refused; the ledger killed the container),
//! `stopped ID STATE`, `finished ID STATE`. It stops when stdin closes.

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use runledger::{ClaimFilter, Error, Run, RunState, Runs};

use crate::args::DemoRunnerArgs;
use crate::demo::engine::{Engine, SESSION_LABEL, SUITE_LABEL};
use crate::exit::{CliError, Status};
use crate::settings::{Access, LedgerOptions};

/// How long an idle runner waits before it asks for work again.
const IDLE_POLL: Duration = Duration::from_millis(100);

/// The sha prefix that makes the demo's work fail, so that the ledger
/// shows a failed run next to the completed ones.
pub const FAILING_SHA_PREFIX: &str = "bad";

pub fn run(ledger: &LedgerOptions, args: &DemoRunnerArgs) -> Result<Status, CliError> {
    let runs = ledger.open(Access::Kill)?;
    let engine = match &args.image {
        Some(_) => Some(
            Engine::for_runtime(&ledger.runtime)
                .ok_or_else(|| CliError::demo("an image was given with the record-only runtime"))?,
        ),
        None => None,
    };
    let stop = Arc::new(AtomicBool::new(false));
    let stop_on_eof = Arc::clone(&stop);
    std::thread::spawn(move || {
        let mut sink = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut sink);
        stop_on_eof.store(true, Ordering::SeqCst);
    });
    let runner = Runner {
        runs,
        engine,
        args,
        heartbeat_every: runs_lease(ledger) / 4,
    };

    emit("ready", &[]);
    while !stop.load(Ordering::SeqCst) {
        match runner.runs.claim(&ClaimFilter::default())? {
            Some(run) => runner.work_on(&run)?,
            None => std::thread::sleep(IDLE_POLL),
        }
    }
    Ok(Status::Success)
}

fn runs_lease(ledger: &LedgerOptions) -> Duration {
    ledger.config(Access::Kill).lease
}

struct Runner<'a> {
    runs: Runs,
    engine: Option<Engine>,
    args: &'a DemoRunnerArgs,
    heartbeat_every: Duration,
}

impl Runner<'_> {
    fn work_on(&self, run: &Run) -> Result<(), CliError> {
        emit("claimed", &[&run.id, &run.repo, &run.ref_name, &run.sha]);

        // The lease runs from the claim, and starting a container on a busy
        // engine can take longer than a short lease: heartbeats go on in
        // the background for as long as this runner holds the run.
        let done = AtomicBool::new(false);
        std::thread::scope(|scope| {
            scope.spawn(|| self.keep_alive(&run.id, &done));
            let result = self.carry_out(run);
            done.store(true, Ordering::SeqCst);
            result
        })
    }

    /// Renews the lease until `done`, or until the run is no longer active.
    fn keep_alive(&self, run_id: &str, done: &AtomicBool) {
        let step = Duration::from_millis(20);
        let mut since_beat = Duration::ZERO;
        while !done.load(Ordering::SeqCst) {
            std::thread::sleep(step);
            since_beat += step;
            if since_beat >= self.heartbeat_every {
                since_beat = Duration::ZERO;
                if self.runs.heartbeat(run_id).is_err() {
                    // Superseded, canceled or failed: the work loop sees it.
                    return;
                }
            }
        }
    }

    fn carry_out(&self, run: &Run) -> Result<(), CliError> {
        let container_id = self.start_container(run)?;
        match self.runs.attach_container(&run.id, &container_id) {
            Ok(_) => emit("started", &[&run.id, &container_id]),
            Err(Error::Superseded { .. }) => {
                emit("late", &[&run.id, RunState::Superseded.as_str()]);
                return Ok(());
            }
            Err(Error::Conflict { actual, .. }) => {
                emit("late", &[&run.id, actual.as_str()]);
                return Ok(());
            }
            Err(error) => return Err(error.into()),
        }

        if let Some(state) = self.work(run)? {
            // Superseded, canceled or orphaned: the ledger (or reconcile)
            // kills the container; the runner only moves on.
            emit("stopped", &[&run.id, state.as_str()]);
            return Ok(());
        }

        let outcome = if run.sha.starts_with(FAILING_SHA_PREFIX) {
            RunState::Failed
        } else {
            RunState::Complete
        };
        match self.runs.transition(&run.id, RunState::Active, outcome) {
            Ok(_) => emit("finished", &[&run.id, outcome.as_str()]),
            Err(Error::Conflict { actual, .. }) => emit("stopped", &[&run.id, actual.as_str()]),
            Err(error) => return Err(error.into()),
        }
        if let Some(engine) = &self.engine {
            engine.remove(&container_id).map_err(CliError::demo)?;
        }
        Ok(())
    }

    /// A real container when an engine is used; otherwise a name that
    /// stands for the process a record-only caller would manage itself.
    fn start_container(&self, run: &Run) -> Result<String, CliError> {
        let (Some(engine), Some(image)) = (&self.engine, &self.args.image) else {
            return Ok(format!("rec-{}", short_id(&run.id)));
        };
        let mut labels: Vec<String> = runledger::container_labels(run)
            .into_iter()
            .map(|(key, value)| format!("{key}={value}"))
            .collect();
        labels.push(SUITE_LABEL.to_owned());
        labels.push(format!("{SESSION_LABEL}={}", self.args.session));
        engine.start(image, &labels).map_err(CliError::demo)
    }

    /// Works until the run's time is up. Returns the state the run was
    /// moved to by someone else, if it was.
    fn work(&self, run: &Run) -> Result<Option<RunState>, CliError> {
        let deadline = Instant::now() + Duration::from_millis(self.args.work_ms);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            let seen = self.runs.wait_for_change(&run.id, RunState::Active, left)?;
            if seen.state != RunState::Active {
                return Ok(Some(seen.state));
            }
        }
    }
}

/// The last eight characters of a run id: UUIDv7 ids share their leading
/// time digits, so the tail tells them apart.
pub fn short_id(run_id: &str) -> &str {
    let cut = run_id.len().saturating_sub(8);
    run_id.get(cut..).unwrap_or(run_id)
}

fn emit(event: &str, fields: &[&str]) {
    let mut line = String::from(event);
    for field in fields {
        line.push('\t');
        line.push_str(field);
    }
    println!("{line}");
}

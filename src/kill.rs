//! The kill protocol: stop the container of a run that must stop doing work,
//! never touching a container that belongs to another run, and never taking
//! longer than the configured timeout however the engine behaves.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::KillConfig;
use crate::run::KillOutcome;
use crate::runtime::{ContainerRuntime, RuntimeError};

/// How often a container is looked at while it has its grace period.
const GRACE_POLL: Duration = Duration::from_millis(100);

/// A container to stop, and the run it must belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KillTarget {
    pub run_id: String,
    pub container_id: String,
}

/// Carries out kills on a runtime, or only records them.
#[derive(Debug, Clone)]
pub(crate) struct Killer {
    runtime: Option<Arc<dyn ContainerRuntime>>,
    config: KillConfig,
}

impl Killer {
    /// `runtime` `None` is the record-only runtime.
    pub(crate) fn new(runtime: Option<Arc<dyn ContainerRuntime>>, config: KillConfig) -> Killer {
        Killer { runtime, config }
    }

    /// Whether kills are carried out (false for the record-only runtime).
    pub(crate) fn kills(&self) -> bool {
        self.runtime.is_some()
    }

    pub(crate) fn runtime(&self) -> Option<&Arc<dyn ContainerRuntime>> {
        self.runtime.as_ref()
    }

    pub(crate) fn timeout(&self) -> Duration {
        self.config.timeout
    }

    /// Kills each target in turn, all within one timeout. Returns one entry
    /// per target, in order; nothing when record-only. A target the timeout
    /// ran out before is not tried at all (`None`): its kill stays owed, for
    /// reconcile, and counts no attempt.
    pub(crate) fn kill_all(&self, targets: &[KillTarget]) -> Option<Vec<Option<KillOutcome>>> {
        let runtime = self.runtime.as_ref()?;
        let deadline = Instant::now() + self.config.timeout;
        let outcomes = targets
            .iter()
            .map(|target| {
                if Instant::now() >= deadline {
                    tracing::warn!(
                        run_id = target.run_id.as_str(),
                        container_id = target.container_id.as_str(),
                        "kill timeout ran out on earlier containers; reconcile will try this one"
                    );
                    return None;
                }
                let outcome = self.kill_one(runtime.as_ref(), target, deadline);
                log_outcome(target, &outcome);
                Some(outcome)
            })
            .collect();
        Some(outcomes)
    }

    fn kill_one(
        &self,
        runtime: &dyn ContainerRuntime,
        target: &KillTarget,
        deadline: Instant,
    ) -> KillOutcome {
        let remaining = || deadline.saturating_duration_since(Instant::now());
        let failed = |err: RuntimeError| KillOutcome::Failed {
            error: err.to_string(),
        };

        // Never kill someone else's container: look at its label first.
        let info = match runtime.inspect(&target.container_id, remaining()) {
            Ok(info) => info,
            Err(RuntimeError::NoSuchContainer) => return KillOutcome::Done,
            Err(err) => return failed(err),
        };
        // From here on the container is addressed by the full id the engine
        // gave, not by the name the runner attached: a name can be given to
        // another container between the label check and the signal.
        let id = info.id.as_str();
        if let Some(labelled) = info.run_id() {
            if labelled != target.run_id {
                return KillOutcome::Refused {
                    labelled_run_id: labelled.to_owned(),
                };
            }
        }
        if !info.running {
            return KillOutcome::Done;
        }

        match runtime.signal(id, &self.config.signal, remaining()) {
            Ok(()) => {}
            Err(RuntimeError::NoSuchContainer | RuntimeError::NotRunning) => {
                return KillOutcome::Done;
            }
            Err(err) => return failed(err),
        }
        let Some(grace) = self
            .config
            .grace
            .filter(|_| self.config.signal != "SIGKILL")
        else {
            return KillOutcome::Done;
        };

        // A polite signal: give the container its grace period, then SIGKILL.
        let grace_ends = Instant::now() + grace;
        while Instant::now() < grace_ends.min(deadline) {
            match runtime.inspect(id, remaining()) {
                Ok(info) if !info.running => return KillOutcome::Done,
                Ok(_) => {}
                Err(RuntimeError::NoSuchContainer) => return KillOutcome::Done,
                Err(err) => return failed(err),
            }
            std::thread::sleep(
                GRACE_POLL.min(grace_ends.saturating_duration_since(Instant::now())),
            );
        }
        match runtime.signal(id, "SIGKILL", remaining()) {
            Ok(()) | Err(RuntimeError::NoSuchContainer | RuntimeError::NotRunning) => {
                KillOutcome::Done
            }
            Err(err) => failed(err),
        }
    }
}

fn log_outcome(target: &KillTarget, outcome: &KillOutcome) {
    let run_id = target.run_id.as_str();
    let container_id = target.container_id.as_str();
    match outcome {
        KillOutcome::Done => tracing::info!(run_id, container_id, "killed container"),
        KillOutcome::Failed { error } => {
            tracing::warn!(
                run_id,
                container_id,
                error = error.as_str(),
                "container kill failed"
            );
        }
        KillOutcome::Refused { labelled_run_id } => tracing::warn!(
            run_id,
            container_id,
            labelled_run_id = labelled_run_id.as_str(),
            "refused to kill a container labelled with another run"
        ),
        KillOutcome::Recorded => tracing::info!(run_id, container_id, "recorded a kill request"),
    }
}

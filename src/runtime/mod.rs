//! Container runtimes: where the containers of runs live and how they are
//! stopped. The kill protocol in [`crate::kill`] is written against the
//! small [`ContainerRuntime`] interface, so it behaves the same on Docker,
//! on Podman's Docker-compatible socket, and on the fakes of the tests.

pub mod docker;

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

/// The label that names the run a container belongs to.
pub const RUN_ID_LABEL: &str = "runledger.run-id";
/// The label that names the repository of that run.
pub const REPO_LABEL: &str = "runledger.repo";
/// The label that names the ref of that run.
pub const REF_LABEL: &str = "runledger.ref";
/// The label that names the commit of that run.
pub const SHA_LABEL: &str = "runledger.sha";

/// What the runtime knows of one container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerInfo {
    /// The container's id.
    pub id: String,
    /// Whether its main process is running (paused counts as running).
    pub running: bool,
    /// Its labels.
    pub labels: HashMap<String, String>,
}

impl ContainerInfo {
    /// The run named by the container's `runledger.run-id` label.
    pub fn run_id(&self) -> Option<&str> {
        self.labels.get(RUN_ID_LABEL).map(String::as_str)
    }
}

/// A runtime call that did not succeed, mapped once from the runtime's own
/// errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RuntimeError {
    /// No container has this id.
    #[error("no such container")]
    NoSuchContainer,
    /// The container exists but is not running.
    #[error("container is not running")]
    NotRunning,
    /// The engine cannot be reached (no socket, connection refused).
    #[error("container engine unavailable: {reason}")]
    Unavailable {
        /// Why.
        reason: String,
    },
    /// The engine did not answer in time.
    #[error("container engine did not answer within {after_ms} ms")]
    Timeout {
        /// How long the call waited.
        after_ms: u64,
    },
    /// The engine answered with an error.
    #[error("container engine answered {status}: {message}")]
    Api {
        /// The HTTP status.
        status: u16,
        /// The engine's message.
        message: String,
    },
}

/// The operations the kill protocol needs. Every call is bounded by its
/// `timeout`; an implementation must return [`RuntimeError::Timeout`] rather
/// than wait longer.
pub trait ContainerRuntime: Send + Sync + fmt::Debug {
    /// The container's state and labels.
    fn inspect(&self, container_id: &str, timeout: Duration)
    -> Result<ContainerInfo, RuntimeError>;

    /// Sends `signal` (a name such as `SIGTERM`) to the container.
    fn signal(
        &self,
        container_id: &str,
        signal: &str,
        timeout: Duration,
    ) -> Result<(), RuntimeError>;

    /// Running containers that carry a `runledger.run-id` label.
    fn labelled_running(&self, timeout: Duration) -> Result<Vec<ContainerInfo>, RuntimeError>;
}

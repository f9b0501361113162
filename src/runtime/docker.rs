//! The Docker Engine API through bollard; also serves Podman's
//! Docker-compatible socket.
//!
//! The ledger's API is blocking, and callers may themselves be inside a
//! tokio runtime, where `block_on` would panic. So the runtime owns a small
//! tokio runtime of its own: each call is spawned onto it and the calling
//! thread waits on a channel, bounded by the call's timeout.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

use bollard::Docker;
use bollard::errors::Error as BollardError;
use bollard::query_parameters::{
    InspectContainerOptions, KillContainerOptionsBuilder, ListContainersOptionsBuilder,
};

use super::{ContainerInfo, ContainerRuntime, RUN_ID_LABEL, RuntimeError};
use crate::error::{Error, Result};

/// bollard's own request timeout, in seconds. Each call is bounded more
/// tightly by the caller's timeout; this only stops abandoned requests.
const CLIENT_TIMEOUT_SECS: u64 = 120;

/// A Docker (or Podman) engine reached over a Unix socket.
pub struct DockerRuntime {
    /// `None`: `DOCKER_HOST`, else the default socket.
    host: Option<String>,
    /// Connected on first use, and again after a failure to connect, so an
    /// engine that starts later is found.
    client: Mutex<Option<Docker>>,
    /// Started on the first request: most handles (a CLI call that kills
    /// nothing) never need a thread of their own.
    executor: OnceLock<Option<tokio::runtime::Runtime>>,
}

impl std::fmt::Debug for DockerRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DockerRuntime")
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

impl DockerRuntime {
    /// The engine where `DOCKER_HOST` points, else the default socket.
    pub fn from_env() -> DockerRuntime {
        DockerRuntime::new(None)
    }

    /// The engine at `host`, a `unix://` address or a socket path.
    pub fn at(host: &str) -> Result<DockerRuntime> {
        let path = host.strip_prefix("unix://").unwrap_or(host);
        if path.is_empty() || !path.starts_with('/') {
            return Err(Error::invalid(
                "docker_host",
                format!("{host:?} is not a unix:// address or an absolute socket path"),
            ));
        }
        Ok(DockerRuntime::new(Some(format!("unix://{path}"))))
    }

    fn new(host: Option<String>) -> DockerRuntime {
        DockerRuntime {
            host,
            client: Mutex::new(None),
            executor: OnceLock::new(),
        }
    }

    /// The runtime's executor; `None` if the process cannot start a thread.
    fn executor(&self) -> Option<&tokio::runtime::Runtime> {
        self.executor
            .get_or_init(|| {
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .thread_name("runledger-docker")
                    .enable_all()
                    .build()
                    .ok()
            })
            .as_ref()
    }

    fn client(&self, executor: &tokio::runtime::Runtime) -> Result<Docker, RuntimeError> {
        let mut client = self.client.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(docker) = client.as_ref() {
            return Ok(docker.clone());
        }
        let _context = executor.enter();
        let connected = match &self.host {
            Some(host) => {
                Docker::connect_with_unix(host, CLIENT_TIMEOUT_SECS, bollard::API_DEFAULT_VERSION)
            }
            None => Docker::connect_with_local_defaults(),
        }
        .map_err(map_error)?;
        *client = Some(connected.clone());
        Ok(connected)
    }

    /// Runs one request on the runtime's executor, waiting at most `timeout`.
    fn call<T, F, Fut>(&self, timeout: Duration, request: F) -> Result<T, RuntimeError>
    where
        T: Send + 'static,
        F: FnOnce(Docker) -> Fut,
        Fut: Future<Output = Result<T, BollardError>> + Send + 'static,
    {
        let timed_out = RuntimeError::Timeout {
            after_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
        };
        if timeout.is_zero() {
            return Err(timed_out);
        }
        let Some(executor) = self.executor() else {
            return Err(RuntimeError::Unavailable {
                reason: "could not start the thread that talks to the engine".to_owned(),
            });
        };
        let docker = self.client(executor)?;
        let (reply, answer) = std::sync::mpsc::sync_channel(1);
        let future = request(docker);
        executor.spawn(async move {
            let outcome = tokio::time::timeout(timeout, future).await;
            // The caller may have stopped waiting; then nobody needs this.
            let _ = reply.send(outcome);
        });
        match answer.recv_timeout(timeout + Duration::from_millis(50)) {
            Ok(Ok(result)) => result.map_err(map_error),
            Ok(Err(_)) | Err(_) => Err(timed_out),
        }
    }
}

impl Drop for DockerRuntime {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which panics when the owner is dropped
        // inside the caller's own async context; there, let it wind down.
        let Some(executor) = self.executor.take().flatten() else {
            return;
        };
        if tokio::runtime::Handle::try_current().is_ok() {
            executor.shutdown_background();
        } else {
            // Outside any async context waiting is allowed: let the engine
            // thread finish, so a program that exits right after closing
            // the ledger leaves no thread behind.
            executor.shutdown_timeout(Duration::from_millis(500));
        }
    }
}

/// Maps bollard's errors once: Docker reports a missing container as 404
/// and a container that is not running as 409.
fn map_error(err: BollardError) -> RuntimeError {
    match err {
        BollardError::DockerResponseServerError {
            status_code: 404, ..
        } => RuntimeError::NoSuchContainer,
        BollardError::DockerResponseServerError {
            status_code: 409, ..
        } => RuntimeError::NotRunning,
        BollardError::DockerResponseServerError {
            status_code,
            message,
        } => RuntimeError::Api {
            status: status_code,
            message,
        },
        BollardError::SocketNotFoundError(path) => RuntimeError::Unavailable {
            reason: format!("no socket at {path}"),
        },
        BollardError::RequestTimeoutError => RuntimeError::Timeout {
            after_ms: CLIENT_TIMEOUT_SECS * 1000,
        },
        other => RuntimeError::Unavailable {
            reason: other.to_string(),
        },
    }
}

impl ContainerRuntime for DockerRuntime {
    fn inspect(
        &self,
        container_id: &str,
        timeout: Duration,
    ) -> Result<ContainerInfo, RuntimeError> {
        let name = container_id.to_owned();
        let details = self.call(timeout, move |docker| async move {
            docker
                .inspect_container(&name, None::<InspectContainerOptions>)
                .await
        })?;
        let state = details.state.unwrap_or_default();
        Ok(ContainerInfo {
            id: details.id.unwrap_or_else(|| container_id.to_owned()),
            running: state.running.unwrap_or(false) || state.restarting.unwrap_or(false),
            labels: details
                .config
                .and_then(|config| config.labels)
                .unwrap_or_default(),
        })
    }

    fn signal(
        &self,
        container_id: &str,
        signal: &str,
        timeout: Duration,
    ) -> Result<(), RuntimeError> {
        let name = container_id.to_owned();
        let options = KillContainerOptionsBuilder::new().signal(signal).build();
        self.call(timeout, move |docker| async move {
            docker.kill_container(&name, Some(options)).await
        })
    }

    fn labelled_running(&self, timeout: Duration) -> Result<Vec<ContainerInfo>, RuntimeError> {
        let filters = HashMap::from([("label", vec![RUN_ID_LABEL]), ("status", vec!["running"])]);
        let options = ListContainersOptionsBuilder::new()
            .filters(&filters)
            .build();
        let summaries = self.call(timeout, move |docker| async move {
            docker.list_containers(Some(options)).await
        })?;
        Ok(summaries
            .into_iter()
            .filter_map(|summary| {
                Some(ContainerInfo {
                    id: summary.id?,
                    running: true,
                    labels: summary.labels.unwrap_or_default(),
                })
            })
            .collect())
    }
}

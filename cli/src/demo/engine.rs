//! The demo's containers, started and cleaned up through the `docker` CLI
//! (the ledger itself kills them through the Engine API). Every container
//! runs without a network and carries the demo's labels, so the demo can
//! find and remove exactly its own.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::settings::RuntimeChoice;

/// The label every demo container carries, naming the suite.
pub const SUITE_LABEL: &str = "runledger.suite=demo";
/// The label key whose value tells one demo's containers from another's.
pub const SESSION_LABEL: &str = "runledger.demo-session";

/// How long one `docker` call may take before the demo gives up on it.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the first probe may take: an engine that does not answer in
/// this time is treated as absent.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// A Docker-compatible engine, driven through its CLI.
#[derive(Debug, Clone)]
pub struct Engine {
    /// `-H` for the CLI when the ledger was pointed at a socket.
    host: Option<String>,
}

impl Engine {
    /// The engine the ledger's runtime option names; `None` for record-only.
    pub fn for_runtime(runtime: &RuntimeChoice) -> Option<Engine> {
        match runtime {
            RuntimeChoice::Docker => Some(Engine { host: None }),
            RuntimeChoice::DockerAt(host) => Some(Engine {
                host: Some(if host.starts_with('/') {
                    format!("unix://{host}")
                } else {
                    host.clone()
                }),
            }),
            RuntimeChoice::RecordOnly => None,
        }
    }

    /// The engine's version, or why it did not answer.
    pub fn probe(&self) -> Result<String, String> {
        self.call(
            &["version", "--format", "{{.Server.Version}}"],
            PROBE_TIMEOUT,
        )
    }

    /// Whether the image is present locally (none can be pulled).
    pub fn has_image(&self, image: &str) -> bool {
        self.call(
            &["image", "inspect", "--format", "{{.Id}}", image],
            CALL_TIMEOUT,
        )
        .is_ok()
    }

    /// Starts a detached container with no network and these labels, and
    /// returns its id.
    pub fn start(&self, image: &str, labels: &[String]) -> Result<String, String> {
        let mut args = vec!["run", "--detach", "--network", "none"];
        for label in labels {
            args.extend(["--label", label.as_str()]);
        }
        args.push(image);
        self.call(&args, CALL_TIMEOUT)
    }

    /// Removes a container, running or not.
    pub fn remove(&self, container_id: &str) -> Result<String, String> {
        self.call(&["rm", "--force", container_id], CALL_TIMEOUT)
    }

    /// The ids of the session's containers, running only or all.
    pub fn session_containers(&self, session: &str, all: bool) -> Result<Vec<String>, String> {
        let filter = format!("label={SESSION_LABEL}={session}");
        let mut args = vec!["ps", "--quiet", "--no-trunc", "--filter", filter.as_str()];
        if all {
            args.push("--all");
        }
        let listed = self.call(&args, CALL_TIMEOUT)?;
        Ok(listed.lines().map(str::to_owned).collect())
    }

    /// Removes every container of the session; returns how many.
    pub fn remove_session(&self, session: &str) -> Result<usize, String> {
        let ids = self.session_containers(session, true)?;
        for id in &ids {
            self.remove(id)?;
        }
        Ok(ids.len())
    }

    /// Runs `docker ARGS`, returning its trimmed stdout, or its stderr (or
    /// why it could not run) as the error.
    fn call(&self, args: &[&str], timeout: Duration) -> Result<String, String> {
        let mut command = Command::new("docker");
        if let Some(host) = &self.host {
            command.args(["--host", host]);
        }
        let mut child = command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|error| format!("cannot run docker: {error}"))?;
        let deadline = Instant::now() + timeout;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Ok(None) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!(
                        "docker {} did not finish within {} s",
                        args.first().unwrap_or(&""),
                        timeout.as_secs()
                    ));
                }
                Err(error) => return Err(format!("waiting for docker: {error}")),
            }
        };
        // The outputs are a few lines, well within a pipe's buffer.
        let mut stdout = String::new();
        let mut stderr = String::new();
        if let Some(mut pipe) = child.stdout.take() {
            let _ = pipe.read_to_string(&mut stdout);
        }
        if let Some(mut pipe) = child.stderr.take() {
            let _ = pipe.read_to_string(&mut stderr);
        }
        if status.success() {
            Ok(stdout.trim().to_owned())
        } else {
            let reason = stderr.trim();
            Err(if reason.is_empty() {
                format!("docker exited with {status}")
            } else {
                reason.lines().next().unwrap_or(reason).to_owned()
            })
        }
    }
}

//! Settings of a ledger handle, with the defaults a CI system would pick.

use std::path::PathBuf;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::policy::ProtectedRefs;
use crate::store::Synchronous;

/// How a ledger handle behaves. Build it with struct update syntax from
/// [`Config::default`].
#[derive(Debug, Clone)]
pub struct Config {
    /// How long a write waits for another process's write lock before it
    /// gives up with [`crate::Error::Busy`]. Default 5 s.
    pub busy_timeout: Duration,
    /// Durability of each commit. Default `Normal`.
    pub synchronous: Synchronous,
    /// Whether a handle that keeps writing copies the write-ahead log back
    /// into the database on a thread of its own, rather than inside the one
    /// commit in about a hundred that fills the log (SQLite's way, which
    /// makes that commit wait for the copy and its fsyncs). The work and
    /// the files are the same either way. A handle starts the thread only
    /// after 100 commits, so a short-lived one (a CLI call) never does; and
    /// only at synchronous `Off` or `Normal`: where every commit waits for
    /// an fsync, the checkpoint's fsyncs on another thread would only queue
    /// with them. Default `true`.
    pub background_checkpoints: bool,
    /// Where run directories are made; `None` makes none. Default `None`.
    pub base_dir: Option<PathBuf>,
    /// Refs whose active run a newer push leaves running. Default none.
    pub protected_refs: ProtectedRefs,
    /// How long a claim or heartbeat keeps a run's lease. Default 60 s.
    pub lease: Duration,
    /// How superseded and canceled runs' containers are stopped.
    pub kill: KillConfig,
    /// Which container runtime kills go to. Default Docker.
    pub runtime: RuntimeConfig,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            busy_timeout: Duration::from_secs(5),
            synchronous: Synchronous::Normal,
            background_checkpoints: true,
            base_dir: None,
            protected_refs: ProtectedRefs::default(),
            lease: Duration::from_secs(60),
            kill: KillConfig::default(),
            runtime: RuntimeConfig::default(),
        }
    }
}

/// The kill protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KillConfig {
    /// The first signal sent, as `docker kill --signal`. Default `SIGKILL`.
    pub signal: String,
    /// With a signal other than SIGKILL: how long the container gets to exit
    /// before SIGKILL follows. `None` sends the signal alone. Default `None`.
    pub grace: Option<Duration>,
    /// The longest all kills of one operation may delay it. A hung or absent
    /// engine costs at most this much; the kill is then recorded as failed
    /// and reconcile retries it. Default 10 s.
    pub timeout: Duration,
}

impl Default for KillConfig {
    fn default() -> KillConfig {
        KillConfig {
            signal: "SIGKILL".to_owned(),
            grace: None,
            timeout: Duration::from_secs(10),
        }
    }
}

impl KillConfig {
    /// Refuses settings that could only fail later, at kill time: a signal
    /// the engine would not know, a zero timeout, or a grace period that
    /// leaves SIGKILL no time to follow.
    pub fn validate(&self) -> Result<()> {
        KillConfig::validate_signal(&self.signal)?;
        if self.timeout.is_zero() {
            return Err(Error::invalid("kill_timeout", "must be longer than zero"));
        }
        if self.grace.is_some_and(|grace| grace >= self.timeout) {
            return Err(Error::invalid(
                "kill_grace",
                "must be shorter than the kill timeout, or SIGKILL could never follow",
            ));
        }
        Ok(())
    }

    /// Accepts a signal as the engine takes it: a name such as `SIGTERM`
    /// or a number from 1 to 64.
    pub fn validate_signal(signal: &str) -> Result<()> {
        let named = signal.len() > 3
            && signal.starts_with("SIG")
            && signal[3..]
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        let numbered = signal.parse::<u8>().is_ok_and(|n| (1..=64).contains(&n));
        if named || numbered {
            Ok(())
        } else {
            Err(Error::invalid(
                "kill_signal",
                format!("{signal:?} is not a signal name such as SIGTERM or a number from 1 to 64"),
            ))
        }
    }
}

/// Where containers live.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum RuntimeConfig {
    /// The Docker Engine API, or Podman's compatible socket: at `host` (a
    /// `unix://` path), else where `DOCKER_HOST` points, else the default
    /// socket. Connected on first use.
    #[default]
    Docker,
    /// The Docker Engine API at this address (`unix:///path/docker.sock`).
    DockerAt(String),
    /// Kills are recorded but not carried out: for callers that manage
    /// their own processes and read the ledger to learn what to stop.
    RecordOnly,
}

//! The options every subcommand shares: which ledger file, and how the
//! handle behaves (the fields of the core's `Config`). Each has an
//! environment variable, so a CI job can set them once.

use std::path::{Path, PathBuf};
use std::time::Duration;

use runledger::{Config, KillConfig, ProtectedRefs, Runs, RuntimeConfig, Synchronous};

use crate::exit::CliError;

/// Where the ledger is and how to treat it.
#[derive(Debug, Clone, clap::Args)]
pub struct LedgerOptions {
    /// The ledger file.
    #[arg(
        long,
        global = true,
        env = "RUNLEDGER_DB",
        default_value = "runledger.db",
        value_name = "PATH"
    )]
    pub db: PathBuf,

    /// Where containers are killed: `docker` (DOCKER_HOST, else the default
    /// socket), `record-only` (kills are recorded, not carried out), or a
    /// Docker-compatible socket (`unix:///run/podman/podman.sock`).
    #[arg(long, global = true, env = "RUNLEDGER_RUNTIME", default_value = "docker",
          value_name = "RUNTIME", value_parser = parse_runtime)]
    pub runtime: RuntimeChoice,

    /// Comma-separated ref patterns whose active run a newer push leaves
    /// running (`*` any characters, `?` one), as in `refs/heads/release/*`.
    #[arg(
        long,
        global = true,
        env = "RUNLEDGER_PROTECTED_REFS",
        value_delimiter = ',',
        value_name = "PATTERNS"
    )]
    pub protected_refs: Vec<String>,

    /// How long a claim or heartbeat holds a run's lease [default: 60].
    #[arg(long, global = true, env = "RUNLEDGER_LEASE_SECS", value_name = "SECS",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub lease_secs: Option<u64>,

    /// The first signal a kill sends, as `docker kill --signal`.
    #[arg(long, global = true, env = "RUNLEDGER_KILL_SIGNAL", default_value = "SIGKILL",
          value_name = "SIGNAL", value_parser = parse_signal)]
    pub kill_signal: String,

    /// With another signal than SIGKILL: how long the container gets before
    /// SIGKILL follows. Unset sends the signal alone.
    #[arg(
        long,
        global = true,
        env = "RUNLEDGER_KILL_GRACE_SECS",
        value_name = "SECS"
    )]
    pub kill_grace_secs: Option<u64>,

    /// The longest the kills of one command may take; a hung engine costs at
    /// most this, and reconcile retries what failed.
    #[arg(long, global = true, env = "RUNLEDGER_KILL_TIMEOUT_SECS", default_value_t = 10,
          value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub kill_timeout_secs: u64,

    /// How long a write waits for another process's lock before failing.
    #[arg(long, global = true, env = "RUNLEDGER_BUSY_TIMEOUT_MS", default_value_t = 5000,
          value_name = "MS", value_parser = clap::value_parser!(u64).range(1..))]
    pub busy_timeout_ms: u64,

    /// Durability of each commit: off, normal, full or extra.
    #[arg(long, global = true, env = "RUNLEDGER_SYNCHRONOUS", default_value = "normal",
          value_name = "LEVEL", value_parser = parse_synchronous)]
    pub synchronous: Synchronous,

    /// Where the write-ahead log is copied into the database: `background`
    /// (a thread of the handle's own, at synchronous off or normal, once it
    /// has committed 100 times; one command never gets there) or `inline`
    /// (inside a commit, as SQLite does by default).
    #[arg(long, global = true, env = "RUNLEDGER_CHECKPOINTS", default_value = "background",
          value_name = "WHERE", value_parser = parse_checkpoints)]
    pub checkpoints: Checkpoints,

    /// Make `<DIR>/<repo>/<run-id>/{workspace,logs}` for each new run, and
    /// remove them on prune.
    #[arg(long, global = true, env = "RUNLEDGER_BASE_DIR", value_name = "DIR")]
    pub base_dir: Option<PathBuf>,
}

/// The `--checkpoints` choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checkpoints {
    /// On a thread of the handle's own.
    Background,
    /// Inside the commit that fills the log.
    Inline,
}

/// The `--runtime` choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuntimeChoice {
    /// Docker where `DOCKER_HOST` points, else the default socket.
    Docker,
    /// A Docker-compatible engine at this `unix://` address.
    DockerAt(String),
    /// Kills are recorded only.
    RecordOnly,
}

/// What a subcommand does with the file, which decides how it is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Records new runs: the file is created when missing.
    Create,
    /// Moves existing runs and may kill containers.
    Kill,
    /// Reads or moves runs without ever killing: no container engine is
    /// set up, which keeps the process cheap.
    Plain,
}

/// The default lease, as in the core.
pub const DEFAULT_LEASE_SECS: u64 = 60;

impl LedgerOptions {
    /// The core configuration these options describe.
    pub fn config(&self, access: Access) -> Config {
        let runtime = match (&self.runtime, access) {
            (_, Access::Plain) | (RuntimeChoice::RecordOnly, _) => RuntimeConfig::RecordOnly,
            (RuntimeChoice::Docker, _) => RuntimeConfig::Docker,
            (RuntimeChoice::DockerAt(host), _) => RuntimeConfig::DockerAt(host.clone()),
        };
        Config {
            busy_timeout: Duration::from_millis(self.busy_timeout_ms),
            synchronous: self.synchronous,
            background_checkpoints: self.checkpoints == Checkpoints::Background,
            base_dir: self.base_dir.clone(),
            protected_refs: ProtectedRefs::new(
                self.protected_refs
                    .iter()
                    .map(|pattern| pattern.trim())
                    .filter(|pattern| !pattern.is_empty()),
            ),
            lease: Duration::from_secs(self.lease_secs.unwrap_or(DEFAULT_LEASE_SECS)),
            kill: KillConfig {
                signal: self.kill_signal.clone(),
                grace: self.kill_grace_secs.map(Duration::from_secs),
                timeout: Duration::from_secs(self.kill_timeout_secs),
            },
            runtime,
        }
    }

    /// Opens the ledger for a subcommand. Only `create` may make a new
    /// file: any other command on a missing path would leave an empty
    /// ledger behind and then report that the run does not exist.
    pub fn open(&self, access: Access) -> Result<Runs, CliError> {
        if access != Access::Create && !exists(&self.db) {
            return Err(CliError::NoDatabase {
                path: self.db.clone(),
            });
        }
        Ok(Runs::open_with(&self.db, self.config(access))?)
    }
}

fn exists(path: &Path) -> bool {
    path.as_os_str().is_empty() || path.try_exists().unwrap_or(true)
}

fn parse_runtime(value: &str) -> Result<RuntimeChoice, String> {
    match value {
        "docker" => Ok(RuntimeChoice::Docker),
        "record-only" => Ok(RuntimeChoice::RecordOnly),
        socket if socket.starts_with("unix:///") || socket.starts_with('/') => {
            Ok(RuntimeChoice::DockerAt(socket.to_owned()))
        }
        _ => Err("expected docker, record-only, or a unix:///path socket address".to_owned()),
    }
}

fn parse_signal(value: &str) -> Result<String, String> {
    KillConfig::validate_signal(value)
        .map(|()| value.to_owned())
        .map_err(|_| "expected a signal name such as SIGKILL or SIGTERM, or its number".to_owned())
}

fn parse_checkpoints(value: &str) -> Result<Checkpoints, String> {
    match value {
        "background" => Ok(Checkpoints::Background),
        "inline" => Ok(Checkpoints::Inline),
        _ => Err("expected background or inline".to_owned()),
    }
}

fn parse_synchronous(value: &str) -> Result<Synchronous, String> {
    value
        .parse()
        .map_err(|_| "expected off, normal, full or extra".to_owned())
}
